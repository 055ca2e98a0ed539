"""The parts of QMIX/VDN: the double-Q target, the masked TD loss, the episode buffer, one update."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from grsn_edu.rl.episode_buffer import EpisodeBuffer
from grsn_edu.rl.mixers import QMixer, VDNMixer
from grsn_edu.rl.qmix import AgentNetwork, MARLConfig, double_q_targets, masked_td_loss, qmix_update


def _hand_batch():
    """T=2 steps, B=1 episode, N=2 agents, A=3 actions. Online and target Q differ, so it shows which picks."""
    q_online = torch.tensor([[[[0.0, 5.0, 1.0], [2.0, 0.0, 9.0]]],   # step 1: agent 0 picks 1, agent 1 picks 2
                             [[[7.0, 0.0, 0.0], [0.0, 3.0, 1.0]]]])  # step 2: agent 0 picks 0, agent 1 picks 1
    q_target = torch.tensor([[[[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]]],
                             [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    return q_online, q_target


def test_double_q_vdn_target_by_hand():
    q_online, q_target = _hand_batch()
    reward = torch.tensor([[1.0], [2.0]])
    terminated = torch.tensor([[0.0], [1.0]])  # the episode terminates at the second step: no future there
    y = double_q_targets(q_online, q_target, VDNMixer(), torch.zeros(2, 1, 4), reward, terminated, gamma=0.5)
    # step 1: the online net picks actions (1, 2); the target net values them 20 + 60; 1 + 0.5 * 80 = 41
    # step 2: terminated, so just the reward 2 (the target values 1 + 5 would have added 3)
    assert y.tolist() == [[41.0], [2.0]]
    assert not y.requires_grad


def test_double_q_target_feeds_the_mixer_the_target_values_and_next_states():
    q_online, q_target = _hand_batch()
    seen = {}

    class Probe(nn.Module):
        def forward(self, agent_qs, state):
            seen["qs"], seen["state"] = agent_qs, state
            return agent_qs.sum(-1) * state[..., 0]

    next_states = torch.tensor([[[2.0, 0.0]], [[3.0, 0.0]]])
    y = double_q_targets(q_online, q_target, Probe(), next_states, torch.zeros(2, 1), torch.zeros(2, 1), gamma=1.0)
    assert seen["qs"].tolist() == [[[20.0, 60.0]], [[1.0, 5.0]]] and torch.equal(seen["state"], next_states)
    assert y.tolist() == [[160.0], [18.0]]


def test_masked_td_loss_ignores_padding():
    q_tot = torch.tensor([[1.0, 0.0], [2.0, 100.0]])
    targets = torch.tensor([[0.0, 0.0], [0.0, -100.0]])
    filled = torch.tensor([[1.0, 1.0], [1.0, 0.0]])  # episode 1 ended after one step
    assert masked_td_loss(q_tot, targets, filled).item() == pytest.approx((1 + 0 + 4) / 3)


def _episode(k, T=3, N=2, O=4, S=5, steps=None):
    steps = T if steps is None else steps
    filled = torch.zeros(T)
    filled[:steps] = 1.0
    return {"obs": torch.full((T + 1, N, O), float(k)), "state": torch.full((T + 1, S), float(k)),
            "actions": torch.full((T, N), k % 3, dtype=torch.long), "reward": torch.full((T,), float(k)) * filled,
            "terminated": torch.zeros(T), "filled": filled, "return": 0.0, "steps": steps}


def test_episode_buffer_wraps_around_overwriting_the_oldest():
    buffer = EpisodeBuffer(capacity=3, T=3, n_agents=2, obs_size=4, state_size=5)
    for k in range(1, 6):  # episodes 1..5 into 3 slots
        buffer.add(_episode(k))
    assert buffer.size == 3 and buffer.next == 2
    assert buffer.obs[:, 0, 0, 0].tolist() == [4.0, 5.0, 3.0]  # 1 and 2 overwritten, in order
    stored = buffer.sample(200, torch.Generator().manual_seed(0))["obs"][:, 0, 0, 0]
    assert set(stored.tolist()) == {3.0, 4.0, 5.0}


def test_episode_buffer_samples_only_filled_slots():
    buffer = EpisodeBuffer(capacity=10, T=3, n_agents=2, obs_size=4, state_size=5)
    buffer.add(_episode(7))
    buffer.add(_episode(8, steps=2))
    batch = buffer.sample(100, torch.Generator().manual_seed(1))
    assert set(batch["obs"][:, 0, 0, 0].tolist()) == {7.0, 8.0}  # never an empty slot of zeros
    assert {tuple(f.tolist()) for f in batch["filled"]} == {(1.0, 1.0, 1.0), (1.0, 1.0, 0.0)}
    assert batch["actions"].dtype == torch.long and batch["state"].shape == (100, 4, 5)


@pytest.mark.parametrize("mixer_name", ["qmix", "vdn"])
def test_update_ignores_what_lies_beyond_an_episodes_end(mixer_name):
    """Two batches that differ only after the first episode's end (filled = 0) give the same loss and weights."""
    torch.manual_seed(0)
    cfg = MARLConfig(agent="gru", mixer=mixer_name, hidden_size=8, gamma=0.9)
    net = AgentNetwork(4, 2, 3, "gru", 8)
    mixer = QMixer(2, 5, 8, 8) if mixer_name == "qmix" else VDNMixer()
    batch = {k: torch.stack([_episode(1, steps=2)[k], _episode(2)[k]]) for k in ("obs", "state", "actions", "reward",
                                                                                "terminated", "filled")}
    batch["obs"] = batch["obs"] + torch.randn_like(batch["obs"])
    other = {k: v.clone() for k, v in batch.items()}
    other["reward"][0, 2] = 1000.0  # beyond episode 0's end
    other["actions"][0, 2] = 2
    other["obs"][0, 3] = 50.0
    other["state"][0, 3] = -50.0
    results = []
    for b in (batch, other):
        online, mix = copy.deepcopy(net), copy.deepcopy(mixer)
        params = list(online.parameters()) + list(mix.parameters())
        loss = qmix_update(online, mix, copy.deepcopy(net), copy.deepcopy(mixer),
                           torch.optim.SGD(params, lr=0.1), params, b, cfg)
        results.append((loss, [p.detach().clone() for p in params]))
    assert results[0][0] == results[1][0]
    assert all(torch.equal(a, b) for a, b in zip(results[0][1], results[1][1]))
    # while a change inside the episode does change the loss
    inside = {k: v.clone() for k, v in batch.items()}
    inside["reward"][0, 1] = 1000.0
    online, mix = copy.deepcopy(net), copy.deepcopy(mixer)
    params = list(online.parameters()) + list(mix.parameters())
    loss = qmix_update(online, mix, copy.deepcopy(net), copy.deepcopy(mixer), torch.optim.SGD(params, lr=0.1), params,
                       inside, cfg)
    assert not np.isclose(loss, results[0][0])
