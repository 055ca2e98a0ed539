"""Operation counts on tiny networks whose counts can be worked out by hand."""

import numpy as np
import pytest
import torch

from grsn_edu import EnergyReport, OpCount, Trace, count_core_ops, linear_ops, make_core, ops_from_trace
from grsn_edu.rl.agent_energy import marl_agent_energy, normaliser_ops, ppo_agent_energy
from grsn_edu.snn.cores import core_class
from grsn_edu.snn.energy import analytic_ops, core_ops_with_binary_inputs, input_layer_widths, rate_for_energy
from grsn_edu.snn.ops import Synapse


def test_linear_ops_spikes_cost_accumulates_per_spike():
    spikes = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])  # 3 spikes in 2 vectors
    op = linear_ops("w", spikes, out_features=5)
    assert (op.mac, op.ac) == (0.0, 3 * 5 + 2 * 5)  # 3 spikes x 5 targets + 2 vectors x 5 bias adds
    op = linear_ops("w", spikes, out_features=5, bias=False)
    assert (op.mac, op.ac) == (0.0, 15.0)


def test_linear_ops_real_inputs_cost_dense_macs():
    real = torch.tensor([[0.5, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 2.0]])  # not binary: every input is multiplied
    op = linear_ops("w", real, out_features=5)
    assert (op.mac, op.ac) == (2 * 4 * 5, 2 * 5)


def test_linear_ops_dense_hardware_pays_macs_for_spikes_too():
    spikes = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    op = linear_ops("w", spikes, out_features=5, event_driven=False)
    assert (op.mac, op.ac) == (2 * 4 * 5, 2 * 5)
    mixed = linear_ops("w", spikes, 5, binary_features=slice(0, 2), event_driven=False)
    assert (mixed.mac, mixed.ac) == (op.mac, op.ac)


def test_mlp_counts():
    core = make_core("mlp", 3, 4)
    r = count_core_ops(core, torch.randn(7, 2, 3))
    assert r.decisions == 14
    assert (r.total_mac, r.total_ac) == (12.0, 4.0)
    assert r.energy_pj() == pytest.approx(12 * 4.6 + 4 * 0.9)


def test_gru_counts():
    I, H = 2, 3
    r = count_core_ops(make_core("gru", I, H), torch.randn(5, 1, I))
    # input weights 3H*I MAC + 3H bias; recurrent 3H*H MAC + 3H bias; gating 3H MAC + 5H adds
    assert r.total_mac == 3 * H * I + 3 * H * H + 3 * H
    assert r.total_ac == 3 * H + 3 * H + 5 * H


def _lif_by_hand():
    """I=1, H=2, beta=0, threshold 1. Input 0.5, weights (4, 0): neuron 0 gets current 2 each step, neuron 1 gets 0.

    t0: U=2 -> spike.  t1: reset (U0=2>1), U=2-1=1 -> no spike (1 is not > 1).  t2: no reset, U=2 -> spike.
    So over 3 steps: 1 reset subtraction, spikes at t0 and t2.
    """
    core = make_core("lif", 1, 2, beta=0.0)
    with torch.no_grad():
        core.encoder.weight.copy_(torch.tensor([[4.0], [0.0]]))
        core.encoder.bias.zero_()
    return core, torch.full((3, 1, 1), 0.5)  # real-valued input (0.5 is not a spike)


def test_lif_counts_by_hand():
    core, x = _lif_by_hand()
    trace = Trace()
    out, _ = core(x, trace=trace)
    assert out[:, 0, 0].tolist() == [1.0, 0.0, 1.0]
    r = ops_from_trace(core, trace, decisions=3)
    rows = {row.layer: row for row in r.rows}
    assert (rows["encoder"].mac, rows["encoder"].ac) == (2.0, 2.0)  # 1x2 MAC, 2 bias adds
    assert rows["membrane"].mac == 2.0  # beta * U per neuron
    assert rows["membrane"].ac == pytest.approx(2.0 + 1 / 3)  # + current per neuron, one reset in 3 steps


