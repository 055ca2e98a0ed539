"""The parts of recurrent PPO: the replay of stored sequences, the clipped loss, the greedy evaluation."""

import math

import numpy as np
import pytest
import torch
from float_rounding import approx_kl_tolerance, assert_agree_to_rounding, replay_terms, rounding_tolerance

import grsn_edu.rl.ppo as ppo
from grsn_edu.envs.gym_tasks import make_vector_env
from grsn_edu.rl.agents import PolicyActor, RecurrentActorCritic, ReturnNormalizer
from grsn_edu.rl.ppo import Acting, PPOConfig, clipped_ppo_loss, collect_rollout, evaluate, ppo_update, replay_policy
from grsn_edu.snn.trace import Trace

CORES = [("gru", {}), ("lif", {"readout": "both"}), ("grsn", {"readout": "both"}), ("grsn", {"substeps": 2}),
         ("grsn-first-release", {"readout": "both", "reset_membrane_each_call": False})]


def _rollout(core, options, num_envs=4, num_steps=48):
    """A second rollout: it starts mid-episode (a non-zero stored state) and holds episode starts inside."""
    torch.manual_seed(0)
    agent = RecurrentActorCritic(2, 2, core, 16, **options)
    acting = Acting.start_fresh(agent, make_vector_env("CartPole-P", num_envs, 0), seed=0)
    collect_rollout(agent, acting, 16, 0.98)
    rollout = collect_rollout(agent, acting, num_steps, 0.98)
    assert rollout.starts[1:].any(), "the test needs an episode boundary inside the sequence"
    assert any(v.abs().sum() > 0 for part in rollout.start_state.values() for v in part.values())
    return agent, rollout


@torch.no_grad()
def _replay_logratio(agent, rollout):
    """``log pi_replayed(a) - log pi_acting(a)`` of every stored action ``(T, B)``, the replayed logits and values."""
    logits, values = replay_policy(agent, rollout, torch.arange(rollout.actions.shape[1]))
    logp = torch.distributions.Categorical(logits=logits).log_prob(rollout.actions)
    return logp - rollout.logprobs, logits, values


def _logratio_tolerance(agent, rollout):
    """Acting and the replay compute each log-probability with matrices of other shapes (one step of all the
    environments; a whole sequence of some): they agree to float32 rounding (float_rounding), not bit for bit."""
    return rounding_tolerance(replay_terms(agent, rollout.actions.shape[0]))


@pytest.mark.parametrize("core,options", CORES)
def test_replayed_sequences_give_ratio_one_before_any_update(core, options):
    agent, rollout = _rollout(core, options)
    logratio, logits, values = _replay_logratio(agent, rollout)
    assert logratio.abs().max() <= _logratio_tolerance(agent, rollout)  # the ratio is 1 to float32 rounding
    assert_agree_to_rounding(values, rollout.values, replay_terms(agent, rollout.actions.shape[0]), "the values")
    # the invariant needs both the stored start state and the stored episode starts
    fresh, _, _ = agent(rollout.obs, agent.initial_state(4), episode_start=rollout.starts, normalized=True)
    no_resets, _, _ = agent(rollout.obs, rollout.start_state, normalized=True)
    assert not torch.allclose(fresh, logits) and not torch.allclose(no_resets, logits)


def test_the_authors_reset_at_every_call_breaks_the_replay():
    """The authors' cell zeroes its membrane at every call: acting (one call per step) and the replay (one call per
    stored sequence) compute different policies, so the ratio is off 1 before any update; carried, it is 1 to
    float32 rounding."""
    gaps = {}
    for reset in (True, False):
        agent, rollout = _rollout("grsn-first-release", {"readout": "both", "reset_membrane_each_call": reset})
        gaps[reset] = float(_replay_logratio(agent, rollout)[0].abs().max())
    tolerance = _logratio_tolerance(agent, rollout)
    assert gaps[False] <= tolerance
    # carried, only rounding is left; reset, the ratio is off by more than 30 times the rounding bound (the
    # small policy head keeps the logits, and so any change of them, small)
    assert gaps[True] > 10 * tolerance


@pytest.mark.parametrize("core,options", CORES)
def test_one_optimizer_step_moves_the_replay_far_past_rounding(core, options):
    """The tolerance is no blind spot: a policy one gradient step (Adam, lr 1e-3) away from the one that acted
    moves some log-probability a hundred times further than float32 rounding can."""
    agent, rollout = _rollout(core, options)
    advantages = torch.randn(rollout.rewards.shape, generator=torch.Generator().manual_seed(0))
    ppo_update(agent, torch.optim.Adam(agent.parameters(), lr=1e-3), rollout, advantages,
               advantages + rollout.values, PPOConfig(update_epochs=1, num_minibatches=1))
    logratio, _, _ = _replay_logratio(agent, rollout)
    assert logratio.abs().max() > 100 * _logratio_tolerance(agent, rollout)


