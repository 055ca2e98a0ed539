"""The two episode loops (Gymnasium vector env, PettingZoo Parallel env) against plain hand-written loops."""

import numpy as np
import pytest

from grsn_edu.envs.gym_tasks import make_env, make_vector_env
from grsn_edu.envs.spread import make_marl_env, spread_controller_actions
from grsn_edu.rl.episodes import parallel_env_sizes, play_parallel_episode, play_vector_episodes


def _lean(obs):
    """Push towards where the pole leans (CartPole-F observations: x, x_dot, theta, theta_dot); it falls soon."""
    obs = np.atleast_2d(obs)
    return (obs[:, 2] > 0).astype(int)


def test_vector_loop_counts_each_environment_until_its_first_episode_ends():
    seeds = [3, 4, 5, 6]
    envs = make_vector_env("CartPole-F", len(seeds), seed=0)
    obs, _ = envs.reset(seed=seeds)
    steps = []
    returns = play_vector_episodes(envs, _lean, obs, on_step=steps.append)
    envs.close()
    expected = []
    for seed in seeds:  # the same episodes, one environment at a time
        env = make_env("CartPole-F")
        o, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            o, r, terminated, truncated, _ = env.step(int(_lean(o)[0]))
            total, done = total + r, terminated or truncated
        expected.append(total)
    assert returns.tolist() == expected and len(set(expected)) > 1
    assert len(steps) == max(expected)  # it runs until the longest episode has ended
    alive_steps = np.array([s.alive for s in steps]).sum(0)
    assert alive_steps.tolist() == expected  # one counted step per reward
    assert all(np.array_equal(a.next_obs, b.obs) for a, b in zip(steps, steps[1:]))


def test_vector_loop_stops_at_max_steps():
    envs = make_vector_env("CartPole-F", 2, seed=0)
    obs, _ = envs.reset(seed=[0, 1])
    returns = play_vector_episodes(envs, _lean, obs, max_steps=5)
    assert returns.tolist() == [5.0, 5.0]


def test_parallel_loop_plays_the_episode_a_hand_written_loop_plays():
    env = make_marl_env("spread_memory")
    obs, _ = env.reset(seed=2)
    steps = []
    team_return, n = play_parallel_episode(env, lambda obs: spread_controller_actions(env), obs, on_step=steps.append)
    env.reset(seed=2)
    total, t = 0.0, 0
    while env.agents:
        _, rewards, *_ = env.step(spread_controller_actions(env))
        total, t = total + float(sum(rewards.values())), t + 1
    assert (team_return, n) == (total, t) == (team_return, 25)
    assert [s.t for s in steps] == list(range(25))
    assert all(all(np.array_equal(a.next_obs[k], b.obs[k]) for k in a.next_obs) for a, b in zip(steps, steps[1:]))
    assert steps[-1].truncations == {a: True for a in env.possible_agents}


def test_parallel_loop_max_steps_and_the_policy_sees_each_steps_observations():
    env = make_marl_env("simple_spread")
    obs, _ = env.reset(seed=0)
    seen = []

    def wait(obs):
        seen.append(obs)
        return {a: 0 for a in env.agents}

    _, n = play_parallel_episode(env, wait, obs, max_steps=4)
    assert n == 4 and len(seen) == 4 and seen[0] is obs


@pytest.mark.parametrize("env_id", ["simple_spread", "spread_memory"])
def test_parallel_env_sizes(env_id):
    agents, obs_size, n_actions, state_size = parallel_env_sizes(make_marl_env(env_id))
    assert agents == ["agent_0", "agent_1", "agent_2"] and (obs_size, n_actions, state_size) == (18, 5, 54)
