"""Partially observable CartPole wrappers and ids."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from grsn_edu.envs.cartpole import POMDP_IDS, VECTOR_BACKENDS, Flicker, KeepDims
from grsn_edu.envs.gym_tasks import make_env, make_vector_env


def _check(env):
    with warnings.catch_warnings():
        # check_env advises checking unwrapped envs; checking the wrapper itself is the point here
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version.*")
        # CartPole's own velocity bounds are infinite, and Pendulum's action space is its own: not ours to change
        warnings.filterwarnings("ignore", message=".*Box observation space (minimum|maximum) value is.*")
        warnings.filterwarnings("ignore", message=".*For Box action spaces, we recommend.*")
        check_env(env, skip_render_check=True)


def _balance(env, seed: int) -> tuple[int, bool, bool]:
    """Play one episode with a controller that reads the true cart-pole state; (steps, terminated, truncated)."""
    env.reset(seed=seed)
    steps = 0
    while True:
        x, x_dot, theta, theta_dot = env.unwrapped.state
        _, _, terminated, truncated, _ = env.step(int(theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0))
        steps += 1
        if terminated or truncated:
            return steps, terminated, truncated


@pytest.mark.parametrize("env_id", list(POMDP_IDS))
def test_registered_ids_pass_the_env_checker_and_end_balanced_episodes_at_500_steps(env_id):
    env = gym.make(env_id)
    _check(env)
    # CartPole-v1's episodes: a pole kept up is truncated (not terminated) after exactly 500 steps
    assert _balance(env, seed=1) == _balance(gym.make("CartPole-v1"), seed=1) == (500, False, True)


@pytest.mark.parametrize("env_id,dims", [("CartPole-P", [0, 2]), ("CartPole-V", [1, 3]), ("CartPole-F", [0, 1, 2, 3])])
def test_kept_dims_are_the_full_state_dims(env_id, dims):
    full, part = gym.make("CartPole-v1"), gym.make(env_id)
    obs_full, _ = full.reset(seed=3)
    obs_part, _ = part.reset(seed=3)
    np.testing.assert_array_equal(obs_part, obs_full[dims])
    for action in [0, 1, 1, 0, 1]:
        obs_full, *_ = full.step(action)
        obs_part, *_ = part.step(action)
        np.testing.assert_array_equal(obs_part, obs_full[dims])


def test_keepdims_space_is_exact_for_any_box_env():
    env = KeepDims(gym.make("Pendulum-v1"), dims=[2, 0])
    base = gym.make("Pendulum-v1").observation_space
    np.testing.assert_array_equal(env.observation_space.low, base.low[[2, 0]])
    np.testing.assert_array_equal(env.observation_space.high, base.high[[2, 0]])
    assert env.observation_space.dtype == base.dtype
    _check(env)


@pytest.mark.parametrize(
    "dims,match",
    [([], "at least one"), ([0, 4], r"lie in \[0, 3\]"), ([-1], r"lie in \[0, 3\]"), ([1, 1], "must not repeat"),
     ([0.5], "must be integers")],
)
def test_keepdims_bad_dims(dims, match):
    with pytest.raises(ValueError, match=match):
        KeepDims(gym.make("CartPole-v1"), dims)


def test_keepdims_needs_a_box():
    with pytest.raises(ValueError, match="1-D Box"):
        KeepDims(gym.make("FrozenLake-v1"), [0])


def _blanks(env, seed: int, steps: int = 400, dims=(0, 1, 2, 3)) -> np.ndarray:
    """Whether each of ``steps`` observations was blanked; one not blanked must be the true state's ``dims``."""
    env.reset(seed=seed)
    env.action_space.seed(seed)
    dims = list(dims)
    out = []
    for _ in range(steps):
        obs, _, term, trunc, _ = env.step(env.action_space.sample())
        blank = not obs.any()
        if not blank:
            np.testing.assert_array_equal(obs, np.asarray(env.unwrapped.state, dtype=np.float32)[dims])
        out.append(blank)
        if term or trunc:
            env.reset()
    return np.array(out)


def test_flicker_blanks_at_the_given_rate_and_reproducibly():
    a = _blanks(Flicker(gym.make("CartPole-v1"), p=0.3), seed=0)
    assert 0.22 < a.mean() < 0.38
    assert (a == _blanks(Flicker(gym.make("CartPole-v1"), p=0.3), seed=0)).all()
    assert (a != _blanks(Flicker(gym.make("CartPole-v1"), p=0.3), seed=1)).any()
    assert not _blanks(Flicker(gym.make("CartPole-v1"), p=0.0), seed=0).any()
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        Flicker(gym.make("CartPole-v1"), p=1.5)


def test_cartpole_vf_blanks_the_velocities_a_fifth_of_the_time():
    assert 0.15 < _blanks(gym.make("CartPole-VF"), seed=0, steps=800, dims=[1, 3]).mean() < 0.25
    assert not _blanks(gym.make("CartPole-V"), seed=0, dims=[1, 3]).any()


def test_unknown_env_id_names_the_known_ones():
    with pytest.raises(ValueError, match="CartPole-P, CartPole-V"):
        make_env("CartPole-Q")


@pytest.mark.parametrize("backend", VECTOR_BACKENDS)
def test_vector_env_copies_are_seeded_seed_plus_index(backend):
    def first_steps(seed):
        envs = make_vector_env("CartPole-P", 3, seed=seed, backend=backend)
        return np.stack([envs.step(np.ones(3, dtype=int))[0] for _ in range(3)])  # (steps, envs, 2)

    a, b = first_steps(0), first_steps(1)
    np.testing.assert_array_equal(a, first_steps(0))
    np.testing.assert_array_equal(a[:, 1:], b[:, :2])  # copy i of seed 0 is copy i - 1 of seed 1
    assert not np.array_equal(a[:, 0], a[:, 1])


@pytest.mark.parametrize("backend", VECTOR_BACKENDS)
def test_vector_env_same_step_autoreset(backend):
    envs = make_vector_env("CartPole-F", 3, seed=0, backend=backend)
    for _ in range(200):
        obs, _, term, trunc, info = envs.step(np.zeros(3, dtype=int))  # always push left: episodes end fast
        done = term | trunc
        if done.any():
            break
    else:
        pytest.fail("no episode ended in 200 steps of pushing left")
    final = np.stack([info["final_obs"][i] for i in np.flatnonzero(done)])
    fell = (np.abs(final[:, 0]) > 2.4) | (np.abs(final[:, 2]) > 0.2095)  # CartPole-v1's termination
    assert fell.all()  # info["final_obs"]: the last observation of the episode that ended
    assert (np.abs(obs[done]) <= 0.05).all()  # returned with it: the first of the next (reset within +-0.05)
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        make_vector_env("CartPole-V", 0, seed=0, backend=backend)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        make_vector_env("CartPole-V", 2, seed=-1, backend=backend)