def test_first_minibatch_of_an_update_sees_the_policy_that_acted():
    """Through the training path: with one epoch and one minibatch the loss is taken before any gradient step,
    so the ratio is 1 everywhere, to float32 rounding: no KL beyond rounding, nothing clipped."""
    agent, rollout = _rollout("grsn", {"readout": "both"})
    cfg = PPOConfig(update_epochs=1, num_minibatches=1)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    advantages = torch.randn_like(rollout.rewards)
    kl_tolerance = approx_kl_tolerance(_logratio_tolerance(agent, rollout))
    stats = ppo_update(agent, optimizer, rollout, advantages, advantages + rollout.values, cfg)
    assert abs(stats["approx_kl"]) <= kl_tolerance and stats["clip_fraction"] == 0.0
    # after that step the policy has moved, by far more than rounding
    stats = ppo_update(agent, optimizer, rollout, advantages, advantages + rollout.values, cfg)
    assert stats["approx_kl"] > 100 * kl_tolerance


def test_clipped_loss_by_hand():
    """Two samples, new policy 0.5/0.5. Sample 0: old probability 0.25 (ratio 2, clipped to 1.2), advantage +1;
    sample 1: old probability 0.5 (ratio 1), advantage -1. Normalised advantages are +-1/sqrt(2)."""
    logits = torch.zeros(2, 2, requires_grad=True)
    old = torch.tensor([0.25, 0.5]).log()
    loss, stats = clipped_ppo_loss(logits, torch.tensor([1.0, 0.0]), torch.tensor([0, 1]), old,
                                   torch.tensor([1.0, -1.0]), torch.zeros(2), clip_coef=0.2, vf_coef=0.5, ent_coef=0.01)
    a = 1 / math.sqrt(2)
    policy = (-a * 1.2 + a * 1.0) / 2  # max(-a*2, -a*1.2) = -1.2a ; max(a, a) = a
    value = 0.5 * (1.0 + 0.0) / 2
    assert stats["policy_loss"] == pytest.approx(policy, rel=1e-6)
    assert stats["value_loss"] == pytest.approx(value)
    assert stats["entropy"] == pytest.approx(math.log(2))
    assert loss.item() == pytest.approx(policy + 0.5 * value - 0.01 * math.log(2), rel=1e-6)
    assert stats["clip_fraction"] == 0.5
    assert stats["approx_kl"] == pytest.approx((1 - math.log(2)) / 2, rel=1e-6)  # ((r - 1) - log r), mean
    # the clipped sample gives the policy no gradient: its ratio is already past 1 + eps in the advantage's direction
    pg_only, _ = clipped_ppo_loss(logits, torch.zeros(2), torch.tensor([0, 1]), old, torch.tensor([1.0, -1.0]),
                                  torch.zeros(2), clip_coef=0.2, vf_coef=0.0, ent_coef=0.0)
    grad = torch.autograd.grad(pg_only, logits)[0]
    assert torch.equal(grad[0], torch.zeros(2)) and grad[1].abs().sum() > 0
    # the advantages as given: (max(-1 * 2, -1 * 1.2) + max(1, 1)) / 2
    _, raw = clipped_ppo_loss(logits, torch.zeros(2), torch.tensor([0, 1]), old, torch.tensor([1.0, -1.0]),
                              torch.zeros(2), clip_coef=0.2, vf_coef=0.5, ent_coef=0.0, normalize_advantages=False)
    assert raw["policy_loss"] == pytest.approx((-1.2 + 1.0) / 2, rel=1e-6)


def _policy_step(advantage_norm, scale, num_minibatches=2):
    """How far two epochs of plain SGD move the actor's weights (Adam would hide a change of the advantages'
    scale)."""
    agent, rollout = _rollout("gru", {})
    cfg = PPOConfig(update_epochs=2, num_minibatches=num_minibatches, advantage_norm=advantage_norm)
    optimizer = torch.optim.SGD(agent.parameters(), lr=0.1)
    advantages = torch.linspace(-1.0, 3.0, rollout.rewards.numel()).view_as(rollout.rewards)
    advantages[:, :2] *= 5  # the environments' advantages differ in spread
    before = torch.cat([agent.actor.weight.detach().flatten(), agent.actor.bias.detach()])
    torch.manual_seed(5)  # the same minibatch split every time
    ppo_update(agent, optimizer, rollout, advantages * scale, rollout.values, cfg)
    return torch.cat([agent.actor.weight.detach().flatten(), agent.actor.bias.detach()]) - before


def _same(a, b):
    return float((a - b).norm()) < 1e-3 * float(a.norm())


def test_advantage_normalisation_per_minibatch_per_batch_or_off():
    minibatch, batch, off = (_policy_step(norm, 1.0) for norm in ("minibatch", "batch", "off"))
    # normalised advantages do not depend on the advantages' scale; raw ones do
    assert _same(minibatch, _policy_step("minibatch", 10.0)) and _same(batch, _policy_step("batch", 10.0))
    assert not _same(off, _policy_step("off", 10.0))
    # per minibatch and per batch differ when the minibatches differ, and agree with a single minibatch
    assert not _same(minibatch, batch)
    assert _same(_policy_step("minibatch", 1.0, 1), _policy_step("batch", 1.0, 1))


