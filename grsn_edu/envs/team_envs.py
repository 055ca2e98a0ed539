"""Batches of cooperative multi-agent environments, stepped together: what the multi-agent trainers act in.

A trainer acts in ``B`` copies of one task at once, so that one call of the agent network decides for every agent
of every copy. Every batch here has the same small interface (:class:`TeamEnvBatch`), with numpy arrays in
place of PettingZoo's dicts (B copies, N agents in the order of ``possible_agents``, O observation features,
S global-state features)::

    obs, state = envs.reset(seeds)                        # (B, N, O) float32, (B, S) float32
    obs, state, rewards, terminated, truncated = envs.step(actions)   # actions (B, N) int
    # rewards (B, N) float64; terminated, truncated (B,) bool

All copies start their episode together and each plays one episode: a copy whose episode has ended is not
stepped again until the next ``reset`` (its rows of the arrays are zeros; ``ended`` says which). Two
implementations:

* :class:`ParallelEnvBatch` wraps ``B`` instances of **any PettingZoo Parallel environment** whose agents all
  share one discrete action space and one flat Box observation space. The global state (for a mixer or a
  centralised critic) is ``env.state()`` where the environment implements it; where it does not, it is the
  agents' observations concatenated in agent order (``state_source`` says which).
* :class:`VectorSpread` is the course's navigation tasks (``simple_spread``, ``spread_memory``,
  ``spread_glimpse``) written with numpy arrays over the batch: mpe2's ``simple_spread_v3`` physics, rewards and
  observations, operation for operation, so it gives the same numbers as the PettingZoo environment, bit for
  bit, for the same reset seeds and actions (the tests check it), at a small fraction of the time per step.

:func:`make_team_envs` builds a batch for a registered task id (:data:`TEAM_TASKS`) or for an environment
factory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from grsn_edu.envs.spread import (
    AGENT_RADIUS,
    DAMPING,
    DT,
    MARL_IDS,
    MAX_CYCLES,
    PUSH_FORCE,
    SPREAD_OBSERVATIONS,
    contact_force,
    make_marl_env,
)
from grsn_edu.util.validation import check_int

__all__ = ["TeamEnvBatch", "ParallelEnvBatch", "VectorSpread", "TEAM_TASKS", "register_team_task", "team_task_env",
           "make_team_envs", "check_team_env"]


class TeamEnvBatch:
    """What every batch of team environments has (see the module docstring for ``reset`` and ``step``).

    Attributes:
        agents: the agents' names (``possible_agents``), in the order of the arrays' agent axis.
        num_envs, n_agents, obs_size, n_actions, state_size: B, N, O, A, S.
        max_steps: an upper bound on an episode's length (for buffers); episodes may end sooner.
        state_source: ``"state()"`` (the environment's own global state) or ``"observations"`` (the fallback:
            the agents' observations concatenated).
        ended: ``(B,)`` bool, the copies whose episode has ended since the last ``reset``.
    """

    agents: list[str]
    num_envs: int
    n_agents: int
    obs_size: int
    n_actions: int
    state_size: int
    max_steps: int
    state_source: str
    ended: np.ndarray

    def reset(self, seeds: Sequence[int]):  # pragma: no cover - interface
        raise NotImplementedError

    def step(self, actions: np.ndarray):  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _check_actions(self, actions) -> np.ndarray:
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, self.n_agents) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"actions must be an integer array of shape (num_envs, n_agents) = "
                             f"({self.num_envs}, {self.n_agents}), got {actions.dtype} {actions.shape}")
        if actions.min() < 0 or actions.max() >= self.n_actions:
            raise ValueError(f"actions must lie in [0, {self.n_actions}), got values {actions.min()}..{actions.max()}")
        return actions

    def _check_seeds(self, seeds) -> list[int]:
        seeds = list(seeds)
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset needs one seed per environment ({self.num_envs}), got {len(seeds)}")
        return [check_int("seed", s, minimum=0) for s in seeds]


def check_team_env(env) -> tuple[list[str], int, int]:
    """``(agents, observation size, number of actions)`` of a PettingZoo Parallel env the trainers can use, or a
    ValueError that says what does not fit: agents whose spaces differ, actions that are not discrete, or
    observations that are not a flat Box."""
    from gymnasium import spaces

    agents = list(env.possible_agents)
    if not agents:
        raise ValueError(f"{type(env).__name__} has no possible_agents")
    obs_space, act_space = env.observation_space(agents[0]), env.action_space(agents[0])
    for agent in agents[1:]:
        if env.observation_space(agent) != obs_space or env.action_space(agent) != act_space:
            raise ValueError(
                f"the agents of {type(env).__name__} differ in their spaces ({agents[0]}: {obs_space}, {act_space}; "
                f"{agent}: {env.observation_space(agent)}, {env.action_space(agent)}); the trainers share one network "
                "between agents, so every agent needs the same observation and action space (pad observations "
                "and actions to a common space with a wrapper first)")
    if not isinstance(act_space, spaces.Discrete):
        raise ValueError(f"the agents of {type(env).__name__} have {act_space} actions; the trainers need discrete "
                         "actions (gymnasium.spaces.Discrete): for mpe2 tasks pass continuous_actions=False")
    if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(f"the agents of {type(env).__name__} observe {obs_space}; the trainers need a flat Box "
                         "observation (flatten it with a wrapper first)")
    return agents, int(obs_space.shape[0]), int(act_space.n)


class ParallelEnvBatch(TeamEnvBatch):
    """``num_envs`` instances of a PettingZoo Parallel environment, stepped one after the other.

    Args:
        env_fn: ``env_fn() -> ParallelEnv``, called ``num_envs`` times.
        num_envs: B.
        max_steps: the episode-length bound for buffers (default: the environment's ``max_cycles`` or
            ``max_steps`` attribute, else an error asking for it).

    Example:
        >>> from mpe2 import simple_reference_v3
        >>> envs = ParallelEnvBatch(lambda: simple_reference_v3.parallel_env(max_cycles=10), num_envs=2)
        >>> obs, state = envs.reset([0, 1])
        >>> obs.shape, state.shape, envs.n_actions, envs.state_source
        ((2, 2, 21), (2, 42), 50, 'state()')
    """

    def __init__(self, env_fn: Callable, num_envs: int, max_steps: int | None = None):
        self.num_envs = check_int("num_envs", num_envs)
        self.envs = [env_fn() for _ in range(self.num_envs)]
        self.agents, self.obs_size, self.n_actions = check_team_env(self.envs[0])
        self.n_agents = len(self.agents)
        first = self.envs[0]
        first.reset(seed=0)
        try:
            self.state_size = int(np.prod(np.shape(first.state())))
            self.state_source = "state()"
        except NotImplementedError:
            self.state_size, self.state_source = self.n_agents * self.obs_size, "observations"
        if max_steps is None:
            inner = getattr(first, "unwrapped", first)
            max_steps = getattr(inner, "max_cycles", None) or getattr(inner, "max_steps", None)
            if max_steps is None:
                raise ValueError(f"{type(first).__name__} has no max_cycles or max_steps attribute; pass max_steps, "
                                 "the longest episode it can play")
        self.max_steps = check_int("max_steps", max_steps)
        self.ended = np.ones(self.num_envs, dtype=bool)

    def _arrays(self, i: int, obs: dict) -> tuple[np.ndarray, np.ndarray]:
        o = np.zeros((self.n_agents, self.obs_size), dtype=np.float32)
        for k, agent in enumerate(self.agents):
            if agent in obs:
                o[k] = obs[agent]
        if self.state_source == "state()":
            s = np.asarray(self.envs[i].state(), dtype=np.float32).reshape(-1)
        else:
            s = o.reshape(-1)
        return o, s

    def reset(self, seeds: Sequence[int]):
        seeds = self._check_seeds(seeds)
        obs = np.zeros((self.num_envs, self.n_agents, self.obs_size), dtype=np.float32)
        state = np.zeros((self.num_envs, self.state_size), dtype=np.float32)
        for i, (env, seed) in enumerate(zip(self.envs, seeds)):
            o, _ = env.reset(seed=seed)
            obs[i], state[i] = self._arrays(i, o)
        self.ended = np.zeros(self.num_envs, dtype=bool)
        return obs, state

    def step(self, actions):
        actions = self._check_actions(actions)
        B, N = self.num_envs, self.n_agents
        obs = np.zeros((B, N, self.obs_size), dtype=np.float32)
        state = np.zeros((B, self.state_size), dtype=np.float32)
        rewards = np.zeros((B, N))
        terminated, truncated = np.zeros(B, dtype=bool), np.zeros(B, dtype=bool)
        for i, env in enumerate(self.envs):
            if self.ended[i]:
                continue
            act = {a: int(actions[i, k]) for k, a in enumerate(self.agents) if a in env.agents}
            o, r, term, trunc, _ = env.step(act)
            rewards[i] = [r.get(a, 0.0) for a in self.agents]
            terminated[i] = any(term.values())
            truncated[i] = not terminated[i] and (all(trunc.values()) or not env.agents)
            obs[i], state[i] = self._arrays(i, o)
        self.ended |= terminated | truncated
        return obs, state, rewards, terminated, truncated

    def close(self) -> None:
        for env in self.envs:
            env.close()


class VectorSpread(TeamEnvBatch):
    """mpe2's ``simple_spread_v3`` (discrete actions) for ``num_envs`` worlds at once, in numpy.

    The same world as :func:`~grsn_edu.envs.spread.make_marl_env`: N agents (radius 0.15) and N landmarks placed
    uniformly in [-1, 1]^2 at reset (the reset seed's generator draws the agents' positions, then the
    landmarks'), damping 0.25, time step 0.1, action force 5 along one axis (0 no-op, 1 left, 2 right, 3 down,
    4 up), mpe2's soft contact force between agents, reward ``0.5 * global + 0.5 * local`` per agent (global:
    minus the sum over landmarks of the nearest agent's distance; local: -1 per other agent in contact).
    Observations ``[self_vel, self_pos, landmark_rel_pos (2N), other_agents_rel_pos (2(N-1)), comm (2(N-1), zeros)]``
    and ``state()`` (all agents' observations concatenated, unmasked) are mpe2's. With ``visible_steps`` set,
    ``landmark_rel_pos`` is zeroed from that observation on (counting the one from ``reset``): the memory task.
    With ``hide_velocity`` also, ``self_vel`` is zeroed in every observation, so that momentum can't carry the
    glimpse (``spread_glimpse``; see :class:`~grsn_edu.envs.spread.SpreadMemoryEnv`).

    Args:
        num_envs: B.
        N: agents and landmarks.
        max_cycles: steps per episode.
        visible_steps: observations that show the landmarks (None: all of them, i.e. ``simple_spread``).
        local_ratio: weight of the local (collision) reward.
        hide_velocity: zero each agent's own velocity in every observation (not in the state).

    Example:
        >>> envs = VectorSpread(num_envs=4)
        >>> obs, state = envs.reset([0, 1, 2, 3])
        >>> obs.shape, state.shape
        ((4, 3, 18), (4, 54))
        >>> obs, state, rewards, terminated, truncated = envs.step(np.zeros((4, 3), dtype=int))
        >>> rewards.shape, bool(truncated.any())
        ((4, 3), False)
    """

    def __init__(self, num_envs: int, N: int = 3, max_cycles: int = MAX_CYCLES, visible_steps: int | None = None,
                 local_ratio: float = 0.5, hide_velocity: bool = False):
        self.num_envs, self.n_agents = check_int("num_envs", num_envs), check_int("N", N)
        self.max_steps = check_int("max_cycles", max_cycles)
        self.visible_steps = None if visible_steps is None else check_int("visible_steps", visible_steps, minimum=0)
        if not 0.0 <= local_ratio <= 1.0:
            raise ValueError(f"local_ratio must lie in [0, 1], got {local_ratio}")
        if not isinstance(hide_velocity, bool):
            raise ValueError(f"hide_velocity must be True or False, got {hide_velocity!r}")
        self.local_ratio, self.hide_velocity = local_ratio, hide_velocity
        self.agents = [f"agent_{i}" for i in range(N)]
        self.obs_size, self.n_actions = 4 + 2 * N + 4 * (N - 1), 5
        self.state_size, self.state_source = N * self.obs_size, "state()"
        self._others = np.array([[j for j in range(N) if j != i] for i in range(N)], dtype=int).reshape(N, N - 1)
        self._pairs = [(a, b) for a in range(N) for b in range(a + 1, N)]
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self.pos = np.zeros((self.num_envs, N, 2))
        self.vel = np.zeros((self.num_envs, N, 2))
        self.landmarks = np.zeros((self.num_envs, N, 2))
        self.t = 0
        self.ended = np.ones(self.num_envs, dtype=bool)

    def reset(self, seeds: Sequence[int]):
        seeds = self._check_seeds(seeds)
        N = self.n_agents
        for i, seed in enumerate(seeds):
            rng = np.random.default_rng(seed)  # what gymnasium's seeding.np_random(seed) builds, as mpe2 does
            draws = rng.uniform(-1, +1, (2 * N, 2))  # the agents' positions, then the landmarks'
            self.pos[i], self.landmarks[i] = draws[:N], draws[N:]
            self._rngs[i] = rng
        self.vel[:] = 0.0
        self.t = 0
        self.ended = np.zeros(self.num_envs, dtype=bool)
        return self._observe()

    def _observe(self):
        B, N = self.num_envs, self.n_agents
        landmark_rel = self.landmarks[:, None, :, :] - self.pos[:, :, None, :]  # (B, N, N, 2)
        if self.visible_steps is not None and self.t >= self.visible_steps:
            shown = np.zeros_like(landmark_rel)
        else:
            shown = landmark_rel
        other_rel = self.pos[:, self._others, :] - self.pos[:, :, None, :]  # (B, N, N-1, 2)
        comm = np.zeros((B, N, 2 * (N - 1)))

        def build(vel, landmarks):
            return np.concatenate([vel, self.pos, landmarks.reshape(B, N, -1), other_rel.reshape(B, N, -1), comm],
                                  axis=-1).astype(np.float32)

        obs = build(np.zeros_like(self.vel) if self.hide_velocity else self.vel, shown)
        masked = self.hide_velocity or shown is not landmark_rel
        state = (build(self.vel, landmark_rel) if masked else obs).reshape(B, -1)
        obs[self.ended] = 0.0
        state[self.ended] = 0.0
        return obs, state

    def step(self, actions):
        actions = self._check_actions(actions)
        if self.ended.all():
            raise RuntimeError("every episode of this batch has ended; call reset(seeds) first")
        live = ~self.ended
        force = np.zeros_like(self.pos)  # mpe2: u = +-1 on one axis, times the sensitivity 5, plus zero noise
        force[..., 0] = np.where(actions == 1, -1.0, np.where(actions == 2, 1.0, 0.0))
        force[..., 1] = np.where(actions == 3, -1.0, np.where(actions == 4, 1.0, 0.0))
        force = force * PUSH_FORCE + 0.0
        for a, b in self._pairs:  # mpe2 adds each pair's contact force in this order
            f = contact_force(self.pos[:, a] - self.pos[:, b])
            force[:, a] = f + force[:, a]
            force[:, b] = -f + force[:, b]
        pos = self.pos + self.vel * DT  # mpe2 moves with the old velocity, then updates it
        vel = self.vel * (1 - DAMPING) + (force / 1.0) * DT
        self.pos[live], self.vel[live] = pos[live], vel[live]
        self.t += 1

        to_landmark = np.sqrt(np.sum(np.square(self.pos[:, :, None, :] - self.landmarks[:, None, :, :]), axis=-1))
        nearest = to_landmark.min(axis=1)  # (B, N landmarks)
        global_reward = np.zeros(self.num_envs)
        for j in range(self.n_agents):
            global_reward = global_reward - nearest[:, j]
        gap = np.sqrt(np.sum(np.square(self.pos[:, :, None, :] - self.pos[:, None, :, :]), axis=-1))  # (B, N, N)
        contacts = (gap < 2 * AGENT_RADIUS) & ~np.eye(self.n_agents, dtype=bool)
        local = -contacts.sum(axis=1).astype(float)  # -1 per other agent in contact
        rewards = global_reward[:, None] * (1 - self.local_ratio) + local * self.local_ratio
        rewards[~live] = 0.0
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = live & (self.t >= self.max_steps)
        obs, state = self._observe()
        self.ended |= truncated
        return obs, state, rewards, terminated, truncated


#: The team tasks registered by id: ``id -> factory() of its PettingZoo Parallel env``. The course's navigation
#: tasks (:data:`~grsn_edu.envs.spread.MARL_IDS`) are here; :func:`register_team_task` adds more, and
#: :func:`make_team_envs` builds batches of them.
TEAM_TASKS: dict[str, Callable] = {env_id: (lambda env_id=env_id: make_marl_env(env_id)) for env_id in MARL_IDS}
_BUILT_IN = dict(TEAM_TASKS)  # the factories VectorSpread reproduces


def register_team_task(name: str, env_fn: Callable) -> None:
    """Register ``env_fn() -> PettingZoo ParallelEnv`` under ``name``, so configs, the command line and
    :func:`make_team_envs` can name it. Its spaces are checked now (:func:`check_team_env`)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a team task needs a non-empty name, got {name!r}")
    if not callable(env_fn):
        raise ValueError(f"env_fn must be callable (it builds the environment), got {env_fn!r}")
    env = env_fn()
    try:
        check_team_env(env)
    finally:
        env.close()
    TEAM_TASKS[name] = env_fn


def team_task_env(env_id: str):
    """A new PettingZoo Parallel env of a registered team task (rendering, scripted baselines, API tests)."""
    if env_id not in TEAM_TASKS:
        raise ValueError(f"unknown multi-agent task {env_id!r}; known tasks: {', '.join(TEAM_TASKS)} "
                         "(add one with grsn_edu.envs.team_envs.register_team_task)")
    return TEAM_TASKS[env_id]()


def make_team_envs(task: str | Callable, num_envs: int, backend: str = "auto") -> TeamEnvBatch:
    """A batch of ``num_envs`` copies of a team task.

    Args:
        task: a registered id (:data:`TEAM_TASKS`) or a factory ``() -> PettingZoo ParallelEnv``.
        num_envs: B.
        backend: ``"auto"`` (:class:`VectorSpread` for the course's navigation tasks, :data:`MARL_IDS`, else
            :class:`ParallelEnvBatch`), ``"numpy"`` (VectorSpread; only those) or ``"pettingzoo"``.
    """
    if backend not in ("auto", "numpy", "pettingzoo"):
        raise ValueError(f"backend must be auto, numpy or pettingzoo, got {backend!r}")
    if isinstance(task, str):
        team_task_env(task).close()  # a clear error for an unknown id
        if backend != "pettingzoo" and TEAM_TASKS[task] is _BUILT_IN.get(task):
            return VectorSpread(num_envs, **SPREAD_OBSERVATIONS[task])
        if backend == "numpy":
            raise ValueError(f"the numpy backend has only the built-in {', '.join(MARL_IDS)}; "
                             f"use backend='pettingzoo' for {task}")
        return ParallelEnvBatch(TEAM_TASKS[task], num_envs)
    if not callable(task):
        raise ValueError(f"task must be a registered id or a factory of a PettingZoo Parallel env, got {task!r}")
    if backend == "numpy":
        raise ValueError(f"the numpy backend needs a built-in task id ({', '.join(MARL_IDS)}), not a factory")
    return ParallelEnvBatch(task, num_envs)
