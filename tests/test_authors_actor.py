"""The authors' actor layout, counted: tiny actors by hand, the full-size layout and its ratios by formula."""

import pytest
import torch

from grsn_edu.rl.authors_actor import (
    ActorBatch,
    AuthorsActor,
    actor_ops,
    cartpole_batch,
    compare_actor_energy,
    imitate,
    imitation_accuracy,
)
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small matrices: one thread is faster, and a shared machine is not oversubscribed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tiny(cell, candidate=4.0, **options):
    """O=2, A=2, embeddings (2, 1, 2), H=3, one policy layer of 4. Every embedding has zero weights and bias
    0.5, so the cell reads 0.5 in all 5 inputs at every step (real-valued). The GRSN's forget gate is 0
    (F = 1/2) and its candidate is ``candidate`` in units 0 and 2 (from the first input), 0 in unit 1."""
    torch.manual_seed(0)
    actor = AuthorsActor(2, 2, cell=cell, hidden_size=3, action_embedding=2, reward_embedding=1,
                         observ_embedding=2, policy_layers=(4,), **options)
    with torch.no_grad():
        for fc in (actor.action_embedder, actor.reward_embedder, actor.observ_embedder):
            fc.weight.zero_()
            fc.bias.fill_(0.5)
        if cell == "grsn":
            actor.cell.forget_gate.weight.zero_()
            actor.cell.input_gate.weight.zero_()
            actor.cell.input_gate.weight[[0, 2], 0] = candidate / 0.5
    return actor


def _batch(T=2):
    """One sequence: an episode start (no previous action, reward 0), then previous action 0 and reward 1."""
    prev_actions = torch.zeros(T, 1, 2)
    prev_actions[1:, 0, 0] = 1.0
    rewards = torch.zeros(T, 1, 1)
    rewards[1:] = 1.0
    observs = torch.linspace(-0.3, 0.4, 2 * T).reshape(T, 1, 2)
    starts = torch.zeros(T, 1, dtype=torch.bool)
    starts[0] = True
    return ActorBatch(prev_actions, rewards, observs, starts, torch.zeros(T, 1, dtype=torch.long))


def _rows(report):
    return {r.layer: (r.mac, r.ac) for r in report.rows}


# Per decision (2 decisions) of the layers outside the cell, event-driven. The one-hot action and the 0/1 reward
# are binary: one AC per nonzero entry per target (1 entry in 2 steps) + bias adds. The rest is real-valued.
OUTSIDE_EVENT = {
    "action embedding": (0.0, (1 * 2 + 2 * 2) / 2),
    "reward embedding": (0.0, (1 * 1 + 2 * 1) / 2),
    "observation embedding": (2 * 2, 2),
    "policy observation embedding": (2 * 2, 2),
    "policy output": (4 * 2, 2),
}
OUTSIDE_DENSE = dict(OUTSIDE_EVENT, **{"action embedding": (2 * 2, 2), "reward embedding": (1 * 1, 1)})


def test_tiny_grsn_actor_by_hand():
    # Units 0 and 2: C = 4, h = 2 then 3; V_hat = 1 (fires: the authors fire at the threshold), then 1.5 (fires).
    # 4 spikes and 4 resets in 2 decisions.
    actor = _tiny("grsn")
    event = actor_ops(actor, _batch())
    assert event.firing_rate == pytest.approx(4 / 6)
    expected = dict(OUTSIDE_EVENT)
    expected.update({
        "cell: forget gate": (5 * 3, 3), "cell: candidate": (5 * 3, 3),
        "cell: gating": (2 * 3, 2 * 3),  # F*h, (1-F)*C; 1-F, the sum
        "cell: membrane": (3, 2 * 3 + 4 / 2),  # (h-V)/tau; h-V, +V and the resets
        "policy layer 1": (2 * 4, 4 * 4 / 2 + 4),  # 2 real inputs x 4 targets; 4 spikes in 2 steps x 4 targets
    })
    assert _rows(event.report) == expected
    assert list(_rows(event.report))[:4] == ["action embedding", "reward embedding", "observation embedding",
                                             "cell: forget gate"]
    dense = actor_ops(actor, _batch(), event_driven=False)
    expected_dense = dict(expected, **OUTSIDE_DENSE, **{"policy layer 1": (5 * 4, 4)})
    assert _rows(dense.report) == expected_dense
    mac, ac = sum(m for m, _ in expected.values()), sum(a for _, a in expected.values())
    assert event.report.energy_pj() == pytest.approx(mac * E_MAC_PJ + ac * E_AC_PJ)


