"""The numpy CartPole vector env: CartPole-v1's dynamics, and the sync backend's episodes, seeds and info."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from grsn_edu.envs.cartpole import EPISODE_STEPS, POMDP_IDS, NumpyCartPoleVectorEnv
from grsn_edu.envs.gym_tasks import make_vector_env


def _balancing_actions(state: np.ndarray) -> np.ndarray:
    """``(B, 4)`` true states -> ``(B,)`` actions of a controller that keeps the pole up for 500 steps."""
    x, x_dot, theta, theta_dot = state.T
    return (theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0).astype(int)


def test_dynamics_and_terminations_equal_gymnasiums_cartpole_from_the_same_states():
    rng = np.random.default_rng(0)
    num_envs = 24
    # starts from near upright to near the thresholds, so that some copies fail within a few steps
    starts = rng.uniform([-2.3, -2.0, -0.2, -2.0], [2.3, 2.0, 0.2, 2.0], size=(num_envs, 4))
    envs = NumpyCartPoleVectorEnv(num_envs, max_episode_steps=10_000)
    envs.reset(seed=0)
    envs.state = starts.copy()
    singles = []
    for start in starts:
        single = CartPoleEnv()
        single.reset(seed=0)
        single.state = start.copy()
        singles.append(single)
    ended_at = np.full(num_envs, -1)
    for t in range(300):
        actions = rng.integers(0, 2, num_envs)
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert not truncated.any()
        np.testing.assert_array_equal(reward, 1.0)
        for i in np.flatnonzero(ended_at < 0):
            single_obs, single_reward, single_terminated, _, _ = singles[i].step(int(actions[i]))
            assert terminated[i] == single_terminated, f"copy {i} at step {t}"
            mine = info["final_obs"][i] if single_terminated else obs[i]
            np.testing.assert_allclose(mine, single_obs, rtol=1e-6, atol=1e-6, err_msg=f"copy {i} at step {t}")
            if single_terminated:
                ended_at[i] = t
    assert (ended_at >= 0).all()  # every copy fell, each at the step Gymnasium's CartPole fell
    assert (ended_at < 3).sum() > 0 and (ended_at > 10).sum() > 0


def _run(envs, steps: int, actions=None):
    """``steps`` steps with the env's own seeded action samples (or ``actions(step)``); every result, in order."""
    out = []
    for t in range(steps):
        action = envs.action_space.sample() if actions is None else actions(t)
        out.append(envs.step(action))
    return out


def _assert_same_step(a, b, where: str):
    obs_a, reward_a, term_a, trunc_a, info_a = a
    obs_b, reward_b, term_b, trunc_b, info_b = b
    assert obs_a.dtype == obs_b.dtype == np.float32 and obs_a.shape == obs_b.shape, where
    assert obs_a.flags.c_contiguous and obs_b.flags.c_contiguous, where  # torch.as_tensor keeps the layout
    np.testing.assert_allclose(obs_a, obs_b, rtol=1e-5, atol=1e-6, err_msg=where)
    for x, y in [(reward_a, reward_b), (term_a, term_b), (trunc_a, trunc_b)]:
        assert x.dtype == y.dtype, where
        np.testing.assert_array_equal(x, y, err_msg=where)
    assert info_a.keys() == info_b.keys(), where
    if info_a:
        np.testing.assert_array_equal(info_a["_final_obs"], info_b["_final_obs"], err_msg=where)
        np.testing.assert_array_equal(info_a["_final_info"], info_b["_final_info"], err_msg=where)
        assert info_a["final_info"] == info_b["final_info"] == {}, where
        for x, y in zip(info_a["final_obs"], info_b["final_obs"]):
            assert (x is None) == (y is None), where
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=where)


@pytest.mark.parametrize("env_id", [*POMDP_IDS, "CartPole-v1"])
def test_numpy_backend_gives_the_sync_backends_spaces_episodes_and_info(env_id):
    sync = make_vector_env(env_id, 6, seed=7)
    fast = make_vector_env(env_id, 6, seed=7, backend="numpy")
    assert fast.single_observation_space == sync.single_observation_space
    assert fast.observation_space == sync.observation_space and fast.action_space == sync.action_space
    assert fast.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    ends = 0
    for t, (a, b) in enumerate(zip(_run(sync, 600), _run(fast, 600))):  # each samples its own seeded actions
        _assert_same_step(a, b, f"{env_id} step {t}")
        ends += int((a[2] | a[3]).sum())
    assert ends > 100  # many episodes ended, and restarted, along the way
    obs_a, info_a = sync.reset(seed=[3, 1, 4, 1, 5, 9])
    obs_b, info_b = fast.reset(seed=[3, 1, 4, 1, 5, 9])
    np.testing.assert_array_equal(obs_a, obs_b)
    assert info_a == info_b == {}


