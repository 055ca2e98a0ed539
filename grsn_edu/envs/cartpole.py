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

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry

from grsn_edu.util.validation import check_int

__all__ = ["POMDP_IDS", "KeepDims", "Flicker"]


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
            entry_point="grsn_edu.envs.cartpole:_make_pomdp_cartpole",
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
    """``num_envs`` copies of ``env_id`` in one synchronous vector env, reset with seeds ``seed, seed+1, ...``.

    Uses same-step autoreset: when an episode ends, the observation returned with it is already the first of the
    next episode (the last one is in ``info["final_obs"]``), so every step's action is a real decision.
    """
    num_envs = check_int("num_envs", num_envs)
    seed = check_int("seed", seed, minimum=0)
    make_env(env_id).close()  # validate the id with a clear message before building copies
    envs = gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    envs.reset(seed=[seed + i for i in range(num_envs)])
    envs.action_space.seed(seed)
    return envs
