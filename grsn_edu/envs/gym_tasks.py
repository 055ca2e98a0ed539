"""Any Gymnasium task as the single-agent trainer takes it: made by id, observations flattened to real vectors,
optionally the previous action appended, and stepped in batches.

* :func:`make_env` - ``gymnasium.make`` with a clear error for an unknown id. An observation that is not a flat
  vector of reals (``Discrete``, ``MultiDiscrete``, ``Tuple`` of those, a Box of several dimensions) is flattened
  with Gymnasium's own ``FlattenObservation``, which writes a ``Discrete`` value as a one-hot vector (as POPGym's
  baselines encode their observations), and cast to float32. POPGym's ids (``popgym-...``) are registered the first
  time one is asked for (``import popgym``, about 0.4 s), not when the package is imported.
* :class:`PreviousAction` - appends a one-hot of the previous action to each observation (zeros at an episode's
  first step), so that a policy sees what it did: POPGym's baselines give every memory model this input.
* :func:`make_vector_env` - ``num_envs`` copies stepped together, with same-step autoreset.

Example:
    >>> env = make_env("popgym-RepeatPreviousEasy-v0", previous_action=True)
    >>> env.observation_space     # a card's suit, one-hot (4), then the previous action, one-hot (4)
    Box(0.0, 1.0, (8,), float32)
    >>> import numpy as np
    >>> env = make_env("CartPole-P", previous_action=True)
    >>> obs, _ = env.reset(seed=0)
    >>> obs.shape, obs[2:].tolist()       # cart position and pole angle, then no previous action yet
    ((4,), [0.0, 0.0])
    >>> obs, *_ = env.step(1)
    >>> obs[2:].tolist()
    [0.0, 1.0]
"""

from __future__ import annotations

import importlib

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import registry
from gymnasium.wrappers import DtypeObservation, FlattenObservation

from grsn_edu.envs.cartpole import POMDP_IDS, VECTOR_BACKENDS, NumpyCartPoleVectorEnv
from grsn_edu.util.validation import check_int

__all__ = ["make_env", "make_vector_env", "PreviousAction", "is_flat_real", "flat_observation_space"]

#: Id prefixes whose tasks register when their package is first imported: prefix -> module.
_LAZY_NAMESPACES = {"popgym-": "popgym"}


def is_flat_real(space: gym.Space) -> bool:
    """True for a one-dimensional Box of floating-point numbers, the observations the trainer's networks read."""
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1 and np.issubdtype(space.dtype, np.floating)


def flat_observation_space(space: gym.Space) -> gym.spaces.Box:
    """The float32 Box that :func:`make_env` turns ``space`` into (``space`` itself when it is already one).

    Raises ValueError, saying what the trainer takes, for a space Gymnasium cannot flatten into a fixed-size vector
    (a ``Text``, ``Graph`` or ``Sequence`` space).
    """
    if is_flat_real(space) and space.dtype == np.float32:
        return space
    try:
        flat = gym.spaces.flatten_space(space)
    except (NotImplementedError, TypeError, ValueError) as error:
        raise ValueError(f"observations {space} cannot be flattened into a fixed-size vector ({error}); the trainer "
                         "takes Box, Discrete, MultiDiscrete, MultiBinary and Tuple/Dict of those") from None
    if not isinstance(flat, gym.spaces.Box):
        raise ValueError(f"observations {space} flatten to {flat}, not a fixed-size vector; the trainer takes Box, "
                         "Discrete, MultiDiscrete, MultiBinary and Tuple/Dict of those")
    return gym.spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32), dtype=np.float32)


class PreviousAction(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Append a one-hot of the previous action to a flat observation; zeros at an episode's first step.

    The wrapped task must have one discrete action space and flat real observations (:func:`make_env` flattens
    them first). The new observation space is the old one's bounds followed by ``n`` entries in [0, 1].
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"PreviousAction needs one discrete action space, got {env.action_space}")
        if not is_flat_real(env.observation_space):
            raise ValueError(f"PreviousAction needs flat real observations, got {env.observation_space} "
                             "(flatten them first: make_env does)")
        self._n = int(env.action_space.n)
        self._start = int(env.action_space.start)
        space = env.observation_space
        self.observation_space = gym.spaces.Box(
            np.concatenate([space.low, np.zeros(self._n, dtype=space.dtype)]),
            np.concatenate([space.high, np.ones(self._n, dtype=space.dtype)]), dtype=space.dtype)

    def _with(self, obs, action):
        one_hot = np.zeros(self._n, dtype=self.observation_space.dtype)
        if action is not None:
            one_hot[int(action) - self._start] = 1.0
        return np.concatenate([np.asarray(obs, dtype=self.observation_space.dtype), one_hot])

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return self._with(obs, None), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._with(obs, action), reward, terminated, truncated, info


