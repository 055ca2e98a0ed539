"""Checks for the exercises of the chapter ``pomdp_cartpole`` (partially observable CartPole).

Each ``check_*`` tests the reader's answer against CartPole itself (the true state in ``env.unwrapped.state``),
with the contract of :func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is
reported and not checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line
confirmation; the check returns what the notebook goes on with (while the exercise is a stub: the reference solution, or
a placeholder in the student copy).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.course.recordings import scripted_episode

__all__ = ["check_angle_only", "check_velocity_from_positions", "check_angle_from_velocities", "true_episode"]


def true_episode(env_id: str, seed: int, steps: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Observations ``(T, O)`` and true states ``(T, 4)`` of one CartPole episode under a seeded random policy.

    (:func:`grsn_edu.course.recordings.scripted_episode` with ``policy="random"``; T <= ``steps``.)
    """
    observations, states, _ = scripted_episode(env_id, seed, policy="random", max_steps=steps)
    return observations, states


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def check_angle_only(wrapper_class: type) -> type:
    """Exercise 1: ``wrapper_class(env)`` must keep exactly the pole angle and declare its space exactly.

    Checked on ``CartPole-v1``: the observation space is a Box of shape (1,) with the angle's bounds and
    CartPole's dtype; every observation of a random episode is the true angle (``env.unwrapped.state[2]``) and
    lies in the space; the wrapped environment passes Gymnasium's ``check_env``.

    Returns:
        ``wrapper_class`` if it passes, while it is still the stub the reference ``AngleOnly``
        (a placeholder in student mode).
    """
    return run_check("AngleOnly", wrapper_class, _verify_angle_only, "pomdp_cartpole")