def test_lif_substeps_pay_every_substep():
    core, x = _lif_by_hand()
    tap = count_core_ops(core, x)
    no_tap = count_core_ops(make_core("lif", 1, 2, beta=0.0, substeps=4), x)
    assert no_tap.decisions == tap.decisions == 3
    assert no_tap.total_mac == 4 * tap.total_mac  # encoder and beta*U each of the 4 sub-steps


def _grsn_by_hand(gate_input):
    """I=1, H=2, beta=0: input 0.5, weights (20, 0): neuron 0 driven with 10 (always fires, |c| < 1 cannot stop
    it), neuron 1 with 0.

    Neuron 1's membrane is c_t alone, |c_t| < 1, so it never fires. Previous spikes per step: t0 none,
    t1 [1, 0], t2 [1, 0]: 2 spikes over 3 steps.
    """
    torch.manual_seed(0)
    core = make_core("grsn", 1, 2, beta=0.0, gate_input=gate_input)
    with torch.no_grad():
        core.encoder.weight.copy_(torch.tensor([[20.0], [0.0]]))
        core.encoder.bias.zero_()
    return core, torch.full((3, 1, 1), 0.5)  # real-valued input (0.5 is not a spike)


def test_grsn_spike_gates_are_accumulates_by_hand():
    core, x = _grsn_by_hand("spikes")
    trace = Trace()
    core(x, trace=trace)
    assert trace["spk"][:, 0].tolist() == [[1.0, 0.0]] * 3
    rows = {row.layer: row for row in ops_from_trace(core, trace, decisions=3).rows}
    H = 2
    assert rows["gates"].mac == 0.0
    assert rows["gates"].ac == pytest.approx((2 * 2 * H + 3 * 2 * H) / 3)  # 2 spikes x 2H targets + bias adds
    assert (rows["gating"].mac, rows["gating"].ac) == (2 * H, 2 * H)
    assert rows["membrane"].mac == H
    assert rows["membrane"].ac == pytest.approx(2 * H + 2 / 3)  # 2 resets (t1, t2) over 3 steps


def test_grsn_input_gates_are_macs_by_hand():
    core, x = _grsn_by_hand("input")
    rows = {row.layer: row for row in count_core_ops(core, x).rows}
    assert (rows["gates"].mac, rows["gates"].ac) == (1 * 4, 4)  # I x 2H MAC + 2H bias


def test_grsn_both_gates_by_hand():
    core, x = _grsn_by_hand("both")
    rows = {row.layer: row for row in count_core_ops(core, x).rows}
    H = 2
    assert (rows["gates (input)"].mac, rows["gates (input)"].ac) == (1 * 2 * H, 2 * H)  # I x 2H MAC + bias
    # 2 previous spikes over 3 steps drive 2H targets each; the spike side has no bias of its own
    assert (rows["gates (spikes)"].mac, rows["gates (spikes)"].ac) == (0.0, pytest.approx(2 * 2 * H / 3))


def test_grsn_without_gates_costs_what_lif_costs():
    torch.manual_seed(0)
    grsn = make_core("grsn", 3, 5, gates=False)
    lif = make_core("lif", 3, 5)
    lif.load_state_dict({k: v for k, v in grsn.state_dict().items() if k.startswith(("encoder", "leaky"))})
    x = 3 * torch.randn(20, 2, 3)
    a, b = count_core_ops(grsn, x), count_core_ops(lif, x)
    assert (a.total_mac, a.total_ac) == (b.total_mac, b.total_ac)


def test_grsn_spike_gates_cheaper_than_gru_at_equal_size():
    x = torch.randn(50, 4, 8)
    torch.manual_seed(0)
    grsn = count_core_ops(make_core("grsn", 8, 64), x).energy_pj()
    gru = count_core_ops(make_core("gru", 8, 64), x).energy_pj()
    assert grsn < gru


def _authors_grsn_by_hand():
    """I=1, H=2, tau=2: input 0.5, forget gate 0 (F = 1/2), candidate weights (8, 0): C = (4, 0).

    Neuron 0: h = 2, 3, 3.5; V_hat = 0 + 2/2 = 1 (spike: the authors fire at V = threshold), V = 0;
    V_hat = 0 + 3/2 = 1.5 (spike), V = 0.5; V_hat = 0.5 + 3/2 = 2 (spike), V = 1. Neuron 1 never charges.
    So 3 spikes and 3 reset subtractions in 3 steps.
    """
    core = make_core("grsn-first-release", 1, 2, reset_membrane_each_call=False)
    with torch.no_grad():
        core.forget_gate.weight.zero_()
        core.input_gate.weight.copy_(torch.tensor([[8.0], [0.0]]))
    return core, torch.full((3, 1, 1), 0.5)


