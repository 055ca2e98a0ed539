"""MAPPO's parts by hand: the replay is what acting computed, advantages stop at episode ends, the critic is fed
the global state and the time."""

import dataclasses

import pytest
import torch
from torch import nn

from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.rl.agents import ValueNorm
from grsn_edu.rl.mappo import (
    FIRST_MAPPO_SETTINGS,
    MAPPOConfig,
    TeamCritic,
    mappo_advantages,
    replay_team_policy,
    sampler,
    team_critic,
)
from grsn_edu.rl.ppo import clipped_ppo_loss
from grsn_edu.rl.team import AgentNetwork, agent_network, play_team_episodes


def test_replay_before_an_update_gives_acting_log_probabilities():
    torch.manual_seed(0)
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="grsn", hidden_size=16, readout="spikes")
    logprobs = []
    ep = play_team_episodes(make_team_envs("spread_memory", 4), net, range(4), sampler(logprobs))
    acted = torch.stack(logprobs)  # (T, B, N)
    logits = replay_team_policy(net, ep, torch.arange(4))
    replayed = torch.distributions.Categorical(logits=logits).log_prob(ep["actions"].transpose(0, 1))
    assert acted.shape == replayed.shape == (25, 4, 3)
    assert (acted - replayed).abs().max() < 1e-5
    # a subset of episodes replays to the same numbers as the whole batch
    assert torch.allclose(replay_team_policy(net, ep, torch.tensor([2])), logits[:, 2:3], atol=1e-6)


class ZeroCritic(nn.Module):
    def forward(self, state, time):
        return torch.zeros(state.shape[:-1])


def test_advantages_stop_at_the_end_of_each_episode():
    # episode 0: 2 steps, truncated at the end; episode 1: terminated after 1 step, then one step of padding
    ep = {"state": torch.zeros(2, 3, 4), "terminated": torch.tensor([[0.0, 0.0], [1.0, 0.0]]),
          "truncated": torch.tensor([[0.0, 1.0], [0.0, 0.0]]), "filled": torch.tensor([[1.0, 1.0], [1.0, 0.0]])}
    rewards = torch.tensor([[1.0, 1.0], [2.0, 5.0]])  # the 5 is padding and must not count
    adv, ret, values = mappo_advantages(ZeroCritic(), ep, rewards, gamma=0.5, gae_lambda=1.0)
    assert adv[:, 0].tolist() == [1.5, 1.0] and adv[0, 1].item() == 2.0
    assert torch.equal(ret, adv) and not values.any()


def test_critic_reads_state_and_time():
    critic = TeamCritic(state_size=4, hidden=8)
    s = torch.randn(5, 4)
    assert critic(s, torch.zeros(5)).shape == (5,)
    assert not torch.equal(critic(s, torch.zeros(5)), critic(s, torch.ones(5)))


class ConstantCritic(nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, state, time):
        return torch.full(state.shape[:-1], self.value)


def test_with_value_norm_the_critic_s_outputs_are_turned_back_into_returns():
    """A critic that says 1 (one standard deviation above the mean) of targets with mean -20 and std 10 is worth -10
    in the rewards' units: the advantages of a 1-step episode are reward - (-10)."""
    norm = ValueNorm()
    norm.update(torch.tensor([-30.0, -10.0]))
    ep = {"state": torch.zeros(1, 2, 4), "terminated": torch.tensor([[1.0]]), "truncated": torch.tensor([[0.0]]),
          "filled": torch.tensor([[1.0]])}
    adv, ret, values = mappo_advantages(ConstantCritic(1.0), ep, torch.tensor([[-4.0]]), 0.99, 0.95, norm)
    assert values.item() == pytest.approx(-10.0) and adv.item() == pytest.approx(6.0) and ret.item() == -4.0