@pytest.mark.parametrize("cell,gates", [("gru", 3), ("lstm", 4)])
def test_tiny_gated_rnn_actors_by_hand(cell, gates):
    actor = _tiny(cell)
    counted = actor_ops(actor, _batch())
    assert counted.firing_rate != counted.firing_rate  # NaN: no spikes
    G = gates * 3
    expected = dict(OUTSIDE_EVENT)
    expected.update({
        "cell: input weights": (5 * G, G), "cell: recurrent weights": (3 * G, G),  # two bias vectors
        "cell: gating": (3 * 3, 5 * 3),  # 3 multiplies and 5 adds per unit
        "policy layer 1": (5 * 4, 4),  # the cell's output is real-valued
    })
    assert _rows(counted.report) == expected
    dense = actor_ops(actor, _batch(), event_driven=False)
    assert _rows(dense.report) == dict(expected, **OUTSIDE_DENSE)


def test_acting_resets_the_authors_membrane_at_every_step():
    # C = 2: h = 1, 1.5, 1.75, ...; acting, V_hat = h / 2 < 1 never fires; on one sequence V_hat = 0.5, then
    # 0.5 + (1.5 - 0.5) / 2 = 1 fires.
    batch = _batch(T=6)
    reset, carried = _tiny("grsn", candidate=2.0), _tiny("grsn", candidate=2.0, reset_membrane_each_call=False)
    assert actor_ops(reset, batch, acting=True).firing_rate == 0.0
    assert actor_ops(reset, batch, acting=False).firing_rate > 0.0
    with torch.no_grad():
        assert not torch.equal(reset(batch, acting=True), reset(batch, acting=False))
        # bit for bit although the cell runs one step per call in one and all steps at once in the other: every
        # value the tiny cell computes is exact (inputs 0.5, weights 0 or 2 * candidate), and the head after it
        # runs on the same shapes either way
        assert torch.equal(carried(batch, acting=True), carried(batch, acting=False))
    assert actor_ops(carried, batch, acting=True).firing_rate == actor_ops(reset, batch, acting=False).firing_rate
    gru = _tiny("gru")
    with torch.no_grad():
        assert torch.allclose(gru(batch, acting=True), gru(batch, acting=False), atol=1e-6)


def test_full_size_layout_is_the_authors():
    actor = AuthorsActor(obs_dim=2, action_dim=2)
    shapes = {n: tuple(p.shape) for n, p in actor.named_parameters() if n.endswith("weight")}
    assert shapes == {
        "action_embedder.weight": (8, 2), "reward_embedder.weight": (8, 1), "observ_embedder.weight": (32, 2),
        "cell.forget_gate.weight": (128, 48), "cell.input_gate.weight": (128, 48),
        "current_observ_embedder.weight": (32, 2), "policy.0.weight": (128, 160), "policy.1.weight": (128, 128),
        "policy_output.weight": (2, 128)}
    assert actor.cell.name == "grsn-first-release" and actor.cell.reset_membrane_each_call
    assert AuthorsActor(2, 2, cell="lstm").cell.lstm.weight_hh_l0.shape == (4 * 128, 128)


