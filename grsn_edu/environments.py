"""Partially observable environments: Gymnasium wrappers and registered ids.

* :class:`KeepDims` keeps chosen dimensions of any Box observation (and declares the new space exactly).
* :class:`Flicker` blanks the whole observation with a given probability each step (a memory test that a
  memoryless policy cannot pass by reading velocities).
* Registered ids (importing :mod:`grsn_edu` registers them), all CartPole-v1 dynamics with 500-step episodes:

  ===============  ===========================================  ================================
  id               observation                                  why
  ===============  ===========================================  ================================
  ``CartPole-F``   all 4: x, x_dot, theta, theta_dot            fully observable reference
  ``CartPole-P``   dims [0, 2]: cart position, pole angle       velocities must be inferred
  ``CartPole-V``   dims [1, 3]: cart velocity, pole ang. vel.   positions must be integrated
  ``CartPole-VF``  dims [1, 3], blanked with probability 0.2    velocities must be remembered
  ===============  ===========================================  ================================

Example:
    >>> import gymnasium as gym
    >>> import grsn_edu.environments  # registers the ids
    >>> env = gym.make("CartPole-P")
    >>> env.observation_space.shape
    (2,)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape
    (2,)
"""

from __future__ import annotations

import itertools

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry

__all__ = ["KeepDims", "Flicker", "POMDP_IDS", "make_env", "make_vector_env", "MARL_IDS", "SpreadMemoryEnv", "make_marl_env",
           "spread_world", "spread_controller_actions",
           "spread_formation_actions", "FORMATION_POINTS"]

#: The partially observable CartPole ids registered here, with the dims they keep and the flicker probability.
POMDP_IDS = {
    "CartPole-F": {"dims": (0, 1, 2, 3), "flicker": 0.0},
    "CartPole-P": {"dims": (0, 2), "flicker": 0.0},
    "CartPole-V": {"dims": (1, 3), "flicker": 0.0},
    "CartPole-VF": {"dims": (1, 3), "flicker": 0.2},
}


class KeepDims(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Keep only the chosen dimensions of a 1-D Box observation.

    The new ``observation_space`` is the Box of the kept dimensions, with their own bounds and the original
    dtype, so ``gymnasium.utils.env_checker.check_env`` passes.

    Args:
        env: an environment with a 1-D ``Box`` observation space.
        dims: indices to keep, in the order given (non-empty, unique, in range).

    Example:
        >>> import gymnasium as gym
        >>> env = KeepDims(gym.make("CartPole-v1"), dims=[1, 3])
        >>> env.observation_space.shape, env.dims
        ((2,), (1, 3))
    """

    def __init__(self, env: gym.Env, dims: Sequence[int]):
        gym.utils.RecordConstructorArgs.__init__(self, dims=tuple(dims))
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"KeepDims needs a 1-D Box observation space, got {space}")
        dims = tuple(dims)
        n = space.shape[0]
        if not dims:
            raise ValueError("dims must name at least one observation dimension")
        if any(not isinstance(d, (int, np.integer)) or isinstance(d, bool) for d in dims):
            raise ValueError(f"dims must be integers, got {dims}")
        if any(d < 0 or d >= n for d in dims):
            raise ValueError(f"dims must lie in [0, {n - 1}] for this {n}-dimensional observation, got {dims}")
        if len(set(dims)) != len(dims):
            raise ValueError(f"dims must not repeat, got {dims}")
        self.dims = tuple(int(d) for d in dims)
        idx = np.array(self.dims)
        self.observation_space = gym.spaces.Box(space.low[idx], space.high[idx], dtype=space.dtype)

    def observation(self, observation):
        return observation[list(self.dims)]


class Flicker(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """With probability ``p`` each step, replace the whole observation by zeros.

    The blanks come from the environment's own ``np_random`` generator, so they are reproducible from the
    ``reset(seed=...)`` seed. Zero lies inside CartPole's observation bounds, so the space is unchanged.

    Example:
        >>> import gymnasium as gym
        >>> env = Flicker(gym.make("CartPole-v1"), p=1.0)
        >>> obs, _ = env.reset(seed=0)
        >>> obs.tolist()
        [0.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, env: gym.Env, p: float):
        gym.utils.RecordConstructorArgs.__init__(self, p=p)
        gym.ObservationWrapper.__init__(self, env)
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"the flicker probability p must lie in [0, 1], got {p}")
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or not space.contains(np.zeros(space.shape, dtype=space.dtype)):
            raise ValueError("Flicker needs a Box observation space that contains the all-zero observation")
        self.p = float(p)

    def observation(self, observation):
        if self.p > 0.0 and self.unwrapped.np_random.random() < self.p:
            return np.zeros_like(observation)
        return observation


def _make_pomdp_cartpole(dims, flicker: float = 0.0, render_mode=None):
    env = KeepDims(gym.make("CartPole-v1", render_mode=render_mode).unwrapped, dims)
    if flicker > 0.0:
        env = Flicker(env, flicker)
    return env


