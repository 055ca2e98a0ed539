"""Cooperative multi-agent navigation tasks (PettingZoo Parallel API) and their scripted baselines.

* ``simple_spread``: mpe2's simple_spread_v3 (N=3 agents must cover 3 landmarks without colliding).
* ``spread_memory``: the same world, but each agent sees the landmarks only on the first step.
* ``spread_glimpse``: as ``spread_memory``, and no agent ever sees its own velocity: momentum can't carry the
  glimpse, so a team needs a memory of it.
* :func:`spread_controller_actions` (full-state scripted controller) and :func:`spread_formation_actions`
  (a landmark-blind formation): what a team scores with and without using the landmarks.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["MAX_CYCLES", "MARL_IDS", "SPREAD_OBSERVATIONS", "DT", "DAMPING", "PUSH_FORCE", "AGENT_RADIUS",
           "CONTACT_FORCE", "CONTACT_MARGIN", "contact_force", "SpreadMemoryEnv", "make_marl_env", "spread_world",
           "spread_controller_actions", "FORMATION_POINTS", "spread_formation_actions", "ObservationSpreadTeam"]


#: Multi-agent task ids: ``simple_spread`` (mpe2 simple_spread_v3, N=3 agents and landmarks, 25 steps, discrete
#: actions), ``spread_memory`` (the same, but each agent sees the landmarks only on the first step) and
#: ``spread_glimpse`` (as ``spread_memory``, and the agents' own velocities are never seen).
MARL_IDS = ("simple_spread", "spread_memory", "spread_glimpse")

#: What each agent observes in each task (the options of :class:`SpreadMemoryEnv` and of the numpy batch
#: :class:`~grsn_edu.envs.team_envs.VectorSpread`): ``visible_steps`` (observations that show the landmarks;
#: None: all of them) and ``hide_velocity`` (the agent's own velocity zeroed in every observation).
SPREAD_OBSERVATIONS = {
    "simple_spread": {"visible_steps": None, "hide_velocity": False},
    "spread_memory": {"visible_steps": 1, "hide_velocity": False},
    "spread_glimpse": {"visible_steps": 1, "hide_velocity": True},
}

#: Steps per episode of every task (mpe2's ``max_cycles``): one decision per agent per step.
MAX_CYCLES = 25

#: mpe2's spread world (simple_spread_v3, agents of mass 1), used by the numpy batch
#: :class:`~grsn_edu.envs.team_envs.VectorSpread` and by the scripted teams' velocity estimate: the time step,
#: the share of velocity lost per step, the force of one push, the agents' radius, and the soft contact force
#: and its margin (:func:`contact_force`).
DT, DAMPING, PUSH_FORCE, AGENT_RADIUS, CONTACT_FORCE, CONTACT_MARGIN = 0.1, 0.25, 5.0, 0.15, 100.0, 1e-3


def contact_force(delta: np.ndarray) -> np.ndarray:
    """mpe2's soft contact force on agent a from agent b, ``delta = pos_a - pos_b`` ``(..., 2)`` -> ``(..., 2)``.

    It pushes a away from b, ``F = c * delta / |delta| * m * log(1 + exp(-(|delta| - 2r) / m))``: about
    ``c * (2r - |delta|)`` when the two discs (radius r) overlap, vanishing when they are apart (c the contact
    force, m the margin). The same operations as mpe2, so the numpy batch matches it bit for bit.

    Example:
        >>> overlapping, apart = contact_force(np.array([[0.2, 0.0], [0.5, 0.0]]))  # radii 0.15: 0.1 of overlap
        >>> round(float(overlapping[0]), 6), round(float(apart[0]), 6)
        (10.0, 0.0)
    """
    dist = np.sqrt(np.sum(np.square(delta), axis=-1, keepdims=True))
    penetration = np.logaddexp(0, -(dist - 2 * AGENT_RADIUS) / CONTACT_MARGIN) * CONTACT_MARGIN
    return CONTACT_FORCE * delta / dist * penetration


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
    landmarks were (relative to where it was) and track its own motion.
    ``state()`` (for a centralised critic or mixer in training) is the full, unmasked state.

    With ``hide_velocity=True`` (the ``spread_glimpse`` task) ``self_vel`` is zeroed in every observation, the
    first one included. Why: the world keeps a damped momentum, so an agent that pushed towards its landmark on
    the first step is still drifting that way afterwards, and with its velocity in view a policy without memory
    can read its heading back ("keep going the way I am going") and steer while it holds it. With the velocity
    hidden, momentum can't carry the glimpse into the observations: an agent sees where it is, not where it is
    heading. A team with memory loses nothing: its velocity is its change of position since the previous
    observation (:class:`ObservationSpreadTeam` works it out exactly). What stays open to a team without memory:
    after the first step, all it can know of the landmarks is the agents' first actions (5 choices each), and an
    agent that is fed its own previous action, as the course's agents are, can hold its first push by repeating it.

    Args:
        N: agents (= landmarks).
        max_cycles: steps per episode.
        visible_steps: observations (counting the one from ``reset``) that show the landmarks.
        local_ratio: mpe2's weight of the local (collision) reward vs the global (coverage) reward.
        render_mode: ``None`` or ``"rgb_array"``.
        hide_velocity: zero each agent's own velocity (``self_vel``) in every observation.

    Example:
        >>> env = SpreadMemoryEnv(N=3)
        >>> obs, infos = env.reset(seed=0)
        >>> bool(obs["agent_0"][4:10].any())
        True
        >>> obs, *_ = env.step({a: 2 for a in env.agents})
        >>> bool(obs["agent_0"][4:10].any()), bool(obs["agent_0"][0:2].any())
        (False, True)
        >>> glimpse = SpreadMemoryEnv(N=3, hide_velocity=True)
        >>> _ = glimpse.reset(seed=0)
        >>> obs, *_ = glimpse.step({a: 2 for a in glimpse.agents})
        >>> bool(obs["agent_0"][0:2].any())
        False
    """

    metadata = {"name": "spread_memory_v0", "render_modes": ["rgb_array"], "is_parallelizable": True, "render_fps": 10}

    def __init__(self, N: int = 3, max_cycles: int = MAX_CYCLES, visible_steps: int = 1, local_ratio: float = 0.5,
                 render_mode: str | None = None, hide_velocity: bool = False):
        _quiet_pygame()
        from mpe2 import simple_spread_v3

        if not isinstance(N, int) or N < 1:
            raise ValueError(f"N must be a positive int, got {N!r}")
        if not isinstance(visible_steps, int) or visible_steps < 0:
            raise ValueError(f"visible_steps must be an int >= 0, got {visible_steps!r}")
        if not isinstance(hide_velocity, bool):
            raise ValueError(f"hide_velocity must be True or False, got {hide_velocity!r}")
        self._env = simple_spread_v3.parallel_env(N=N, max_cycles=max_cycles, local_ratio=local_ratio,
                                                  continuous_actions=False, render_mode=render_mode)
        self.N, self.visible_steps, self.render_mode, self.hide_velocity = N, visible_steps, render_mode, hide_velocity
        if hide_velocity:
            self.metadata = {**self.metadata, "name": "spread_glimpse_v0"}
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
        hide_landmarks = self._t >= self.visible_steps
        if not (hide_landmarks or self.hide_velocity):
            return obs
        out = {}
        for agent, o in obs.items():
            o = o.copy()
            if hide_landmarks:
                o[self._landmarks] = 0.0
            if self.hide_velocity:
                o[0:2] = 0.0
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
    """A cooperative multi-agent task by id (PettingZoo Parallel API): N=3 agents, :data:`MAX_CYCLES` (25) steps.

    ``simple_spread``: mpe2's simple_spread_v3 (discrete actions, local_ratio 0.5). ``spread_memory``:
    :class:`SpreadMemoryEnv` with the landmarks visible on the first observation only. ``spread_glimpse``: the
    same, with each agent's own velocity hidden in every observation (:data:`SPREAD_OBSERVATIONS`).
    """
    if env_id == "simple_spread":
        _quiet_pygame()
        from mpe2 import simple_spread_v3

        return simple_spread_v3.parallel_env(N=3, max_cycles=MAX_CYCLES, local_ratio=0.5, continuous_actions=False,
                                             render_mode=render_mode)
    if env_id in ("spread_memory", "spread_glimpse"):
        return SpreadMemoryEnv(N=3, max_cycles=MAX_CYCLES, render_mode=render_mode, **SPREAD_OBSERVATIONS[env_id])
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