def test_update_statistics_are_means_over_every_minibatch(monkeypatch):
    agent, rollout = _rollout("gru", {})
    cfg = PPOConfig(update_epochs=3, num_minibatches=2)
    seen, real_loss = [], ppo.clipped_ppo_loss

    def recording_loss(*args, **kwargs):
        loss, stats = real_loss(*args, **kwargs)
        seen.append(stats)
        return loss, stats

    monkeypatch.setattr(ppo, "clipped_ppo_loss", recording_loss)
    returns = rollout.values + 1.0  # the rollout's values miss every return by exactly 1
    stats = ppo_update(agent, torch.optim.Adam(agent.parameters(), lr=1e-2), rollout,
                       torch.randn_like(rollout.rewards), returns, cfg)
    # the first minibatch replays half of the environments, acting stepped all of them: other matrix shapes, the
    # same policy (float_rounding); five gradient steps later the policy has moved far beyond that
    kl_tolerance = approx_kl_tolerance(_logratio_tolerance(agent, rollout))
    assert len(seen) == 6 and abs(seen[0]["approx_kl"]) <= kl_tolerance
    assert seen[-1]["approx_kl"] > 100 * kl_tolerance
    for key in seen[0]:
        assert stats[key] == pytest.approx(np.mean([s[key] for s in seen]))
    assert stats["explained_variance"] == pytest.approx(1.0, abs=1e-5)  # a constant error explains everything


def test_return_normalizer_by_hand():
    """Two environments, gamma 0.5: the running variance is that of every discounted return so far (and a prior
    of weight 1e-4 with mean 0, variance 1); the returns restart after an episode ends."""
    norm = ReturnNormalizer(num_envs=2, gamma=0.5)
    rewards = [[1.0, 2.0], [1.0, 2.0], [4.0, 0.0]]
    dones = [[False, True], [False, False], [False, False]]
    returns, seen, prior = np.zeros(2), [], 1e-4
    for r, d in zip(rewards, dones):
        returns = 0.5 * returns + np.array(r)
        seen += returns.tolist()
        x = np.array(seen)
        mean = x.sum() / (prior + len(x))
        var = (prior * (1.0 + mean**2) + ((x - mean) ** 2).sum()) / (prior + len(x))
        expected = np.array(r) / np.sqrt(var + 1e-8)
        scaled = norm(torch.tensor(r), torch.tensor(d))
        assert scaled.tolist() == pytest.approx(expected.tolist(), rel=1e-5)
        returns[np.array(d)] = 0.0
    assert seen == [1.0, 2.0, 1.5, 2.0, 4.75, 1.0]  # environment 1 restarted after step 0
    assert float(norm.count) == pytest.approx(prior + 6)
    big = ReturnNormalizer(num_envs=1, gamma=0.0)
    big.var.fill_(1e-6)
    assert big(torch.tensor([5.0]), torch.tensor([False])).item() == 10.0  # clipped at 10


def _old_evaluate(agent, env_id, episodes, seed):
    """Greedy evaluation as it was written before the shared episode loop: the whole agent (value core too)."""
    envs = make_vector_env(env_id, episodes, seed)
    obs, _ = envs.reset(seed=[seed + i for i in range(episodes)])
    state = agent.initial_state(episodes)
    returns, alive = np.zeros(episodes), np.ones(episodes, dtype=bool)
    spikes, spike_steps = 0.0, 0
    with torch.no_grad():
        while alive.any():
            trace = Trace() if agent.core.spiking else None
            logits, _, state = agent(torch.as_tensor(obs, dtype=torch.float32)[None], state, trace=trace)
            if trace is not None:
                spikes += float(trace["spk"][:, alive].mean()) * int(alive.sum())
                spike_steps += int(alive.sum())
            obs, reward, term, trunc, _ = envs.step(logits[0].argmax(-1).numpy())
            returns += reward * alive
            alive &= ~(term | trunc)
    return returns, spikes / spike_steps if spike_steps else float("nan")


@pytest.mark.parametrize("core,options", CORES + [("mlp", {})])
def test_evaluate_acts_with_the_policy_alone_and_gets_the_same_numbers(core, options):
    torch.manual_seed(1)
    agent = RecurrentActorCritic(2, 2, core, 16, **options)
    agent.normalizer.update(torch.randn(64, 2) * 0.1)
    returns, rate = evaluate(agent, "CartPole-V", episodes=5, seed=3)
    ref_returns, ref_rate = _old_evaluate(agent, "CartPole-V", 5, 3)
    assert returns.tolist() == ref_returns.tolist() and len(set(returns)) > 1
    assert rate == ref_rate or (np.isnan(rate) and np.isnan(ref_rate))


def test_policy_actor_never_runs_the_value_core():
    torch.manual_seed(0)
    agent = RecurrentActorCritic(2, 2, "gru", 8)
    agent.value_core = None  # gone: acting must not need it
    actor = PolicyActor(agent, batch_size=3, record=True)
    actions = actor(np.zeros((3, 2), dtype=np.float32))
    assert actions.shape == (3,) and actor.trace["h"].shape == (1, 3, 8) and actor.logits.shape == (3, 2)