for _env_id, _cfg in POMDP_IDS.items():
    if _env_id not in registry:
        register(
            id=_env_id,
            entry_point="grsn_edu.environments:_make_pomdp_cartpole",
            max_episode_steps=500,
            reward_threshold=475.0,
            kwargs={"dims": _cfg["dims"], "flicker": _cfg["flicker"]},
        )


def make_env(env_id: str, render_mode: str | None = None) -> gym.Env:
    """``gymnasium.make`` with a helpful error for an unknown id.

    Args:
        env_id: one of :data:`POMDP_IDS` or any registered Gymnasium id.
        render_mode: e.g. ``"rgb_array"`` for frames.
    """
    if env_id not in registry:
        known = ", ".join(POMDP_IDS)
        raise ValueError(
            f"unknown environment id {env_id!r}; this course registers {known} "
            "(and any Gymnasium id such as CartPole-v1 works)"
        )
    return gym.make(env_id, render_mode=render_mode)


def make_vector_env(env_id: str, num_envs: int, seed: int) -> gym.vector.SyncVectorEnv:
    """``num_envs`` copies of ``env_id`` in one synchronous vector env, seeded ``seed, seed+1, ...``.

    Uses same-step autoreset: when an episode ends, the observation returned with it is already the first of the
    next episode (the last one is in ``info["final_obs"]``), so every step's action is a real decision.
    """
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    make_env(env_id).close()  # validate the id with a clear message before building copies
    envs = gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    envs.reset(seed=[seed + i for i in range(num_envs)])
    envs.action_space.seed(seed)
    return envs


# -- cooperative multi-agent tasks (PettingZoo Parallel API) --------------------------------------------------------

#: Multi-agent task ids: ``simple_spread`` (mpe2 simple_spread_v3, N=3 agents and landmarks, 25 steps, discrete
#: actions) and ``spread_memory`` (the same, but each agent sees the landmarks only on the first step).
MARL_IDS = ("simple_spread", "spread_memory")


def _quiet_pygame() -> None:
    """mpe2 imports pygame; without these, SDL prints ALSA and XDG errors on a machine with no sound or screen."""
    import os

    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


try:  # PettingZoo's base class; imported here so the memory task below is a real ParallelEnv
    from pettingzoo.utils.env import ParallelEnv as _ParallelEnv
except ImportError:  # pragma: no cover - pettingzoo is a declared dependency
    _ParallelEnv = object


class SpreadMemoryEnv(_ParallelEnv):
    """Cooperative navigation that needs memory: simple_spread where landmarks are seen only at the start.

    The world, rewards and actions are mpe2's ``simple_spread_v3`` (N agents must cover N landmarks without
    colliding; discrete actions: no-op, left, right, down, up). Each agent's observation is
    ``[self_vel (2), self_pos (2), landmark_rel_pos (2N), other_agents_rel_pos (2(N-1)), comm (2(N-1))]``;
    here ``landmark_rel_pos`` is zeroed from step ``visible_steps`` on. An agent must remember where the
    landmarks were (relative to where it was) and track its own motion: a memoryless policy cannot.
    ``state()`` (for a centralised critic or mixer in training) is the full, unmasked state.

    Args:
        N: agents (= landmarks).
        max_cycles: steps per episode.
        visible_steps: observations (counting the one from ``reset``) that show the landmarks.
        local_ratio: mpe2's weight of the local (collision) reward vs the global (coverage) reward.
        render_mode: ``None`` or ``"rgb_array"``.

    Example:
        >>> env = SpreadMemoryEnv(N=3)
        >>> obs, infos = env.reset(seed=0)
        >>> bool(obs["agent_0"][4:10].any())
        True
        >>> obs, *_ = env.step({a: 0 for a in env.agents})
        >>> bool(obs["agent_0"][4:10].any())
        False
    """

    metadata = {"name": "spread_memory_v0", "render_modes": ["rgb_array"], "is_parallelizable": True, "render_fps": 10}

    def __init__(self, N: int = 3, max_cycles: int = 25, visible_steps: int = 1, local_ratio: float = 0.5,
                 render_mode: str | None = None):
        _quiet_pygame()
        from mpe2 import simple_spread_v3

        if not isinstance(N, int) or N < 1:
            raise ValueError(f"N must be a positive int, got {N!r}")
        if not isinstance(visible_steps, int) or visible_steps < 0:
            raise ValueError(f"visible_steps must be an int >= 0, got {visible_steps!r}")
        self._env = simple_spread_v3.parallel_env(N=N, max_cycles=max_cycles, local_ratio=local_ratio,
                                                  continuous_actions=False, render_mode=render_mode)
        self.N, self.visible_steps, self.render_mode = N, visible_steps, render_mode
        self.possible_agents = list(self._env.possible_agents)
        self._landmarks = slice(4, 4 + 2 * N)
        self._t = 0

    @property
    def agents(self):
        return self._env.agents

    @property
    def max_cycles(self):
        return self._env.unwrapped.max_cycles if hasattr(self._env.unwrapped, "max_cycles") else self._env.max_cycles

    @max_cycles.setter
    def max_cycles(self, value):  # pettingzoo's parallel_api_test sets it
        self._env.unwrapped.max_cycles = value

    def observation_space(self, agent):
        return self._env.observation_space(agent)

    def action_space(self, agent):
        return self._env.action_space(agent)

    @property
    def state_space(self):
        return self._env.state_space

    def _mask(self, obs):
        if self._t < self.visible_steps:
            return obs
        out = {}
        for agent, o in obs.items():
            o = o.copy()
            o[self._landmarks] = 0.0
            out[agent] = o
        return out

    def reset(self, seed=None, options=None):
        self._t = 0
        obs, infos = self._env.reset(seed=seed, options=options)
        return self._mask(obs), infos

    def step(self, actions):
        obs, rewards, terms, truncs, infos = self._env.step(actions)
        self._t += 1
        return self._mask(obs), rewards, terms, truncs, infos

    def state(self):
        return self._env.state()

    def render(self):
        return self._env.render()

    def close(self):
        self._env.close()