def _verify_angle_only(wrapper_class: type) -> str:
    env = wrapper_class(gym.make("CartPole-v1"))
    base = env.env.observation_space
    space = env.observation_space
    assert isinstance(space, gym.spaces.Box), f"observation_space should be a gymnasium.spaces.Box, got {space!r}"
    assert space.shape == (1,), (
        f"observation_space has shape {space.shape}; one number is kept, so its shape is (1,). Hint: slice the "
        "bounds with [2:3] rather than [2] to keep them one-dimensional."
    )
    assert space.dtype == base.dtype, f"keep CartPole's dtype {base.dtype}, got {space.dtype}"
    assert np.array_equal(space.low, base.low[2:3]) and np.array_equal(space.high, base.high[2:3]), (
        f"the bounds should be the pole angle's own, low={base.low[2:3]}, high={base.high[2:3]}; got low={space.low}, "
        f"high={space.high}. Hint: the angle is entry 2 of CartPole's observation: x, x_dot, theta, theta_dot."
    )
    env.action_space.seed(1)
    obs, _ = env.reset(seed=1)
    for t in range(200):
        truth = np.float32(env.unwrapped.state[2])
        assert np.shape(obs) == (1,), f"step {t}: an observation should have shape (1,), got {np.shape(obs)}"
        assert np.isclose(obs[0], truth, atol=1e-6), (
            f"step {t}: the observation is {obs[0]:.5f} but the true pole angle is {truth:.5f}. Hint: keep entry 2."
        )
        assert space.contains(obs), f"step {t}: the observation {obs!r} is not inside observation_space {space}"
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            break
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version.*")
        try:
            check_env(env, skip_render_check=True)
        except NotImplementedError:
            raise  # part of the stub is left: run_check reports it
        except Exception as err:  # noqa: BLE001 - report whatever the checker found
            raise AssertionError(f"gymnasium's check_env rejects the wrapped environment: {err}") from None
    env.close()
    return "Correct: the wrapper keeps the pole angle, declares its space exactly and passes check_env."


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def check_velocity_from_positions(velocity_from_positions: Callable) -> Callable:
    """Exercise 2: velocities from two consecutive CartPole-P observations must equal the true ones.

    Checked on three random episodes of CartPole-P, all steps at once (arrays of shape (T-1, 2)) and one step
    at a time (shape (2,)), against ``env.unwrapped.state`` (tolerance 1e-4, the rounding of float32
    observations divided by tau).

    Returns:
        ``velocity_from_positions`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("velocity_from_positions", velocity_from_positions,
                     _verify_velocity_from_positions, "pomdp_cartpole")


def _verify_velocity_from_positions(fn: Callable) -> str:
    for seed in (0, 1, 2):
        obs, states = true_episode("CartPole-P", seed)
        truth = states[:-1][:, [1, 3]]  # x_dot, theta_dot at step t
        got = np.asarray(fn(obs[:-1], obs[1:]), dtype=np.float64)
        assert got.shape == truth.shape, (
            f"for observations of shape {obs[:-1].shape} the answer should have shape {truth.shape}, got {got.shape}"
        )
        if not np.allclose(got, truth, atol=1e-4):
            diff = np.diff(obs, axis=0)
            if np.allclose(got, diff, atol=1e-6):
                hint = "that is the change per step; velocities are per second: divide by tau = 0.02 s."
            elif np.allclose(got, -truth, atol=1e-4):
                hint = "the sign is flipped: subtract the earlier observation from the later one."
            elif np.allclose(got, diff * 0.02, atol=1e-8):
                hint = "divide by tau, do not multiply: x_{t+1} = x_t + tau * x_dot_t."
            else:
                hint = "CartPole's Euler step is x_{t+1} = x_t + tau * x_dot_t with tau = 0.02 s; solve for x_dot_t."
            i = int(np.abs(got - truth).max(axis=1).argmax())
            raise AssertionError(
                f"seed {seed}, step {i}: true velocities {truth[i].round(5)}, yours {got[i].round(5)}. Hint: {hint}"
            )
        single = np.asarray(fn(obs[0], obs[1]), dtype=np.float64)
        assert single.shape == (2,) and np.allclose(single, truth[0], atol=1e-4), (
            f"for single observations of shape (2,) the answer should be the 2 velocities {truth[0].round(5)}, got "
            f"{single!r}"
        )
    return "Correct: two consecutive positions give the velocities exactly (3 episodes of CartPole-P)."


# -- Exercise 3 --------------------------------------------------------------------------------------------------
def check_angle_from_velocities(angle_from_velocities: Callable) -> Callable:
    """Exercise 3: the running sum of CartPole-V's angular velocities must give the true angle at every step.

    Checked on three random episodes of CartPole-V, given the true initial angle (which the agent never sees),
    against ``env.unwrapped.state[2]`` (tolerance 1e-4 rad).

    Returns:
        ``angle_from_velocities`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("angle_from_velocities", angle_from_velocities,
                     _verify_angle_from_velocities, "pomdp_cartpole")


def _verify_angle_from_velocities(fn: Callable) -> str:
    for seed in (0, 1, 2):
        obs, states = true_episode("CartPole-V", seed)
        truth = states[:, 2]
        got = np.asarray(fn(obs[:, 1], float(states[0, 2])), dtype=np.float64)
        assert got.shape == truth.shape, (
            f"for {len(truth)} observed velocities the answer should have shape {truth.shape}, got {got.shape}"
        )
        if np.allclose(got, truth, atol=1e-4):
            continue
        inclusive = states[0, 2] + 0.02 * np.cumsum(obs[:, 1])
        if np.allclose(got, inclusive, atol=1e-4):
            hint = ("off by one step: the angle at step t has seen the velocities of steps 0 to t-1 only, so the "
                    "first answer is the initial angle itself.")
        elif np.allclose(got - got[0] + states[0, 2], truth, atol=1e-4):
            hint = "start from the initial angle: theta_0 is the first entry."
        elif np.allclose(got, states[0, 2] + np.concatenate([[0.0], np.cumsum(obs[:-1, 1])]), atol=1e-4):
            hint = "the velocity is in radians per second: multiply each step's velocity by tau = 0.02 s."
        else:
            hint = mode_hint("theta_t = theta_0 + tau * (theta_dot_0 + ... + theta_dot_{t-1}), tau = 0.02 s.",
                             "at every step the angle moves by tau = 0.02 s times that step's velocity.")
        i = int(np.abs(got - truth).argmax())
        raise AssertionError(
            f"seed {seed}, step {i}: the true angle is {truth[i]:.5f} rad, yours {got[i]:.5f}. Hint: {hint}"
        )
    return "Correct: summing the observed angular velocities recovers the angle (3 episodes of CartPole-V)."
