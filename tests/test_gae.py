"""GAE and the time-limit bootstrap, against hand computations, and the bootstrap as acting applies it."""

import gymnasium as gym
import numpy as np
import torch

from grsn_edu.rl.agents import RecurrentActorCritic
from grsn_edu.rl.gae import bootstrap_truncated, gae
from grsn_edu.rl.ppo import Acting, collect_rollout


def test_gae_by_hand_with_a_terminated_and_a_truncated_episode():
    """gamma = lambda = 0.5, every value 2, the value after the rollout 4. Both environments end an episode at t=1:
    environment 0 terminates there (no future), environment 1 is cut by the time limit with V(final obs) = 6."""
    gamma, lam = 0.5, 0.5
    raw = torch.ones(4, 2)
    rewards = raw.clone()
    rewards[1] = bootstrap_truncated(raw[1], torch.tensor([100.0, 6.0]), np.array([False, True]),
                                     np.array([True, False]), gamma)
    assert rewards[1].tolist() == [1.0, 4.0]  # 1 + 0.5 * 6 where truncated; the terminated one gets nothing
    values = torch.full((4, 2), 2.0)
    dones = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    adv, ret = gae(rewards, values, dones, torch.tensor([4.0, 4.0]), gamma, lam)
    # t=3: 1 + 0.5*4 - 2 = 1                  t=2: (1 + 0.5*2 - 2) + 0.25*1 = 0.25
    # t=1, env 0: 1 - 2 = -1 (done: no future)  env 1: 4 - 2 = 2
    # t=0, env 0: (1 + 0.5*2 - 2) + 0.25*(-1) = -0.25   env 1: 0 + 0.25*2 = 0.5
    assert adv[:, 0].tolist() == [-0.25, -1.0, 0.25, 1.0]
    assert adv[:, 1].tolist() == [0.5, 2.0, 0.25, 1.0]
    assert torch.equal(ret, adv + values)


def test_bootstrap_needs_truncation_without_termination():
    got = bootstrap_truncated(torch.zeros(4), torch.full((4,), 10.0), np.array([True, True, False, False]),
                              np.array([False, True, True, False]), 0.9)
    assert got.tolist() == [9.0, 0.0, 0.0, 0.0]


def _short_cartpoles(num_envs, limit):
    return gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1", max_episode_steps=limit) for _ in range(num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def test_acting_bootstraps_a_time_limit_from_the_final_observations_value():
    """Acting with a 5-step time limit: the reward of the step the limit cut is 1 + gamma * V(final observation),
    V read from the observation the limit cut off (not the next episode's first), elsewhere the reward is 1."""
    torch.manual_seed(0)
    agent = RecurrentActorCritic(4, 2, "mlp", 8)  # memoryless: V depends on the observation alone
    agent.normalizer.update = lambda batch: None  # keep the normaliser fixed, so V can be recomputed afterwards
    envs = _short_cartpoles(3, limit=5)
    acting = Acting.start_fresh(agent, envs, seed=7)
    rollout = collect_rollout(agent, acting, num_steps=12, gamma=0.9)
    assert rollout.dones[4].tolist() == [1.0, 1.0, 1.0]  # balancing 5 steps is easy: every episode is cut
    for i in range(3):  # replay environment i's first episode to find its final observation
        env = gym.make("CartPole-v1", max_episode_steps=5)
        env.reset(seed=7 + i)
        for t in range(5):
            final, _, terminated, truncated, _ = env.step(int(rollout.actions[t, i]))
        assert truncated and not terminated
        with torch.no_grad():
            _, value, _ = agent(torch.as_tensor(final, dtype=torch.float32).view(1, 1, 4), agent.initial_state(1))
        # (to float rounding: acting computed V in a batch of 3)
        assert abs(float(rollout.rewards[4, i]) - (1.0 + 0.9 * float(value[0, 0]))) < 1e-6
    assert (rollout.rewards[:4] == 1).all() and (rollout.rewards[5:9] == 1).all()
    assert [length for _, _, length in rollout.finished] == [5, 5, 5, 5, 5, 5]  # the bootstrap is not in returns
    assert [ret for _, ret, _ in rollout.finished] == [5.0] * 6
