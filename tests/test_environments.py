"""Partially observable CartPole wrappers and ids."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from grsn_edu.envs.cartpole import POMDP_IDS, Flicker, KeepDims, make_env, make_vector_env


def _check(env):
    with warnings.catch_warnings():
        # check_env advises checking unwrapped envs; checking the wrapper itself is the point here
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version.*")
        # CartPole's own velocity bounds are infinite, and Pendulum's action space is its own: not ours to change
        warnings.filterwarnings("ignore", message=".*Box observation space (minimum|maximum) value is.*")
        warnings.filterwarnings("ignore", message=".*For Box action spaces, we recommend.*")
        check_env(env, skip_render_check=True)


@pytest.mark.parametrize("env_id", list(POMDP_IDS))
def test_registered_ids_pass_the_env_checker(env_id):
    env = gym.make(env_id)
    assert env.spec.max_episode_steps == 500
    assert env.observation_space.shape == (len(POMDP_IDS[env_id]["dims"]),)
    _check(env)


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


def test_flicker_blanks_at_the_given_rate_and_reproducibly():
    def blanks(seed):
        env = Flicker(gym.make("CartPole-v1"), p=0.3)
        env.reset(seed=seed)
        env.action_space.seed(seed)
        out = []
        for _ in range(400):
            obs, _, term, trunc, _ = env.step(env.action_space.sample())
            out.append(not obs.any())
            if term or trunc:
                env.reset()
        return np.array(out)

    a = blanks(0)
    assert 0.22 < a.mean() < 0.38
    assert (a == blanks(0)).all()
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        Flicker(gym.make("CartPole-v1"), p=1.5)


def test_unknown_env_id_names_the_known_ones():
    with pytest.raises(ValueError, match="CartPole-P, CartPole-V"):
        make_env("CartPole-Q")


def test_vector_env_same_step_autoreset():
    envs = make_vector_env("CartPole-V", 3, seed=0)
    obs, _ = envs.reset(seed=[0, 1, 2])
    assert obs.shape == (3, 2)
    for _ in range(200):
        obs, _, term, trunc, info = envs.step(np.zeros(3, dtype=int))  # always push left: episodes end fast
        if (term | trunc).any():
            assert "final_obs" in info
            break
    else:
        pytest.fail("no episode ended in 200 steps of pushing left")
    with pytest.raises(ValueError, match="num_envs must be a positive int"):
        make_vector_env("CartPole-V", 0, seed=0)
