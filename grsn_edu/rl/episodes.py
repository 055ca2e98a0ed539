"""Playing episodes: one loop for a batch of Gymnasium environments, one for a PettingZoo Parallel environment.

Every place that plays whole episodes (greedy evaluation, energy per decision, recording an episode, training
episodes of QMIX, scripted baselines) calls one of these two loops with its own *policy* (observations ->
actions) and, to see each step, a *hook* ``on_step(step)`` called right after every environment step.

The caller resets the environment (it chooses the seeds and may look at the world before the first action) and
passes the observations ``reset`` returned; the loop does not close the environment, so the world after the last
step can be read too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["VectorStep", "play_vector_episodes", "ParallelStep", "play_parallel_episode", "parallel_env_sizes"]


@dataclass
class VectorStep:
    """One step of :func:`play_vector_episodes`. B = environments.

    Attributes:
        t: the step, from 0.
        obs: ``(B, O)`` the observations the actions were chosen on.
        actions: ``(B,)`` the actions taken.
        rewards: ``(B,)`` the rewards of this step.
        next_obs: ``(B, O)`` the observations after it (the first of a new episode where one ended: autoreset).
        terminated, truncated: ``(B,)`` bool, the episode ended at this step (failure / time limit).
        alive: ``(B,)`` bool, the environment was still in its first episode when acting: the steps that count.
    """

    t: int
    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    alive: np.ndarray


def play_vector_episodes(envs, policy: Callable[[np.ndarray], np.ndarray], obs: np.ndarray,
                         on_step: Callable[[VectorStep], None] | None = None,
                         max_steps: int | None = None) -> np.ndarray:
    """Play one episode in each environment of a Gymnasium vector env, all stepping together.

    Each environment counts until the end of its first episode; it keeps stepping (autoreset) while the others
    finish, but its later rewards are not counted (``step.alive`` says which steps count).

    Args:
        envs: a vector env, just reset.
        policy: ``policy(obs (B, O)) -> actions (B,)``, called once per step (a recurrent policy carries its state).
        obs: ``(B, O)``, what ``envs.reset`` returned.
        on_step: called with a :class:`VectorStep` after every step.
        max_steps: stop after this many steps even if some episodes go on (None: until all have ended).

    Returns:
        ``(B,)`` the return of each environment's first episode.

    Example:
        >>> import numpy as np
        >>> from grsn_edu.envs.gym_tasks import make_vector_env
        >>> envs = make_vector_env("CartPole-v1", 3, seed=0)
        >>> obs, _ = envs.reset(seed=[0, 1, 2])
        >>> steps = []
        >>> always_left = lambda obs: np.zeros(len(obs), dtype=int)
        >>> play_vector_episodes(envs, always_left, obs, on_step=steps.append).tolist()
        [11.0, 10.0, 9.0]
        >>> len(steps), steps[-1].alive.tolist()   # the loop ran until the longest episode ended
        (11, [True, False, False])
    """
    returns = np.zeros(len(obs))
    alive = np.ones(len(obs), dtype=bool)
    t = 0
    while alive.any() and (max_steps is None or t < max_steps):
        actions = policy(obs)
        next_obs, rewards, terminated, truncated, _ = envs.step(actions)
        if on_step is not None:
            on_step(VectorStep(t, obs, actions, rewards, next_obs, terminated, truncated, alive.copy()))
        returns += rewards * alive
        alive &= ~(terminated | truncated)
        obs, t = next_obs, t + 1
    return returns


@dataclass
class ParallelStep:
    """One step of :func:`play_parallel_episode`: dicts keyed by agent name, as the PettingZoo Parallel API gives.

    Attributes:
        t: the step, from 0.
        obs: the observations the actions were chosen on.
        actions, rewards: the agents' actions and rewards at this step.
        next_obs: the observations after it (empty if the environment returned none).
        terminations, truncations: whether each agent's episode ended at this step.
    """

    t: int
    obs: dict
    actions: dict
    rewards: dict
    next_obs: dict
    terminations: dict
    truncations: dict


def play_parallel_episode(env, policy: Callable[[dict], dict], obs: dict,
                          on_step: Callable[[ParallelStep], None] | None = None,
                          max_steps: int | None = None) -> tuple[float, int]:
    """Play one episode of a PettingZoo Parallel environment to its end.

    The episode ends when an agent terminates, when every agent is truncated, when the environment has no agents
    left, or after ``max_steps`` steps.

    Args:
        env: a Parallel env, just reset.
        policy: ``policy(obs dict) -> actions dict``, called once per step. A scripted policy that reads the
            world instead of the observations can ignore its argument (``lambda obs: controller(env)``).
        obs: what ``env.reset`` returned.
        on_step: called with a :class:`ParallelStep` after every step (``env`` then shows the world after it).
        max_steps: at most this many steps (None: until the episode ends).

    Returns:
        ``(team return, steps)``: the rewards summed over agents and steps, and the number of steps.

    Example:
        >>> from grsn_edu.envs.spread import make_marl_env
        >>> env = make_marl_env("simple_spread")
        >>> obs, _ = env.reset(seed=0)
        >>> team_return, steps = play_parallel_episode(env, lambda obs: {a: 0 for a in env.agents}, obs)
        >>> steps, team_return < 0
        (25, True)
    """
    team_return, t = 0.0, 0
    while env.agents and (max_steps is None or t < max_steps):
        actions = policy(obs)
        next_obs, rewards, terminations, truncations, _ = env.step(actions)
        team_return += float(sum(rewards.values()))
        if on_step is not None:
            on_step(ParallelStep(t, obs, actions, rewards, next_obs, terminations, truncations))
        obs, t = next_obs, t + 1
        if any(terminations.values()) or all(truncations.values()):
            break
    return team_return, t


def parallel_env_sizes(env) -> tuple[list[str], int, int, int]:
    """``(agents, observation size, number of actions, global state size)`` of a Parallel env (resets it).

    Every agent is assumed to have the same observation and action spaces as the first.
    """
    env.reset(seed=0)
    agents = list(env.possible_agents)
    obs_size = env.observation_space(agents[0]).shape[0]
    n_actions = int(env.action_space(agents[0]).n)
    state_size = int(np.prod(env.state().shape))
    return agents, obs_size, n_actions, state_size