def test_value_norm_tracks_the_mean_and_spread_of_every_batch_so_far():
    torch.manual_seed(0)
    norm = ValueNorm()
    batches = [torch.randn(500) * 5 - 40, torch.randn(500) * 5 - 20]
    for batch in batches:
        norm.update(batch)
    both = torch.cat(batches).double()
    mean, std = norm.stats()
    # beta = 0.99999: the two batches weigh 1 and 0.99999, so the statistics are those of their union to ~1e-5
    assert float(mean) == pytest.approx(float(both.mean()), rel=1e-4)
    assert float(std) == pytest.approx(float(both.std(unbiased=False)), rel=1e-4)
    x = torch.tensor([-35.0, -5.0])
    assert torch.allclose(norm.denormalize(norm.normalize(x)), x, atol=1e-5)
    with pytest.raises(ValueError, match="beta must lie in"):
        ValueNorm(beta=1.0)


def test_the_huber_value_loss_is_the_squared_one_near_the_target_and_linear_far_from_it():
    logits, actions, old = torch.zeros(2, 5), torch.tensor([0, 1]), torch.full((2,), 0.2).log()
    adv = torch.tensor([1.0, -1.0])
    near = torch.tensor([0.5, -0.5])  # errors within delta
    _, squared = clipped_ppo_loss(logits, near, actions, old, adv, torch.zeros(2), 0.2, 1.0, 0.0)
    _, huber = clipped_ppo_loss(logits, near, actions, old, adv, torch.zeros(2), 0.2, 1.0, 0.0, huber_delta=10.0)
    assert huber["value_loss"] == pytest.approx(squared["value_loss"]) == pytest.approx(0.125)
    far = torch.tensor([30.0, -30.0])  # errors of 30 against delta 10: 10 * (30 - 5) each
    _, huber = clipped_ppo_loss(logits, far, actions, old, adv, torch.zeros(2), 0.2, 1.0, 0.0, huber_delta=10.0)
    assert huber["value_loss"] == pytest.approx(250.0)


def test_the_reference_settings_build_a_relu_critic_and_a_near_uniform_policy():
    cfg = MAPPOConfig(agent="gru").validate()
    critic = team_critic(cfg, 54)
    assert isinstance(critic.net[1], nn.ReLU) and critic.net[0].out_features == 64
    torch.manual_seed(0)
    net = agent_network(cfg, 18, 3, 5)
    logits, _ = net(torch.randn(1, 3, net.input_size), net.initial_state(1))
    assert logits.abs().max() < 0.1  # gain 0.01 on the output layer: every action starts near probability 1/5
    first = MAPPOConfig(agent="gru", **FIRST_MAPPO_SETTINGS).validate()
    assert isinstance(team_critic(first, 54).net[1], nn.Tanh) and agent_network(first, 18, 3, 5).q_head.bias.any()


def test_a_config_saved_before_the_reference_settings_reads_back_as_it_ran():
    saved = dataclasses.asdict(MAPPOConfig(agent="gru", **FIRST_MAPPO_SETTINGS))
    for name in ("head_gain", "value_norm", "huber_delta", "critic_activation", "critic_init", "bootstrap_time_limit"):
        del saved[name]
    assert MAPPOConfig.from_dict(saved) == MAPPOConfig(agent="gru", **FIRST_MAPPO_SETTINGS)


def test_without_the_time_limit_bootstrap_a_truncated_episode_ends_there():
    ep = {"state": torch.zeros(1, 2, 4), "terminated": torch.tensor([[0.0]]), "truncated": torch.tensor([[1.0]]),
          "filled": torch.tensor([[1.0]])}
    topped, _, _ = mappo_advantages(ConstantCritic(10.0), ep, torch.tensor([[1.0]]), 0.5, 1.0)
    ended, _, _ = mappo_advantages(ConstantCritic(10.0), ep, torch.tensor([[1.0]]), 0.5, 1.0,
                                   bootstrap_time_limit=False)
    assert topped.item() == 1.0 + 0.5 * 10.0 - 10.0 and ended.item() == 1.0 - 10.0