#: The direction of each discrete action (0 no-op, 1 left, 2 right, 3 down, 4 up): a push is ``PUSH_FORCE`` times it.
_PUSH_DIRECTIONS = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])


class ObservationSpreadTeam:
    """A scripted team that acts on the agents' own observations only (decentralised, like a learned team), for a
    batch of spread worlds: ``team(obs (B, N, O)) -> actions (B, N)``.

    While an agent sees the landmarks it reads them and the other agents relative to itself (every agent sees
    the same scene from its own position, so all of them work out the same joint assignment of agents to
    landmarks: the one with the least total distance, as :func:`spread_controller_actions`) and steers to its own
    landmark. When the landmarks are hidden (the memory tasks, after the first step):

    * ``memory=True`` steers to the landmark it saw last, carried in its own absolute coordinates (the
      observation holds the agent's position): what a team with a perfect memory of one glimpse can do;
    * ``memory=False`` has nothing to steer by but the current observation, and goes to its point of the fixed
      formation (:data:`FORMATION_POINTS`): what a team without memory does when it lets the glimpse go (one
      that holds on to its first push through its previous action can do somewhat better; see
      :class:`SpreadMemoryEnv`).

    Steering as in :func:`spread_controller_actions`, ``error = gain * (target - p) - v``, needs the agent's
    velocity v. With ``sees_velocity`` it reads v from its observation. Without (``spread_glimpse``, where the
    observation's velocity is zero) it works v out as well as it can:

    * ``memory=True`` from its previous observation and its own previous push. The world moves an agent with
      its old velocity, then updates it (mass 1): ``p_t = p_{t-1} + DT * v_{t-1}`` and
      ``v_t = (1 - DAMPING) * v_{t-1} + DT * F_{t-1}``, where ``F`` is the agent's push plus the contact forces
      (:func:`contact_force`) of the agents it touched, which depend only on where they were relative to it,
      also in that observation. So ``v_t = (1 - DAMPING) * (p_t - p_{t-1}) / DT + DT * F_{t-1}``: exact up to the
      observation's float32 rounding. Agents start at rest, ``v_0 = 0``.
    * ``memory=False`` has the current observation and its previous action (the learned agents get that as an
      input too), and takes ``DT * PUSH_FORCE * u_{t-1}``, what its last push added to the velocity, as v: the
      rest of its momentum it cannot see.

    On ``simple_spread`` (landmarks always visible) both teams are the same decentralised controller. Make a new
    team for each batch of episodes. N = 3.

    Args:
        memory: remember the landmarks (and, without ``sees_velocity``, the previous observation).
        gain: the steering gain (1/s): the desired velocity per unit of distance to the target.
        sees_velocity: the observations show the agent's own velocity (False for ``spread_glimpse``).

    After each call, ``actions`` ``(B, N)`` holds the actions just chosen and ``velocity`` ``(B, N, 2)`` the
    velocities they were steered with (read or worked out).
    """

    def __init__(self, memory: bool, gain: float = 5.0, sees_velocity: bool = True):
        for name, value in (("memory", memory), ("sees_velocity", sees_velocity)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        if not gain > 0:
            raise ValueError(f"gain must be > 0, got {gain!r}")
        self.memory, self.gain, self.sees_velocity = memory, gain, sees_velocity
        self.targets = None
        self.actions = self.velocity = None
        self._previous = None  # (own positions (B, N, 2), the others relative to them (B, N, N-1, 2))

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float64)
        B, N, _ = obs.shape
        vel, pos = obs[..., 0:2], obs[..., 2:4]
        landmark_rel = obs[..., 4:4 + 2 * N].reshape(B, N, N, 2)
        other_rel = obs[..., 4 + 2 * N:4 + 4 * N - 2].reshape(B, N, N - 1, 2)
        visible = np.abs(landmark_rel).reshape(B, N, -1).any(-1)  # (B, N): this agent sees landmarks now
        if self.targets is None:
            self.targets = np.array(FORMATION_POINTS[:N], dtype=np.float64)[None].repeat(B, 0)
        perms = list(itertools.permutations(range(N)))
        for b in range(B):
            for i in range(N):
                if visible[b, i]:
                    team = np.insert(other_rel[b, i], i, 0.0, axis=0)  # every agent relative to agent i
                    costs = [sum(np.linalg.norm(team[k] - landmark_rel[b, i, p[k]]) for k in range(N)) for p in perms]
                    self.targets[b, i] = pos[b, i] + landmark_rel[b, i, perms[int(np.argmin(costs))][i]]
                elif not self.memory:
                    self.targets[b, i] = FORMATION_POINTS[i]
        self.velocity = vel if self.sees_velocity else self._velocity(pos, other_rel)
        error = self.gain * (self.targets - pos) - self.velocity
        axis = np.abs(error).argmax(-1)
        push = np.where(axis == 0, np.where(error[..., 0] < 0, 1, 2), np.where(error[..., 1] < 0, 3, 4))
        self.actions = np.where(np.abs(error).max(-1) < 0.05, 0, push)
        return self.actions

    def _velocity(self, pos: np.ndarray, other_rel: np.ndarray) -> np.ndarray:
        """The agents' velocities ``(B, N, 2)`` worked out without seeing them (see the class docstring)."""
        previous, self._previous = self._previous, (pos, other_rel) if self.memory else None
        if self.actions is None:
            return np.zeros_like(pos)  # the first observation: every agent is at rest
        pushed = DT * PUSH_FORCE * _PUSH_DIRECTIONS[self.actions]
        if not self.memory:
            return pushed
        previous_pos, previous_others = previous
        touched = contact_force(-previous_others).sum(axis=-2)  # from each other agent j: pos_i - pos_j
        return (1 - DAMPING) * (pos - previous_pos) / DT + pushed + DT * touched
