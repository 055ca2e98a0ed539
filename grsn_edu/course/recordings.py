"""One episode of a trained agent, recorded step by step: what the environment did and what the core did.

:func:`record_episode` runs an agent (a :class:`~grsn_edu.rl.agents.RecurrentActorCritic`) for one episode and
keeps, for every environment step t,

* the **true** CartPole state (cart position and velocity, pole angle and angular velocity, read from
  ``env.unwrapped.state``), also the parts the agent does not observe;
* the observation the agent received, its action, the probability it gave to pushing right, the reward;
* the policy core's internals recorded by a :class:`~grsn_edu.snn.trace.Trace` (spikes, membrane, forget gate,
  gated current ... whatever the core records), one row per spiking update;
* optionally, rendered frames (``render_mode="rgb_array"``).

Example:
    >>> import torch
    >>> from grsn_edu.rl.agents import RecurrentActorCritic
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> agent = RecurrentActorCritic(obs_size=2, n_actions=2, core="grsn", hidden_size=8)
    >>> episode = record_episode(agent, "CartPole-V", seed=0, max_steps=20)
    >>> episode.length == len(episode.steps), episode.internals["spk"].shape[1:]
    (True, (8,))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from grsn_edu.envs.gym_tasks import make_env
from grsn_edu.envs.spread import make_marl_env, spread_world
from grsn_edu.rl.episodes import play_parallel_episode, play_vector_episodes
from grsn_edu.rl.team import AgentNetwork, TeamActor, env_sizes
from grsn_edu.snn.trace import Trace
from grsn_edu.util.validation import check_int

__all__ = ["STATE_NAMES", "quiet_pygame", "Episode", "record_episode", "balancing_action", "scripted_episode",
           "aliased_pair", "TeamEpisode", "record_team_episode"]


#: The four numbers of CartPole's state, in the order of ``env.unwrapped.state``.
STATE_NAMES = ("cart_position", "cart_velocity", "pole_angle", "pole_velocity")

def quiet_pygame() -> None:
    """Point SDL at its dummy audio and video drivers, so rendering works headless without ALSA/X11 warnings.

    Must run before pygame is first imported (Gymnasium imports it on the first ``render()``); variables the
    user has already set are left alone.
    """
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

@dataclass
class Episode:
    """One recorded episode. T = number of environment steps (decisions), S = spiking updates per decision.

    Attributes:
        env_id: the environment.
        seed: the ``reset`` seed.
        steps: DataFrame with one row per environment step t = 0 ... T-1: ``t``, the true state before the
            action (:data:`STATE_NAMES`), ``obs_0 ... obs_{O-1}`` (the observation the agent received),
            ``action`` (0 = push left, 1 = push right), ``p_right`` (the policy's probability of action 1),
            ``value`` (the critic's estimate) and ``reward``.
        internals: the policy core's :class:`~grsn_edu.snn.trace.Trace` records with the batch dimension removed:
            ``{name: array (T * S, ...)}``, e.g. ``spk`` ``(T * S, H)``; row ``t * S + k`` is sub-step k of
            decision t. Empty for a core that records nothing.
        substeps: S (1 under TAP).
        threshold: the spiking core's firing threshold (NaN for a non-spiking core), to express the membrane
            in threshold units.
        frames: rendered RGB frames ``(F, height, width, 3)`` uint8, or None when not rendered.
        frame_steps: ``(F,)`` the environment step each frame shows (the state before that step's action).
        terminated: True when the pole fell or the cart left the track; False when the time limit ended it.
    """

    env_id: str
    seed: int
    steps: pd.DataFrame
    internals: dict[str, np.ndarray]
    substeps: int = 1
    threshold: float = float("nan")
    frames: np.ndarray | None = None
    frame_steps: np.ndarray | None = None
    terminated: bool = False
    greedy: bool = True
    info: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        """T, the number of environment steps."""
        return len(self.steps)

    @property
    def episode_return(self) -> float:
        """The sum of rewards (for CartPole: the number of steps the pole stayed up)."""
        return float(self.steps["reward"].sum())

    def per_decision(self, name: str) -> np.ndarray:
        """``internals[name]`` reshaped to ``(T, S, ...)``: the S spiking updates of each decision."""
        values = self.internals[name]
        return values.reshape(self.length, self.substeps, *values.shape[1:])

    def as_trace(self) -> Trace:
        """The policy core's records as a :class:`~grsn_edu.snn.trace.Trace` (batch of 1), e.g. for
        :func:`grsn_edu.snn.energy.ops_from_trace` ``(agent.core, episode.as_trace(), decisions=episode.length)``."""
        trace = Trace()
        for name, values in self.internals.items():
            trace.put(name, torch.as_tensor(values).unsqueeze(1))
        return trace

    def firing_rate(self) -> float:
        """Fraction of hidden units that spiked, averaged over all spiking updates (NaN without spikes)."""
        return float(self.internals["spk"].mean()) if "spk" in self.internals else float("nan")

def _core_threshold(core) -> float:
    inner = getattr(core, "inner", core)
    return float(getattr(inner, "threshold", float("nan"))) if core.spiking else float("nan")

@torch.no_grad()
def record_episode(
    agent,
    env_id: str,
    seed: int = 0,
    render: bool | int = False,
    max_steps: int = 500,
    greedy: bool = True,
    previous_action: bool = False,
) -> Episode:
    """Run ``agent`` for one episode of ``env_id`` and record everything, step by step.

    The agent acts as in evaluation (:func:`grsn_edu.rl.ppo.evaluate`, the same episode loop
    :func:`grsn_edu.rl.episodes.play_vector_episodes` with one environment): one core call with T = 1 per step,
    the core's state carried from step to step (a non-TAP core runs its S sub-steps inside that call). The value
    core runs beside the policy to record the critic's estimate. The observation normalizer is not updated.

    Args:
        agent: a :class:`~grsn_edu.rl.agents.RecurrentActorCritic` (e.g. from :func:`grsn_edu.rl.ppo.load_agent`).
        env_id: e.g. ``"CartPole-V"``; must match the agent's observation size.
        seed: the environment's ``reset`` seed (and the action sampler's, when ``greedy=False``).
        render: False for no frames; True for a frame at every step; an int k for a frame at every k-th step
            (a 500-step episode at full size is 360 MB of frames, so choose k > 1 for long episodes).
        max_steps: stop after this many steps even if the episode goes on (the registered ids end at 500).
        greedy: argmax action (True, as in evaluation) or a sample from the policy (False).
        previous_action: as the agent was trained (its config's): a one-hot of the previous action appended to the
            observation.

    Returns:
        An :class:`Episode`; ``episode.steps`` has T rows, ``episode.internals[name]`` has T * S rows.
    """
    max_steps = check_int("max_steps", max_steps)
    every = _frame_every(render)
    if every:
        quiet_pygame()
    envs = gym.vector.SyncVectorEnv([lambda: make_env(env_id, render_mode="rgb_array" if every else None,
                                                      previous_action=previous_action)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    env = envs.envs[0]
    obs_size = envs.single_observation_space.shape[0]
    if obs_size != agent.obs_size:
        envs.close()
        raise ValueError(f"{env_id} gives {obs_size} observation features but the agent takes {agent.obs_size}: "
                         "pass the environment the agent was trained on, and previous_action as its config has it")
    sampler = torch.Generator().manual_seed(seed)
    obs, _ = envs.reset(seed=[seed])
    state = agent.initial_state(1)
    trace = Trace()
    rows, frames, frame_steps = [], [], []

    def act(obs):  # records the world as the agent decides, then what it decided
        nonlocal state
        t = len(rows)
        if every and t % every == 0:
            frames.append(env.render())
            frame_steps.append(t)
        row = {"t": t, **dict(zip(STATE_NAMES, np.asarray(env.unwrapped.state, dtype=np.float64).tolist()))}
        logits, value, state = agent(torch.as_tensor(obs, dtype=torch.float32)[None], state, trace=trace)
        probs = torch.softmax(logits[0, 0], -1)
        action = int(probs.argmax()) if greedy else int(torch.multinomial(probs, 1, generator=sampler))
        row.update({f"obs_{i}": float(v) for i, v in enumerate(np.asarray(obs).ravel())})
        row.update({"action": action, "p_right": float(probs[1]), "value": float(value[0, 0])})
        rows.append(row)
        return np.array([action])

    terminated = False

    def outcome(step):
        nonlocal terminated
        rows[-1]["reward"] = float(step.rewards[0])
        terminated = bool(step.terminated[0])

    play_vector_episodes(envs, act, obs, on_step=outcome, max_steps=max_steps)
    envs.close()
    internals = {name: values[:, 0].numpy() for name, values in trace.as_dict().items()}
    return Episode(
        env_id=env_id,
        seed=seed,
        steps=pd.DataFrame(rows),
        internals=internals,
        substeps=int(agent.core.substeps),
        threshold=_core_threshold(agent.core),
        frames=np.stack(frames) if frames else None,
        frame_steps=np.asarray(frame_steps) if frames else None,
        terminated=terminated,
        greedy=greedy,
    )


def _frame_every(render: bool | int) -> int:
    """A frame every k steps: ``render`` True is k = 1, False is 0 (no frames)."""
    every = int(render) if not isinstance(render, bool) else (1 if render else 0)
    if every < 0:
        raise ValueError(f"render must be a bool or an int k >= 1 (a frame every k steps), got {render!r}")
    return every

def balancing_action(state) -> int:
    """A hand-written controller that sees the *full* state: push towards where the pole is falling.

    Pushes right (1) when ``angle + 0.5 * angular velocity + 0.01 * cart velocity`` is positive, else left (0).
    It is not a learned agent: it only makes long, natural-looking CartPole episodes to look at (it usually
    balances for hundreds of steps).
    """
    x, x_dot, theta, theta_dot = (float(v) for v in state)
    return int(theta + 0.5 * theta_dot + 0.01 * x_dot > 0)

def scripted_episode(env_id: str, seed: int = 0, policy: str = "balance", max_steps: int = 500):
    """One episode driven by a scripted policy, with the observations and the true state at every step.

    Args:
        env_id: e.g. ``"CartPole-V"`` (the observations are that environment's; the policy may read the state).
        seed: the ``reset`` seed (and the random policy's seed).
        policy: ``"balance"`` (:func:`balancing_action`, reads the true state) or ``"random"`` (uniform actions).
        max_steps: at most this many steps.

    Returns:
        ``(observations, states, actions)``: ``(T, O)`` float32 as the agent would see them, ``(T, 4)`` float64
        true states at the same steps (before the action), ``(T,)`` int actions.
    """
    if policy not in ("balance", "random"):
        raise ValueError(f"policy must be 'balance' or 'random', got {policy!r}")
    env = make_env(env_id)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    observations, states, actions = [], [], []
    for _ in range(max_steps):
        state = np.array(env.unwrapped.state, dtype=np.float64)
        action = balancing_action(state) if policy == "balance" else int(env.action_space.sample())
        observations.append(np.asarray(obs))
        states.append(state)
        actions.append(action)
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    env.close()
    return np.stack(observations), np.stack(states), np.asarray(actions)

def aliased_pair(states, observed, actions, tolerance: float = 0.02, max_points: int = 2000, seed: int = 0):
    """Two moments that look the same to the agent but call for different actions (*perceptual aliasing*).

    Among the states, find two whose observed dimensions agree to within ``tolerance`` standard deviations
    (each dimension scaled by its spread over ``states``) while ``actions`` differ; of all such pairs, return
    the one whose hidden dimensions differ most. A policy that sees only the current observation must give both
    the same action distribution, so it gets at least one of them wrong.

    Args:
        states: ``(N, D)`` true states.
        observed: the indices of the dimensions the agent observes.
        actions: ``(N,)`` the action a full-state controller takes in each state.
        tolerance: how close the observations must be, in standard deviations.
        max_points: compare at most this many states (a random subset, seeded), as all pairs are compared.
        seed: the subset's seed.

    Returns:
        ``(i, j)`` indices into ``states``, or None if no pair qualifies.

    Example:
        >>> import numpy as np
        >>> states = np.array([[0.0, 1.0], [0.001, -1.0], [0.5, 1.0]])
        >>> aliased_pair(states, observed=[0], actions=np.array([1, 0, 1]), tolerance=0.01)
        (0, 1)
    """
    states, actions = np.asarray(states, dtype=np.float64), np.asarray(actions)
    observed = list(observed)
    hidden = [d for d in range(states.shape[1]) if d not in observed]
    if not hidden:
        raise ValueError("every dimension is observed: nothing is hidden, so no two states can be confused")
    idx = np.arange(len(states))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_points, replace=False))
    scale = states.std(0)
    scale[scale == 0] = 1.0
    z = states[idx] / scale
    seen = np.sqrt(((z[:, None, observed] - z[None, :, observed]) ** 2).sum(-1))
    unseen = np.abs(z[:, None, hidden] - z[None, :, hidden]).max(-1)
    candidates = (seen < tolerance) & (actions[idx][:, None] != actions[idx][None, :])
    if not candidates.any():
        return None
    i, j = np.unravel_index(np.where(candidates, unseen, -np.inf).argmax(), unseen.shape)
    i, j = sorted((int(idx[i]), int(idx[j])))
    return i, j

# -- recording one team episode (notebook 10) ---------------------------------------------------------------------
@dataclass
class TeamEpisode:
    """One recorded greedy episode of a team. T = decisions (environment steps), N = agents, S = spiking
    updates per decision, H = hidden units per agent.

    Attributes:
        env_id, seed: the task and its ``reset`` seed.
        actions: ``(T, N)`` each agent's action (0 no-op, 1 left, 2 right, 3 down, 4 up).
        rewards: ``(T, N)`` each agent's reward; the team reward of a step is the sum over agents.
        agent_pos: ``(T + 1, N, 2)`` agent positions before each step (and after the last).
        landmark_pos: ``(N_landmarks, 2)`` landmark positions (they do not move).
        spikes: ``(T * S, N, H)`` the agents' spikes (row ``t * S + k`` is sub-step k of decision t), or None
            for a non-spiking core.
        substeps: S (1 under TAP).
        frames: ``(F, height, width, 3)`` uint8 rendered frames, or None when not rendered.
        frame_steps: ``(F,)`` the step each frame shows (frame at step t: before the actions of step t; the
            last may be T, after the final step).
    """

    env_id: str
    seed: int
    actions: np.ndarray
    rewards: np.ndarray
    agent_pos: np.ndarray
    landmark_pos: np.ndarray
    spikes: np.ndarray | None = None
    substeps: int = 1
    frames: np.ndarray | None = None
    frame_steps: np.ndarray | None = None

    @property
    def length(self) -> int:
        """T, the number of decisions each agent made."""
        return len(self.actions)

    @property
    def team_return(self) -> float:
        """The team return: rewards summed over agents and over the episode's steps."""
        return float(self.rewards.sum())

    def spikes_per_decision(self) -> np.ndarray:
        """``(N,)`` spikes of each agent per decision: all its units, all S sub-steps (NaN without spikes)."""
        if self.spikes is None:
            return np.full(self.actions.shape[1], np.nan)
        return self.spikes.sum(axis=(0, 2)) / self.length

    def firing_rate(self) -> np.ndarray:
        """``(N,)`` fraction of each agent's units that spiked, averaged over its spiking updates."""
        if self.spikes is None:
            return np.full(self.actions.shape[1], np.nan)
        return self.spikes.mean(axis=(0, 2))

def _positions(env) -> tuple[np.ndarray, np.ndarray]:
    """``(agent positions (N, 2), landmark positions (L, 2))`` from the true world of a spread task."""
    world = spread_world(env)
    return (np.array([a.state.p_pos for a in world.agents], dtype=np.float64),
            np.array([lm.state.p_pos for lm in world.landmarks], dtype=np.float64))

def record_team_episode(net: AgentNetwork, env_id: str, seed: int = 0, render: bool | int = False) -> TeamEpisode:
    """Play one greedy episode of ``env_id`` with a trained team and record what each agent did and spent.

    The agents act as in :func:`~grsn_edu.rl.team.evaluate_marl` (each takes the argmax of its own outputs: Q_i
    for QMIX and VDN, the policy's logits for MAPPO; the shared network's state carried from step to step, one
    core call per step: :class:`~grsn_edu.rl.team.TeamActor`, played by
    :func:`~grsn_edu.rl.episodes.play_parallel_episode`); only decentralised execution is needed, no mixer or
    critic.

    Args:
        net: an :class:`AgentNetwork` (e.g. from :func:`grsn_edu.rl.marl.load_marl_agent`, any algorithm); its
            sizes must match the task.
        env_id: one of :data:`grsn_edu.envs.spread.MARL_IDS`.
        seed: the environment's ``reset`` seed.
        render: False for no frames; True for a frame at every step (and after the last); an int k for every
            k-th step. A frame is 700 x 700 x 3 bytes (1.5 MB).

    Returns:
        A :class:`TeamEpisode`.

    Example:
        >>> net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="lif", hidden_size=8)
        >>> ep = record_team_episode(net, "spread_memory", seed=0)
        >>> ep.actions.shape, ep.spikes.shape, ep.spikes_per_decision().shape
        ((25, 3), (25, 3, 8), (3,))
    """
    every = _frame_every(render)
    env = make_marl_env(env_id, render_mode="rgb_array" if every else None)  # unknown ids raise here
    agents, obs_size, n_actions, _ = env_sizes(env)
    N = len(agents)
    if (obs_size, N, n_actions) != (net.obs_size, net.n_agents, net.n_actions):
        env.close()
        raise ValueError(f"the network expects {net.n_agents} agents with {net.obs_size} observations and "
                         f"{net.n_actions} actions, but {env_id} has {N}, {obs_size} and {n_actions}: load an agent "
                         "trained on this task")
    obs, _ = env.reset(seed=seed)
    actor = TeamActor(net, agents, trace=Trace() if net.core.spiking else None)
    pos, landmarks = _positions(env)
    actions, rewards, positions = [], [], [pos]
    frames, frame_steps = ([env.render()], [0]) if every else ([], [])

    def record(step):  # env shows the world after the step
        actions.append(actor.actions.numpy().copy())
        rewards.append([float(step.rewards[a]) for a in agents])
        positions.append(_positions(env)[0])
        if every and (step.t + 1) % every == 0:
            frames.append(env.render())
            frame_steps.append(step.t + 1)

    _, steps = play_parallel_episode(env, actor, obs, on_step=record)
    if every and frame_steps[-1] != steps:
        frames.append(env.render())  # where the team ended up
        frame_steps.append(steps)
    env.close()
    spikes = actor.trace["spk"].numpy() if actor.trace is not None else None  # (T*S, N, H): the batch is the N agents
    return TeamEpisode(env_id=env_id, seed=seed, actions=np.array(actions), rewards=np.array(rewards),
                       agent_pos=np.array(positions), landmark_pos=landmarks, spikes=spikes,
                       substeps=net.core.substeps, frames=np.array(frames) if every else None,
                       frame_steps=np.array(frame_steps) if every else None)
