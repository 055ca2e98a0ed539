"""MAPPO's parts by hand: the replay is what acting computed, advantages stop at episode ends, the critic is fed
the global state and the time."""

import torch
from torch import nn

from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.rl.mappo import TeamCritic, mappo_advantages, replay_team_policy, sampler
from grsn_edu.rl.team import AgentNetwork, play_team_episodes


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