def test_authors_grsn_counts_by_hand():
    core, x = _authors_grsn_by_hand()
    trace = Trace()
    with torch.no_grad():
        out, _ = core(x, trace=trace)
    assert out[:, 0].tolist() == [[1.0, 0.0]] * 3
    assert trace["mem"][:, 0, 0].tolist() == [0.0, 0.5, 1.0]
    rows = {r.layer: r for r in ops_from_trace(core, trace, decisions=3).rows}
    assert list(rows) == ["forget gate", "candidate", "gating", "membrane"]
    for gate in ("forget gate", "candidate"):  # the input is real-valued: 1 x 2 MACs, 2 bias adds
        assert (rows[gate].mac, rows[gate].ac) == (2.0, 2.0)
    assert (rows["gating"].mac, rows["gating"].ac) == (4.0, 4.0)  # F*h, (1-F)*C; 1-F, the sum: per unit
    assert rows["membrane"].mac == 2.0  # (h - V) / tau per unit
    assert rows["membrane"].ac == pytest.approx(4.0 + 1.0)  # h - V and + V per unit, 3 resets in 3 steps
    rate = float(trace["spk"].mean())
    assert analytic_ops("grsn-first-release", 1, 2, rate).rows == [
        OpCount(r.layer, r.mac, r.ac) if r.layer in ("gating", "membrane") else r for r in rows.values()]


def test_rleaky_and_slstm_rows():
    x = 3 * torch.randn(6, 2, 3)
    torch.manual_seed(0)
    r = count_core_ops(make_core("rleaky", 3, 4), x)
    assert {row.layer for row in r.rows} == {"encoder", "recurrent", "membrane"}
    assert {row.layer: row for row in r.rows}["recurrent"].mac == 0.0  # spikes drive the recurrent weights
    s = count_core_ops(make_core("slstm", 3, 4), x)
    assert s.total_mac == 4 * 4 * 3 + 4 * 4 * 4 + 3 * 4  # the SLSTM's recurrent input is its real membrane


def test_report_energy_frame_and_sum():
    r = EnergyReport([OpCount("a", mac=10, ac=5), OpCount("b", ac=20)], decisions=1)
    assert r.energy_pj() == pytest.approx(10 * 4.6 + 25 * 0.9)
    assert r.energy_pj(e_mac=1.0, e_ac=0.0) == 10.0
    assert r.by_layer() == pytest.approx({"a": 50.5, "b": 18.0})
    frame = r.to_frame()
    assert list(frame.columns) == ["layer", "MAC", "AC", "energy_pJ", "note"]
    assert frame.iloc[-1]["layer"] == "total" and frame.iloc[-1]["energy_pJ"] == pytest.approx(r.energy_pj())
    both = r + EnergyReport([OpCount("head", mac=1)], decisions=1)
    assert both.total_mac == 11


def test_trace_over_many_single_step_calls_counts_the_same():
    core, x = _grsn_by_hand("spikes")
    whole = count_core_ops(core, x)
    trace, state = Trace(), None
    with torch.no_grad():
        for t in range(3):
            _, state = core(x[t : t + 1], state, trace=trace)
    stepwise = ops_from_trace(core, trace, decisions=3)
    assert stepwise.total_ac == pytest.approx(whole.total_ac)
    assert stepwise.total_mac == pytest.approx(whole.total_mac)


def test_decisions_must_be_positive():
    core, x = _lif_by_hand()
    trace = Trace()
    core(x, trace=trace)
    with pytest.raises(ValueError, match="decisions must be an integer >= 1, got 0"):
        ops_from_trace(core, trace, decisions=0)
    with pytest.raises(ValueError, match="decisions must be an integer >= 1, got 3.0"):
        ops_from_trace(core, trace, decisions=3.0)
    assert ops_from_trace(core, trace, decisions=np.int64(3)).total_mac == ops_from_trace(core, trace, 3).total_mac


