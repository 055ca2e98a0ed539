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
    >>> import grsn_edu.envs.cartpole  # registers the ids
    >>> env = gym.make("CartPole-P")
    >>> env.observation_space.shape
    (2,)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape
    (2,)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode

from grsn_edu.util.validation import check_int

__all__ = ["POMDP_IDS", "EPISODE_STEPS", "VECTOR_BACKENDS", "KeepDims", "Flicker", "NumpyCartPoleVectorEnv"]


#: The partially observable CartPole ids registered here, with the dims they keep and the flicker probability.
POMDP_IDS = {
    "CartPole-F": {"dims": (0, 1, 2, 3), "flicker": 0.0},
    "CartPole-P": {"dims": (0, 2), "flicker": 0.0},
    "CartPole-V": {"dims": (1, 3), "flicker": 0.0},
    "CartPole-VF": {"dims": (1, 3), "flicker": 0.2},
}

#: Steps after which an episode of every CartPole id here is truncated (CartPole-v1's limit).
EPISODE_STEPS = 500

#: The ways :func:`grsn_edu.envs.gym_tasks.make_vector_env` can step its copies (``"auto"``: ``"numpy"`` where it
#: can, else ``"sync"``).
VECTOR_BACKENDS = ("sync", "numpy", "auto")


def _checked_dims(dims: Sequence[int], n: int) -> tuple[int, ...]:
    """``dims`` as a tuple of ints, or a ValueError: non-empty, integers, in ``[0, n)``, no repeats."""
    dims = tuple(dims)
    if not dims:
        raise ValueError("dims must name at least one observation dimension")
    if any(not isinstance(d, (int, np.integer)) or isinstance(d, bool) for d in dims):
        raise ValueError(f"dims must be integers, got {dims}")
    if any(d < 0 or d >= n for d in dims):
        raise ValueError(f"dims must lie in [0, {n - 1}] for this {n}-dimensional observation, got {dims}")
    if len(set(dims)) != len(dims):
        raise ValueError(f"dims must not repeat, got {dims}")
    return tuple(int(d) for d in dims)


def _checked_probability(p: float) -> float:
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"the flicker probability p must lie in [0, 1], got {p}")
    return float(p)


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
        self.dims = _checked_dims(dims, space.shape[0])
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
        p = _checked_probability(p)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or not space.contains(np.zeros(space.shape, dtype=space.dtype)):
            raise ValueError("Flicker needs a Box observation space that contains the all-zero observation")
        self.p = p

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
            entry_point="grsn_edu.envs.cartpole:_make_pomdp_cartpole",
            max_episode_steps=EPISODE_STEPS,
            reward_threshold=475.0,
            kwargs={"dims": _cfg["dims"], "flicker": _cfg["flicker"]},
        )