def make_marl_env(env_id: str, render_mode: str | None = None):
    """A cooperative multi-agent task by id (PettingZoo Parallel API), with N=3 agents and 25 steps.

    ``simple_spread``: mpe2's simple_spread_v3 (discrete actions, local_ratio 0.5). ``spread_memory``:
    :class:`SpreadMemoryEnv` with the landmarks visible on the first observation only.
    """
    if env_id == "simple_spread":
        _quiet_pygame()
        from mpe2 import simple_spread_v3

        return simple_spread_v3.parallel_env(N=3, max_cycles=25, local_ratio=0.5, continuous_actions=False,
                                             render_mode=render_mode)
    if env_id == "spread_memory":
        return SpreadMemoryEnv(N=3, max_cycles=25, visible_steps=1, render_mode=render_mode)
    raise ValueError(f"unknown multi-agent task {env_id!r}; known tasks: {', '.join(MARL_IDS)}")


def spread_world(env):
    """The mpe2 ``World`` (agents' and landmarks' true positions and velocities) behind a ``MARL_IDS`` task."""
    inner = env.unwrapped
    if isinstance(inner, SpreadMemoryEnv):
        inner = inner._env.unwrapped
    if not hasattr(inner, "world"):
        raise TypeError(f"{type(env).__name__} is not an mpe2 spread task; make it with make_marl_env")
    return inner.world


def spread_controller_actions(env, gain: float = 5.0) -> dict:
    """A hand-written, full-state controller for the spread tasks: the reference a learned team is measured against.

    It cheats twice, by design: it reads the true positions of every agent and landmark (so the memory task's
    hidden landmarks are no obstacle), and it assigns agents to landmarks jointly (the assignment with the least
    total distance, by trying all permutations). Each agent then steers towards its landmark: the desired velocity
    is ``gain * (landmark - position)``, and the discrete action is the push along the axis with the larger
    velocity error (no-op when both errors are below 0.05). Not optimal, but a clear ceiling for N = 3.

    Returns ``{agent: action}`` for the agents still in the episode (actions: 0 no-op, 1 left, 2 right, 3 down,
    4 up).
    """
    world = spread_world(env)
    pos = np.array([a.state.p_pos for a in world.agents])
    landmarks = np.array([lm.state.p_pos for lm in world.landmarks])
    assignment = min(itertools.permutations(range(len(landmarks))),
                     key=lambda perm: sum(np.linalg.norm(pos[i] - landmarks[j]) for i, j in enumerate(perm)))
    return _steer(env, world, [landmarks[j] for j in assignment], gain)


#: The fixed points of :func:`spread_formation_actions` (agent i goes to point i), a triangle around the centre.
FORMATION_POINTS = ((0.0, 0.4), (-0.35, -0.2), (0.35, -0.2))


def spread_formation_actions(env, gain: float = 5.0) -> dict:
    """A landmark-blind controller for the spread tasks: agent i steers to a fixed point of :data:`FORMATION_POINTS`.

    It never looks at the landmarks, so it is what a team can score with no memory of them (and no coordination
    beyond the agents' ids). A learned team on ``spread_memory`` that does no better than this has not used
    what it saw at the first step. Steering as in :func:`spread_controller_actions`; N = 3 agents only.
    """
    world = spread_world(env)
    if len(world.agents) != len(FORMATION_POINTS):
        raise ValueError(f"the formation has {len(FORMATION_POINTS)} points; this world has {len(world.agents)} agents")
    return _steer(env, world, [np.array(p) for p in FORMATION_POINTS], gain)


def _steer(env, world, targets, gain: float) -> dict:
    """Discrete pushes that steer agent i towards ``targets[i]`` (see :func:`spread_controller_actions`)."""
    actions = {}
    for i, agent in enumerate(env.agents):
        state = world.agents[i].state
        error = gain * (targets[i] - state.p_pos) - state.p_vel
        axis = int(np.argmax(np.abs(error)))
        if np.abs(error).max() < 0.05:
            actions[agent] = 0
        elif axis == 0:
            actions[agent] = 1 if error[0] < 0 else 2
        else:
            actions[agent] = 3 if error[1] < 0 else 4
    return actions