def _register_lazily(env_id: str) -> None:
    for prefix, module in _LAZY_NAMESPACES.items():
        if env_id.startswith(prefix) and env_id not in registry:
            try:
                importlib.import_module(module)
            except ImportError:
                raise ValueError(f"{env_id!r} is one of {module}'s tasks, and {module} is not installed "
                                 f"(pip install {module})") from None


def make_env(env_id: str, render_mode: str | None = None, previous_action: bool = False) -> gym.Env:
    """A task by id, its observations a flat float32 vector, with the previous action appended if asked.

    Args:
        env_id: one of :data:`~grsn_edu.envs.cartpole.POMDP_IDS`, a POPGym id (``popgym-...``) or any registered
            Gymnasium id.
        render_mode: e.g. ``"rgb_array"`` for frames (passed to ``gymnasium.make`` only when given: some tasks,
            POPGym's among them, take no ``render_mode``).
        previous_action: append a one-hot of the previous action (:class:`PreviousAction`).
    """
    _register_lazily(env_id)
    if env_id not in registry:
        known = ", ".join(POMDP_IDS)
        close = [name for name in registry if name.lower() == env_id.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown environment id {env_id!r}{hint}. This course registers {known}; any registered Gymnasium id "
            "(such as CartPole-v1) and POPGym's ids (popgym-RepeatPreviousEasy-v0, ...) work too"
        )
    env = gym.make(env_id) if render_mode is None else gym.make(env_id, render_mode=render_mode)
    if not (is_flat_real(env.observation_space) and env.observation_space.dtype == np.float32):
        space = flat_observation_space(env.observation_space)
        if not is_flat_real(env.observation_space):
            env = FlattenObservation(env)
        env = DtypeObservation(env, np.float32)
        env.observation_space = space
    if previous_action:
        env = PreviousAction(env)
    return env


def make_vector_env(env_id: str, num_envs: int, seed: int, backend: str = "sync",
                    previous_action: bool = False) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id`` (made by :func:`make_env`) in one vector env, reset with seeds
    ``seed, seed+1, ...``.

    Uses same-step autoreset: when an episode ends, the observation returned with it is already the first of the
    next episode (the last one is in ``info["final_obs"]``), so every step's action is a real decision.

    Args:
        env_id: a task id (:func:`make_env`; ``"numpy"``: one of :data:`~grsn_edu.envs.cartpole.POMDP_IDS` or
            ``CartPole-v1``).
        num_envs: B, copies.
        seed: copy ``i`` is reset with ``seed + i``; the action space is seeded with ``seed``.
        backend: one of :data:`~grsn_edu.envs.cartpole.VECTOR_BACKENDS`. ``"sync"``: a
            ``gymnasium.vector.SyncVectorEnv`` of :func:`make_env` copies, one Python step per copy. ``"numpy"``: a
            :class:`~grsn_edu.envs.cartpole.NumpyCartPoleVectorEnv`, one numpy step for all copies; from the same
            seeds and actions it gives the same observations, rewards, ends and ``info`` as ``"sync"``, at a cost
            per step that hardly grows with ``num_envs``. ``"auto"``: ``"numpy"`` for the ids it steps (without
            ``previous_action``), ``"sync"`` for any other.
        previous_action: append a one-hot of the previous action to each copy's observations
            (:class:`PreviousAction`; ``"sync"`` only).

    Example:
        >>> import numpy as np
        >>> sync = make_vector_env("CartPole-VF", 4, seed=0)
        >>> fast = make_vector_env("CartPole-VF", 4, seed=0, backend="numpy")
        >>> actions = np.array([0, 1, 1, 0])
        >>> np.array_equal(sync.step(actions)[0], fast.step(actions)[0])
        True
    """
    if backend not in VECTOR_BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, VECTOR_BACKENDS))}, got {backend!r}")
    num_envs = check_int("num_envs", num_envs)
    seed = check_int("seed", seed, minimum=0)
    make_env(env_id).close()  # validate the id with a clear message before building copies
    numpy_ids = (*POMDP_IDS, "CartPole-v1")
    if backend == "auto":
        backend = "numpy" if env_id in numpy_ids and not previous_action else "sync"
    if backend == "numpy":
        if env_id not in numpy_ids:
            raise ValueError(f"the numpy backend steps CartPole only: {', '.join(numpy_ids)}, got {env_id!r} "
                             "(use backend='sync')")
        if previous_action:
            raise ValueError("the numpy backend does not append the previous action (use backend='sync')")
        cfg = POMDP_IDS.get(env_id, POMDP_IDS["CartPole-F"])
        envs = NumpyCartPoleVectorEnv(num_envs, cfg["dims"], cfg["flicker"], registry[env_id].max_episode_steps)
    else:
        envs = gym.vector.SyncVectorEnv(
            [lambda: make_env(env_id, previous_action=previous_action) for _ in range(num_envs)],
            autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
        )
    envs.reset(seed=[seed + i for i in range(num_envs)])
    envs.action_space.seed(seed)
    return envs