# -- each core's declared synapse layers ---------------------------------------------------------------------------
SYNAPSE_VARIANTS = [("mlp", {}), ("gru", {}), ("lif", {}), ("grsn", {}), ("grsn", {"gate_input": "input"}),
                    ("grsn", {"gate_input": "both"}), ("grsn", {"gates": False}), ("rleaky", {}), ("slstm", {}),
                    ("grsn", {"substeps": 2}), ("grsn-first-release", {}),
                    ("grsn-first-release", {"reset_membrane_each_call": False}),
                    ("grsn-first-release", {"substeps": 2})]


@pytest.mark.parametrize("name,options", SYNAPSE_VARIANTS)
def test_declared_synapses_are_the_cores_weights(name, options):
    I, H = 5, 6
    core = make_core(name, I, H, **options)
    declared = sorted((s.out_features, s.in_features) for s in core.synapses)
    assert declared == sorted(tuple(p.shape) for p in core.parameters() if p.dim() == 2)
    biases = sum(p.numel() for n, p in core.named_parameters() if p.dim() == 1 and not n.endswith("beta"))
    assert sum(s.out_features for s in core.synapses if s.bias) == biases
    for s in core.synapses:
        assert s.in_features == {"x": I, "spikes": H, "state": H}[s.reads], s


@pytest.mark.parametrize("name,options", SYNAPSE_VARIANTS)
def test_declared_synapses_agree_with_the_counted_rows(name, options):
    torch.manual_seed(0)
    core = make_core(name, 5, 6, **options)
    trace = Trace()
    with torch.no_grad():
        core(3 * torch.randn(7, 2, 5), trace=trace)
    rows, synapses = core.op_counts(trace), core.synapses
    assert [r.layer for r in rows[: len(synapses)]] == [s.layer for s in synapses]
    assert {r.layer for r in rows[len(synapses) :]} <= {"gating", "membrane"}  # the rest are element-wise
    updates = trace["x"].shape[0] * trace["x"].shape[1]
    for s, r in zip(synapses, rows):
        bias_ac = float(updates * s.out_features) if s.bias else 0.0
        if s.reads == "spikes":  # one accumulate per previous spike per target
            assert (r.mac, r.ac) == (0.0, float(torch.count_nonzero(trace["spk_prev"])) * s.out_features + bias_ac)
        else:  # a real-valued input or state: every input times every target
            assert (r.mac, r.ac) == (float(updates * s.in_features * s.out_features), bias_ac)
    assert input_layer_widths(core) == {s.layer: s.out_features for s in synapses if s.reads == "x"}


@pytest.mark.parametrize("name,options", SYNAPSE_VARIANTS)
def test_synapse_declarations_need_no_built_core(name, options):
    cls = core_class(name)
    layer_options = {k: v for k, v in options.items() if k in cls.layer_options}
    assert cls.synapse_layers(5, 6, **layer_options) == make_core(name, 5, 6, **options).synapses


def test_a_synapse_reads_a_known_input():
    assert Synapse("w", "spikes", 4, 2).bias
    with pytest.raises(ValueError, match="reads must be one of"):
        Synapse("w", "membrane", 4, 2)


# -- mixed inputs, agents over real episodes, formulas ------------------------------------------------------------


def test_linear_ops_mixed_features_by_hand():
    x = torch.tensor([[0.5, -2.0, 1.0, 0.0, 0.0], [1.5, 0.0, 0.0, 1.0, 1.0]])  # 2 real features, 3 one-hot features
    op = linear_ops("enc", x, out_features=4, binary_features=slice(2, None))
    assert op.mac == 2 * 2 * 4  # 2 vectors x 2 real features x 4 targets
    assert op.ac == 3 * 4 + 2 * 4  # 3 nonzero one-hot entries x 4 targets + bias adds
    with pytest.raises(ValueError, match="declared binary"):
        linear_ops("enc", x, 4, binary_features=slice(1, None))  # feature 1 holds -2
    with pytest.raises(ValueError, match="slice"):
        linear_ops("enc", x, 4, binary_features=[2, 3])


