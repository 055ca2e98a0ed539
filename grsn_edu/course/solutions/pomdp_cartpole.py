"""Solutions to the exercises of the chapter ``pomdp_cartpole`` (partially observable CartPole). Try the exercise
before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s AngleOnly ../grsn_edu/course/solutions/pomdp_cartpole.py``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["AngleOnly", "velocity_from_positions", "angle_from_velocities"]


class AngleOnly(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Exercise 1: keep only the pole angle of CartPole's observation (index 2).

    The new observation space is a 1-D Box with the angle's own bounds and the original dtype, so
    ``gymnasium.utils.env_checker.check_env`` passes. (``RecordConstructorArgs`` lets Gymnasium rebuild the
    wrapped environment from its ``spec``, which the checker asks for.)
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        self.observation_space = gym.spaces.Box(space.low[2:3], space.high[2:3], dtype=space.dtype)

    def observation(self, observation):
        return np.asarray(observation, dtype=self.observation_space.dtype)[2:3]


def velocity_from_positions(obs_now, obs_next, tau: float = 0.02) -> np.ndarray:
    r"""Exercise 2: the velocities at step t from two consecutive CartPole-P observations ``[x, theta]``.

    CartPole integrates with Euler steps, :math:`x_{t+1} = x_t + \tau \dot x_t` and
    :math:`\theta_{t+1} = \theta_t + \tau \dot\theta_t`, so :math:`\dot x_t = (x_{t+1} - x_t) / \tau` exactly
    (and the same for the angle): one step of memory recovers what CartPole-P hides, one step late.

    Args:
        obs_now: ``(..., 2)`` observation at step t.
        obs_next: ``(..., 2)`` observation at step t + 1.
        tau: seconds per step (CartPole's ``env.unwrapped.tau``).

    Returns:
        ``(..., 2)``: cart velocity and pole angular velocity at step t.
    """
    return (np.asarray(obs_next, dtype=np.float64) - np.asarray(obs_now, dtype=np.float64)) / tau


def angle_from_velocities(pole_velocities, initial_angle: float, tau: float = 0.02) -> np.ndarray:
    r"""Exercise 3: the pole angle at every step from the angular velocities CartPole-V shows.

    :math:`\theta_t = \theta_0 + \tau \sum_{s < t} \dot\theta_s`: a running sum over the whole history,
    starting from the initial angle (which the observations never show).

    Args:
        pole_velocities: ``(T,)`` observed angular velocities, step 0 to T-1.
        initial_angle: :math:`\theta_0`.
        tau: seconds per step (CartPole's ``env.unwrapped.tau``).

    Returns:
        ``(T,)`` the angle at steps 0 to T-1 (the first entry is ``initial_angle``).
    """
    v = np.asarray(pole_velocities, dtype=np.float64)
    return initial_angle + tau * np.concatenate([[0.0], np.cumsum(v)[:-1]])