def test_full_size_ratios_by_formula():
    """Every synapse as a MAC: GRSN / GRU = 0.475 and GRSN / LSTM = 0.391 whatever the spikes; with the head's
    spikes as ACs, at the silent untrained cell, 0.320 and 0.263."""
    batch = cartpole_batch(batch_size=2, steps=12, seed=0)
    result = compare_actor_energy(batch, seed=0)
    I, H = 48, 128
    outside = 8 * 2 + 8 * 1 + 32 * 2 + 32 * 2 + 128 * 128 + 128 * 2  # embeddings, policy layer 2, output
    grsn_mac = outside + 2 * H * I + 2 * H + H + 160 * 128
    gru_mac = outside + 3 * H * I + 3 * H * H + 3 * H + 160 * 128
    lstm_mac = outside + 4 * H * I + 4 * H * H + 3 * H + 160 * 128
    reports = result["reports"]
    assert reports["grsn", "dense"].total_mac == grsn_mac
    assert reports["gru", "dense"].total_mac == gru_mac
    assert reports["lstm", "dense"].total_mac == lstm_mac
    # event-driven, the head's spike inputs and the one-hot action and 0/1 reward cost no MACs
    assert reports["grsn", "event-driven"].total_mac == grsn_mac - 128 * 128 - 8 * 2 - 8 * 1
    assert result["firing_rate"] == 0.0
    assert result["grsn/gru"]["dense"] == pytest.approx(0.475, abs=0.001)
    assert result["grsn/lstm"]["dense"] == pytest.approx(0.391, abs=0.001)
    assert result["grsn/gru"]["event-driven"] == pytest.approx(0.320, abs=0.001)
    assert result["grsn/lstm"]["event-driven"] == pytest.approx(0.263, abs=0.001)


def test_cartpole_batch_marks_episodes_and_previous_steps():
    batch = cartpole_batch(batch_size=3, steps=40, seed=1, epsilon=0.0)  # the expert acts
    starts = batch.episode_start
    assert batch.observs.shape == (40, 3, 2) and batch.prev_actions.shape == (40, 3, 2)
    assert starts[0].all() and batch.observs.dtype == torch.float32
    assert (batch.prev_actions[starts] == 0).all() and (batch.rewards[starts] == 0).all()
    assert (batch.prev_actions[~starts].sum(-1) == 1).all() and (batch.rewards[~starts] == 1).all()
    after = ~starts[1:]  # the previous action is what the expert chose one step earlier
    assert torch.equal(batch.prev_actions[1:].argmax(-1)[after], batch.expert_actions[:-1][after])
    random = cartpole_batch(batch_size=3, steps=40, seed=1)
    assert int(random.episode_start.sum()) > 3  # random actions drop the pole within 40 steps
    with pytest.raises(ValueError, match="epsilon"):
        cartpole_batch(epsilon=1.5)


def test_imitation_lowers_the_loss():
    torch.manual_seed(0)
    actor = AuthorsActor(2, 2, cell="gru", hidden_size=16, policy_layers=(16,))
    held_out = cartpole_batch(batch_size=8, steps=32, seed=5_000, epsilon=0.2)

    def loss():
        with torch.no_grad():
            logits = actor(held_out, acting=False)
        return float(torch.nn.functional.cross_entropy(logits.reshape(-1, 2), held_out.expert_actions.reshape(-1)))

    before, accuracy_before = loss(), imitation_accuracy(actor, held_out)
    losses = imitate(actor, steps=25, batch_size=4, seq_len=16, lr=1e-2)
    assert len(losses) == 25
    assert loss() < before - 0.05
    assert imitation_accuracy(actor, held_out) > accuracy_before


def test_bad_actor_arguments():
    with pytest.raises(ValueError, match="cell must be one of"):
        AuthorsActor(2, 2, cell="rnn")
    with pytest.raises(ValueError, match="GRSN cell only"):
        AuthorsActor(2, 2, cell="gru", tau=3.0)
    with pytest.raises(ValueError, match="unknown GRSN cell options"):
        AuthorsActor(2, 2, readout="membrane")
    with pytest.raises(ValueError, match="hidden_size must be an integer"):
        AuthorsActor(2, 2, hidden_size=0)