@pytest.mark.parametrize("name,options", [("mlp", {}), ("gru", {}), ("lif", {}), ("grsn", {}),
                                          ("grsn", {"gate_input": "input"}), ("grsn", {"gate_input": "both"}),
                                          ("rleaky", {}), ("slstm", {}), ("grsn", {"substeps": 2}),
                                          ("grsn-first-release", {})])
def test_input_layers_recount_like_the_core(name, options):
    """With no binary features the recount is the core's own count; with k one-hot features it saves k*width MACs."""
    torch.manual_seed(0)
    core = make_core(name, 5, 6, **options)
    x = torch.cat([torch.randn(4, 2, 3), torch.eye(2).expand(4, 2, 2)], dim=-1)  # 3 real + 2 one-hot features
    trace = Trace()
    with torch.no_grad():
        core(x, trace=trace)
    plain = {r.layer: r for r in core.op_counts(trace)}
    assert {r.layer: (r.mac, r.ac) for r in core_ops_with_binary_inputs(core, trace, None)} == \
        {k: (r.mac, r.ac) for k, r in plain.items()}
    split = {r.layer: r for r in core_ops_with_binary_inputs(core, trace, slice(3, None))}
    steps = trace["x"].shape[0] * trace["x"].shape[1]
    for layer, width in input_layer_widths(core).items():
        assert split[layer].mac == plain[layer].mac - steps * 2 * width
        assert split[layer].ac == plain[layer].ac + steps * 1 * width  # one nonzero one-hot entry per vector
    for layer in set(plain) - set(input_layer_widths(core)):
        assert (split[layer].mac, split[layer].ac) == (plain[layer].mac, plain[layer].ac)


def test_normaliser_ops():
    op = normaliser_ops(10, 4)
    assert (op.layer, op.mac, op.ac) == ("normaliser", 40.0, 40.0)


@pytest.mark.parametrize("name,options", [("mlp", {}), ("gru", {}), ("lif", {}), ("grsn", {}),
                                          ("grsn", {"gate_input": "input"}), ("grsn", {"gate_input": "both"}),
                                          ("rleaky", {}), ("slstm", {}), ("grsn", {"substeps": 3}),
                                          ("grsn-first-release", {}), ("grsn-first-release", {"substeps": 2})])
def test_analytic_ops_equal_counts_at_the_measured_rate(name, options):
    torch.manual_seed(1)
    core = make_core(name, 3, 16, **options)
    x = 3 * torch.randn(20, 2, 3)
    trace = Trace()
    with torch.no_grad():
        core(x, trace=trace)
    # the authors' cell resets at the step of its spike (no spike-driven synapse); the others at the next step
    key = "spk" if name == "grsn-first-release" else "spk_prev"
    assert name != "grsn-first-release" or "spk_prev" not in trace
    rate = float(trace[key].mean()) if key in trace else 0.0
    counted = ops_from_trace(core, trace, decisions=40)
    formula = analytic_ops(name, 3, 16, rate, **options)
    assert formula.total_mac == pytest.approx(counted.total_mac)
    assert formula.total_ac == pytest.approx(counted.total_ac, rel=1e-6)
    assert set(formula.by_layer()) == set(counted.by_layer())


def test_analytic_readout_and_spike_input():
    H, A = 8, 3
    assert analytic_ops("gru", 2, H, head_outputs=A).by_layer()["readout"] == pytest.approx(H * A * 4.6 + A * 0.9)
    both = {r.layer: r for r in analytic_ops("grsn", 2, H, 0.5, head_outputs=A, readout="both").rows}["readout"]
    assert (both.mac, both.ac) == (H * A, 0.5 * H * A + A)
    notap = {r.layer: r for r in analytic_ops("grsn", 2, H, 0.5, head_outputs=A, readout="both", substeps=4).rows}
    assert notap["readout"].mac == 2 * H * A  # rates are real-valued
    spikes_in = {r.layer: r for r in analytic_ops("lif", 10, H, input_spikes=2).rows}["encoder"]
    assert (spikes_in.mac, spikes_in.ac) == (0.0, 2 * H + H)