def test_episodes_are_truncated_after_500_steps_with_the_final_observation_and_a_fresh_start():
    fast = make_vector_env("CartPole-P", 4, seed=0, backend="numpy")
    sync = make_vector_env("CartPole-P", 4, seed=0)
    truncated_at = []
    for t in range(2 * EPISODE_STEPS):
        actions = _balancing_actions(fast.state)
        a, b = sync.step(actions), fast.step(actions)
        _assert_same_step(a, b, f"step {t}")
        obs, _, terminated, truncated, info = b
        assert not terminated.any()
        if truncated.any():
            assert truncated.all()
            truncated_at.append(t + 1)
            assert info["_final_obs"].all()
            final = np.stack(info["final_obs"])
            assert not np.array_equal(final, obs) and (np.abs(obs) <= 0.05).all()  # the next episode's first
            np.testing.assert_array_equal(fast.episode_steps, 0)
    assert truncated_at == [EPISODE_STEPS, 2 * EPISODE_STEPS]


def test_numpy_backend_is_deterministic_by_seed_and_copy_i_is_seeded_seed_plus_i():
    def observations(seed, steps=60):
        envs = make_vector_env("CartPole-VF", 3, seed=seed, backend="numpy")
        return np.stack([obs for obs, *_ in _run(envs, steps, actions=lambda t: np.full(3, t % 3 // 2))])

    a, b = observations(0), observations(1)  # (steps, envs, 2)
    np.testing.assert_array_equal(a, observations(0))
    np.testing.assert_array_equal(a[:, 1:], b[:, :2])  # copy i of seed 0 is copy i - 1 of seed 1
    assert not np.array_equal(a[:, 0], a[:, 1])
    # reset(seed=None) continues each copy's stream; reset with the first seeds starts it over
    envs = make_vector_env("CartPole-F", 3, seed=5, backend="numpy")
    first, _ = envs.reset(seed=5)
    again, _ = envs.reset()
    assert not np.array_equal(first, again)
    np.testing.assert_array_equal(envs.reset(seed=[5, 6, 7])[0], first)
    with pytest.raises(ValueError, match="one seed per copy: 3 seeds, got 2"):
        envs.reset(seed=[1, 2])


def test_flicker_blanks_a_fifth_of_the_observations_each_copy_on_its_own():
    num_envs, steps = 64, 500
    envs = make_vector_env("CartPole-VF", num_envs, seed=0, backend="numpy")
    blanks = np.zeros((steps, num_envs), dtype=bool)
    for t in range(steps):
        obs, _, terminated, truncated, info = envs.step(envs.action_space.sample())
        done = terminated | truncated
        seen = np.stack([info["final_obs"][i] if done[i] else obs[i] for i in range(num_envs)])
        blanks[t] = ~seen.any(axis=1)
        kept = ~blanks[t] & ~done
        np.testing.assert_array_equal(seen[kept], envs.state[kept].astype(np.float32)[:, [1, 3]])
    assert 0.19 < blanks.mean() < 0.21  # 32 000 draws: +-0.01 is over 4 standard deviations
    assert len({tuple(column) for column in blanks.T}) == num_envs  # every copy blanks on its own schedule
    never = make_vector_env("CartPole-V", num_envs, seed=0, backend="numpy")
    assert not any((~obs.any(axis=1)).any() for obs, *_ in _run(never, 200))


def test_bad_backend_ids_actions_and_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="backend must be one of 'sync', 'numpy', 'auto', got 'jax'"):
        make_vector_env("CartPole-P", 2, seed=0, backend="jax")
    with pytest.raises(ValueError, match="numpy backend steps CartPole only: CartPole-F, CartPole-P"):
        make_vector_env("Pendulum-v1", 2, seed=0, backend="numpy")
    with pytest.raises(ValueError, match="unknown environment id 'CartPole-Q'"):
        make_vector_env("CartPole-Q", 2, seed=0, backend="numpy")
    assert isinstance(make_vector_env("CartPole-V", 2, seed=0, backend="auto"), NumpyCartPoleVectorEnv)
    assert not isinstance(make_vector_env("Acrobot-v1", 2, seed=0, backend="auto"), NumpyCartPoleVectorEnv)
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        make_vector_env("CartPole-P", 0, seed=0, backend="numpy")
    envs = NumpyCartPoleVectorEnv(2)
    with pytest.raises(RuntimeError, match="call reset before step"):
        envs.step(np.zeros(2, dtype=int))
    envs.reset(seed=0)
    for bad in [np.array([0, 2]), np.array([0.0, 1.0]), np.zeros(3, dtype=int), np.array([-1, 0])]:
        with pytest.raises(ValueError, match="actions must be 2 integers, each 0 or 1"):
            envs.step(bad)
    with pytest.raises(ValueError, match="takes no options"):
        envs.reset(options={"low": -0.1})
    with pytest.raises(ValueError, match=r"dims must lie in \[0, 3\]"):
        NumpyCartPoleVectorEnv(2, dims=(0, 4))
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        NumpyCartPoleVectorEnv(2, flicker=1.5)