class NumpyCartPoleVectorEnv(gym.vector.VectorEnv):
    r"""``num_envs`` CartPole-v1 copies stepped together with numpy, with the wrappers of the ids here built in.

    Each step moves every cart-pole one Euler step of CartPole-v1's equations (the accelerations are taken at
    the old state):

    .. math::

        u = \frac{F + m_p l \dot\theta^2 \sin\theta}{M}, \qquad
        \ddot\theta = \frac{g \sin\theta - u \cos\theta}{l \left(\frac43 - \frac{m_p \cos^2\theta}{M}\right)},
        \qquad \ddot x = u - \frac{m_p l \ddot\theta \cos\theta}{M}

        x \leftarrow x + \tau \dot x, \quad \dot x \leftarrow \dot x + \tau \ddot x, \quad
        \theta \leftarrow \theta + \tau \dot\theta, \quad \dot\theta \leftarrow \dot\theta + \tau \ddot\theta

    * :math:`x, \dot x` - cart position (m) and velocity; :math:`\theta, \dot\theta` - pole angle (rad, 0 =
      upright) and angular velocity. The state is kept in float64, the observation is its float32 copy.
    * :math:`F` - the push, +10 N for action 1, -10 N for action 0; :math:`g = 9.8` m/s^2;
      :math:`m_p = 0.1` kg the pole, :math:`M = 1.1` kg cart and pole; :math:`l = 0.5` m, half the pole's
      length; :math:`\tau = 0.02` s.
    * Reward 1 at every step, the failing one included (CartPole-v1's default, not ``sutton_barto_reward``).
      ``terminated`` when :math:`|x| > 2.4` or :math:`|\theta| > 12°`; ``truncated`` after
      ``max_episode_steps`` steps of an episode (both can hold at once, as with Gymnasium's ``TimeLimit``).

    It behaves as :func:`grsn_edu.envs.gym_tasks.make_vector_env`'s ``"sync"`` backend does (a ``SyncVectorEnv`` of
    the registered ids with same-step autoreset), step for step:

    * Same-step autoreset: when an episode ends, the observation returned is already the first of the next
      episode; the last one is in ``info["final_obs"]`` (an object array, ``None`` for copies whose episode
      goes on), with the masks ``info["_final_obs"]`` and ``info["_final_info"]`` and an empty
      ``info["final_info"]``. A step where no episode ends returns ``info == {}``.
    * Each copy has its own random generator, seeded as Gymnasium seeds an environment (``reset(seed=s)``);
      ``reset(seed=s)`` seeds copy ``i`` with ``s + i``. The generator draws, in the sync backend's order,
      each reset state (uniform in [-0.05, 0.05]) and, with ``flicker > 0``, one number per observation that
      blanks it when below ``flicker``. From the same seeds and actions the two backends therefore give the
      same episodes.

    Gymnasium's own ``CartPoleVectorEnv`` is not used: it resets on the step after an episode ends (a step
    whose action is ignored) and draws every copy from one generator.

    Args:
        num_envs: B, copies.
        dims: the state dimensions observed, in this order (as :class:`KeepDims`).
        flicker: the probability that a whole observation is replaced by zeros (as :class:`Flicker`).
        max_episode_steps: steps after which an episode is truncated.

    Example:
        >>> envs = NumpyCartPoleVectorEnv(3, dims=(0, 2))
        >>> obs, info = envs.reset(seed=0)
        >>> obs.shape, obs.dtype, info
        ((3, 2), dtype('float32'), {})
        >>> for _ in range(20):
        ...     obs, reward, terminated, truncated, info = envs.step(np.zeros(3, dtype=int))  # always push left
        ...     if terminated.any():
        ...         break
        >>> terminated.tolist(), info["_final_obs"].tolist()
        ([False, False, True], [False, False, True])
        >>> bool(abs(info["final_obs"][2][1]) > 0.2095), bool(np.abs(obs[2]).max() <= 0.05)  # fell; restarted
        (True, True)
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    total_mass = masspole + masscart
    polemass_length = masspole * length
    x_threshold, theta_threshold_radians = 2.4, 12 * 2 * math.pi / 360
    reset_low, reset_high = -0.05, 0.05

    #: random numbers held per copy; drawn from its generator in blocks, consumed in the generator's order
    _BLOCK = 256

    def __init__(self, num_envs: int, dims: Sequence[int] = (0, 1, 2, 3), flicker: float = 0.0,
                 max_episode_steps: int = EPISODE_STEPS):
        self.num_envs = check_int("num_envs", num_envs)
        self.dims = _checked_dims(dims, 4)
        self.flicker = _checked_probability(flicker)
        self.max_episode_steps = check_int("max_episode_steps", max_episode_steps)
        high = np.array([self.x_threshold * 2, np.inf, self.theta_threshold_radians * 2, np.inf], dtype=np.float32)
        idx = np.array(self.dims)
        self.single_observation_space = gym.spaces.Box(-high[idx], high[idx], dtype=np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.single_action_space = gym.spaces.Discrete(2)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self.state: np.ndarray | None = None  # (B, 4) float64: x, x_dot, theta, theta_dot
        self.episode_steps = np.zeros(self.num_envs, dtype=np.int64)
        self._generators: list[np.random.Generator | None] = [None] * self.num_envs
        self._uniforms = np.zeros((self.num_envs, self._BLOCK))
        self._cursor = np.full(self.num_envs, self._BLOCK)  # at the end: nothing drawn yet
        self._every = np.arange(self.num_envs)

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict | None = None):
        """Start an episode in every copy: ``(obs (B, O), {})``.

        Args:
            seed: None (keep each copy's generator; seed it from the operating system if it has none), an int
                ``s`` (copy ``i`` gets ``s + i``) or one seed (or None) per copy.
            options: not supported (must be None).
        """
        if options is not None:
            raise ValueError(f"{type(self).__name__}.reset takes no options, got {options!r}")
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"pass one seed per copy: {self.num_envs} seeds, got {len(seeds)}")
        for i, s in enumerate(seeds):
            if s is not None or self._generators[i] is None:
                self._generators[i], _ = seeding.np_random(s)
                self._cursor[i] = self._BLOCK  # numbers drawn from the old generator are dropped
        self.state = np.empty((self.num_envs, 4))
        self._start_episodes(self._every)
        obs = self._observe(self.state)
        self._blank(obs, self._every)
        return obs, {}

    def step(self, actions):
        """One step of every copy: ``(obs (B, O), reward (B,), terminated (B,), truncated (B,), info)``.

        Args:
            actions: ``(B,)`` integers, 0 (push left) or 1 (push right).
        """
        if self.state is None:
            raise RuntimeError("call reset before step")
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu" or ((actions < 0) | (actions > 1)).any():
            raise ValueError(f"actions must be {self.num_envs} integers, each 0 or 1; got {actions!r}")
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(actions == 1, self.force_mag, -self.force_mag)
        costheta, sintheta = np.cos(theta), np.sin(theta)
        # the same operations in the same order as Gymnasium's CartPoleEnv.step, so the float64 states agree
        temp = (force + self.polemass_length * np.square(theta_dot) * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * np.square(costheta) / self.total_mass))
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * xacc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * thetaacc
        self.state = np.stack((x, x_dot, theta, theta_dot), axis=1)
        self.episode_steps += 1
        terminated = ((x < -self.x_threshold) | (x > self.x_threshold)
                      | (theta < -self.theta_threshold_radians) | (theta > self.theta_threshold_radians))
        truncated = self.episode_steps >= self.max_episode_steps
        obs = self._observe(self.state)
        self._blank(obs, self._every)
        done = terminated | truncated
        info = {}
        if done.any():
            ended = np.flatnonzero(done)
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in ended:
                final_obs[i] = obs[i].copy()
            info = {"final_obs": final_obs, "_final_obs": done, "final_info": {}, "_final_info": done.copy()}
            self._start_episodes(ended)
            first = self._observe(self.state[ended])
            self._blank(first, ended)
            obs[ended] = first
        return obs, np.ones(self.num_envs), terminated, truncated, info

    def _observe(self, state: np.ndarray) -> np.ndarray:
        """``(N, 4)`` states -> ``(N, O)`` float32 observations, C-ordered like the sync backend's.

        The order matters beyond numpy: ``torch.as_tensor`` keeps the strides, and a transposed layout changes
        the summation order of the agent's first layer, hence its outputs in the last bits.
        """
        return state[:, self.dims].astype(np.float32, order="C")

    def _start_episodes(self, copies: np.ndarray) -> None:
        """New initial states for ``copies``, drawn from their generators."""
        u = self._draw(copies, 4)
        self.state[copies] = self.reset_low + (self.reset_high - self.reset_low) * u  # as Generator.uniform
        self.episode_steps[copies] = 0

    def _blank(self, obs: np.ndarray, copies: np.ndarray) -> None:
        """Zero, in place, the rows of ``obs`` (those of ``copies``) that flicker; draws only if flicker > 0."""
        if self.flicker > 0.0:
            obs[self._draw(copies, 1)[:, 0] < self.flicker] = 0.0

    def _draw(self, copies: np.ndarray, n: int) -> np.ndarray:
        """``(len(copies), n)``: the next ``n`` numbers in [0, 1) of each copy's generator."""
        for i in copies[self._cursor[copies] + n > self._BLOCK]:
            left = self._uniforms[i, self._cursor[i]:].copy()
            self._uniforms[i, :len(left)] = left
            self._uniforms[i, len(left):] = self._generators[i].random(self._BLOCK - len(left))
            self._cursor[i] = 0
        out = self._uniforms[copies[:, None], self._cursor[copies, None] + np.arange(n)]
        self._cursor[copies] += n
        return out