def test_analytic_dense_hardware_ignores_spikes():
    H = 8
    dense = {r.layer: r for r in analytic_ops("grsn", 2, H, 0.25, event_driven=False, head_outputs=3).rows}
    assert (dense["gates"].mac, dense["gates"].ac) == (2 * H * H, 2 * H)
    assert dense["readout"].mac == H * 3
    a = analytic_ops("grsn", 2, H, 0.0, event_driven=False).energy_pj()
    b = analytic_ops("grsn", 2, H, 1.0, event_driven=False).energy_pj()
    assert b - a == pytest.approx(H * 0.9)  # only the resets still depend on spikes
    assert analytic_ops("lif", 10, H, input_spikes=2, event_driven=False).total_mac == 10 * H + H


def test_analytic_ops_bad_arguments():
    with pytest.raises(ValueError, match="unknown core"):
        analytic_ops("lstm", 2, 4)
    with pytest.raises(ValueError, match="firing_rate"):
        analytic_ops("grsn", 2, 4, 1.5)
    with pytest.raises(ValueError, match="gate_input"):
        analytic_ops("grsn", 2, 4, gate_input="x")
    with pytest.raises(ValueError, match="readout"):
        analytic_ops("grsn", 2, 4, readout="rate")
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1, got 0"):
        analytic_ops("grsn", 2, 0)
    with pytest.raises(ValueError, match="input_size must be an integer >= 1, got 2.5"):
        analytic_ops("grsn", 2.5, 4)
    with pytest.raises(ValueError, match="head_outputs must be an integer >= 0, got -1"):
        analytic_ops("grsn", 2, 4, head_outputs=-1)
    with pytest.raises(ValueError, match="substeps must be an integer >= 1, got 0"):
        analytic_ops("grsn", 2, 4, substeps=0)
    numpy_sizes = analytic_ops("grsn", np.int64(2), np.int64(4), 0.5, substeps=np.int64(2), head_outputs=np.int64(3))
    assert numpy_sizes.rows == analytic_ops("grsn", 2, 4, 0.5, substeps=2, head_outputs=3).rows


def test_rate_for_energy_solves_the_line():
    target = analytic_ops("grsn", 2, 32, 0.3).energy_pj()
    assert rate_for_energy(target, "grsn", 2, 32) == pytest.approx(0.3)
    assert rate_for_energy(0.5 * analytic_ops("gru", 2, 128).energy_pj(), "grsn", 2, 128) > 1
    with pytest.raises(ValueError, match="does not depend"):
        rate_for_energy(100.0, "gru", 2, 8)


def _ppo_agent(core, **options):
    from grsn_edu.rl.agents import RecurrentActorCritic

    torch.manual_seed(0)
    return RecurrentActorCritic(obs_size=2, n_actions=2, core=core, hidden_size=8, **options)


@pytest.mark.parametrize("core,options", [("gru", {}), ("grsn", {"readout": "both"}),
                                          ("grsn", {"readout": "both", "substeps": 2})])
def test_ppo_agent_energy_matches_evaluate_and_counts(core, options):
    from grsn_edu.rl.ppo import evaluate

    agent = _ppo_agent(core, **options)
    result = ppo_agent_energy(agent, "CartPole-V", episodes=3, seed=5)
    returns, rate = evaluate(agent, "CartPole-V", episodes=3, seed=5)
    assert np.array_equal(result.returns, returns)  # the same greedy episodes as the course's evaluation
    assert result.decisions == int(returns.sum())  # CartPole pays 1 per step: one decision per step
    layers = result.report.by_layer()
    assert {"normaliser", "readout"} <= set(layers) and result.energy_pj > 0
    assert result.report.decisions == result.decisions
    assert result.dense_inputs_report.energy_pj() == pytest.approx(result.energy_pj)
    if agent.core.spiking:
        assert result.firing_rate == pytest.approx(rate)
        assert result.spikes_per_decision == pytest.approx(rate * 8 * agent.core.substeps)
    else:
        assert np.isnan(result.firing_rate)


