"""Operation counts on tiny networks whose counts can be worked out by hand."""

import pytest
import torch

from grsn_edu import E_AC_PJ, E_MAC_PJ, EnergyReport, OpCount, Trace, count_core_ops, linear_ops, make_core, ops_from_trace


def test_constants_are_horowitz_45nm():
    assert (E_MAC_PJ, E_AC_PJ) == (4.6, 0.9)


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
    """I=1, H=2, beta=0: input 0.5, weights (20, 0): neuron 0 driven with 10 (always fires, |c| < 1 cannot stop it), neuron 1 with 0.

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
    with pytest.raises(ValueError, match="decisions must be >= 1"):
        ops_from_trace(core, trace, decisions=0)