def test_ppo_agent_energy_counts_only_the_policy_side():
    """The value core does not act: removing it changes nothing; the readout of a TAP GRSN is mixed."""
    agent = _ppo_agent("grsn", readout="both")
    rows = {r.layer: r for r in ppo_agent_energy(agent, "CartPole-V", episodes=2, seed=0).report.rows}
    assert rows["readout"].mac == 8 * 2  # membrane half: H x A MACs per decision
    assert rows["normaliser"].mac == 2.0
    agent.value_core = None  # training-only part gone: the same count
    again = {r.layer: r for r in ppo_agent_energy(agent, "CartPole-V", episodes=2, seed=0).report.rows}
    assert {k: (r.mac, r.ac) for k, r in rows.items()} == {k: (r.mac, r.ac) for k, r in again.items()}


def test_ppo_agent_energy_bad_arguments():
    agent = _ppo_agent("gru")
    with pytest.raises(ValueError, match="episodes"):
        ppo_agent_energy(agent, "CartPole-V", episodes=0)
    with pytest.raises(ValueError, match="observation features"):
        ppo_agent_energy(agent, "CartPole-v1", episodes=1)


@pytest.mark.parametrize("core", ["gru", "grsn"])
def test_marl_agent_energy_matches_evaluate_marl(core):
    from grsn_edu.envs.spread import make_marl_env
    from grsn_edu.rl.team import AgentNetwork, evaluate_marl
    from grsn_edu.rl.team import env_sizes as _env_sizes

    env = make_marl_env("spread_memory")
    agents, obs_size, n_actions, _ = _env_sizes(env)
    torch.manual_seed(0)
    net = AgentNetwork(obs_size, len(agents), n_actions, core, 16, **({"readout": "both"} if core == "grsn" else {}))
    result = marl_agent_energy(net, "spread_memory", episodes=2, seed=3)
    returns, rate, spikes = evaluate_marl(env, net, agents, 2, 3, 25)
    env.close()
    assert np.allclose(result.returns, returns)
    assert result.decisions == 2 * 25 * len(agents)
    width = input_layer_widths(net.core)
    first = next(iter(width))
    split = {r.layer: r for r in result.report.rows}[first]
    dense = {r.layer: r for r in result.dense_inputs_report.rows}[first]
    n_onehot = len(agents) + n_actions
    assert dense.mac - split.mac == pytest.approx(n_onehot * width[first])  # per decision
    assert result.energy_pj < result.dense_inputs_report.energy_pj()
    if core == "grsn":
        assert result.spikes_per_decision == pytest.approx(spikes)


def test_marl_agent_energy_rejects_another_task():
    from grsn_edu.rl.team import AgentNetwork

    net = AgentNetwork(5, 2, 3, "gru", 8)
    with pytest.raises(ValueError, match="built for"):
        marl_agent_energy(net, "simple_spread", episodes=1)


def test_marl_agent_energy_counts_the_encoder_and_a_real_valued_core_input():
    from grsn_edu.envs.spread import make_marl_env
    from grsn_edu.rl.team import AgentNetwork, evaluate_marl
    from grsn_edu.rl.team import env_sizes as _env_sizes

    env = make_marl_env("simple_spread")
    agents, obs_size, n_actions, _ = _env_sizes(env)
    torch.manual_seed(0)
    net = AgentNetwork(obs_size, len(agents), n_actions, "grsn", 16, encoder_size=12, readout="both")
    result = marl_agent_energy(net, "simple_spread", episodes=2, seed=3)
    returns, *_ = evaluate_marl(env, net, agents, 2, 3, 25)
    env.close()
    assert np.allclose(result.returns, returns)
    split = {r.layer: r for r in result.report.rows}
    dense = {r.layer: r for r in result.dense_inputs_report.rows}
    n_onehot = len(agents) + n_actions  # one agent id and one previous action (none at the first step)
    # per decision: the observation's features cost MACs; the one-hot ones an AC per nonzero entry per unit
    assert split["input encoder"].mac == pytest.approx(obs_size * 12)
    assert dense["input encoder"].mac == pytest.approx((obs_size + n_onehot) * 12)
    assert split["input encoder"].ac == pytest.approx(12 + 12 * (1 + 24 / 25))  # bias, id, previous action
    # the core reads the encoder's ReLU output, real-valued: its input layer costs dense MACs in both counts
    first = next(iter(input_layer_widths(net.core)))
    assert split[first].mac == dense[first].mac == pytest.approx(12 * input_layer_widths(net.core)[first])
