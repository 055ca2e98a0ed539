"""The chapter on the GRSN neuron: the hand-built layer, the trainer that keeps its network, the exercise checks, and
the figures of grsn_edu.course.plots.grsn (also those of the chapter on what drives the gates, whose other tests are
tests/test_grsn_gates.py)."""

import math

import numpy as np
import pandas as pd
import pytest
import snntorch as snn
import torch
from float_rounding import assert_spikes_cannot_flip
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from grsn_edu import count_core_ops, make_core
from grsn_edu.course.checks import grsn as checks
from grsn_edu.course.grsn_parts import (
    HandBuiltGRSN,
    accuracy_after,
    cue_selective_neurons,
    max_abs_difference,
    record_internals,
    train_on_cue_recall,
)
from grsn_edu.course.plots import grsn as plots
from grsn_edu.course.solutions import grsn as solutions
from grsn_edu.course.solutions import grsn_gates as gates_solutions
from grsn_edu.experiments.memory import train_memory_task
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ
from grsn_edu.snn.trace import Trace

torch.set_num_threads(1)  # small tensors; the machine is shared


# -- the hand-built layer ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("gate_input", ["spikes", "input", "both"])
def test_hand_built_grsn_reproduces_the_core(gate_input):
    torch.manual_seed(1)
    core = make_core("grsn", 5, 16, gate_input=gate_input)
    with torch.no_grad():
        core.beta.copy_(torch.linspace(0.5, 1.0, 16))
    x = 1.5 * torch.randn(30, 8, 5, generator=torch.Generator().manual_seed(2))
    reference = record_internals(core, x)
    with torch.no_grad():
        rebuilt = HandBuiltGRSN.from_core(core)(x)
    assert reference["spk"].sum() > 100  # the recurrent path through the spikes is exercised
    # the parts multiply one step at a time, the core all steps at once: the same spikes as long as no membrane
    # comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(reference["mem"], core.threshold, terms=30 * (5 + 16 + 1))
    assert torch.equal(rebuilt["spk"], reference["spk"])
    for key in ("forget", "candidate", "cur", "mem"):
        assert torch.allclose(rebuilt[key], reference[key], atol=1e-5), key


def test_hand_built_grsn_uses_the_textbook_formula_and_snn_leaky():
    parts = HandBuiltGRSN(3, 4)
    assert isinstance(parts.membrane, snn.Leaky)
    out = parts.step(torch.zeros(2, 3), torch.zeros(2, 4), torch.full((2, 4), 0.5), torch.zeros(2, 4))
    forget, cand = out["forget"], out["candidate"]
    assert torch.allclose(out["cur"], forget * 0.5 + (1 - forget) * cand)


def test_hand_built_grsn_refuses_what_it_cannot_copy():
    with pytest.raises(ValueError, match="gates=True"):
        HandBuiltGRSN.from_core(make_core("grsn", 3, 4, gates=False))
    with pytest.raises(ValueError, match="gates=True"):
        HandBuiltGRSN.from_core(make_core("lif", 3, 4))
    with pytest.raises(ValueError, match="gate_input"):
        HandBuiltGRSN(3, 4, gate_input="membrane")


def test_max_abs_difference():
    assert max_abs_difference(torch.ones(3), torch.ones(3)) == 0.0
    assert max_abs_difference(torch.tensor([1.0, 2.0]), torch.tensor([1.5, 0.0])) == 2.0


# -- training and probing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("core_name,options", [("grsn", {"gate_input": "input"}), ("lif", {})])
def test_train_on_cue_recall_is_train_memory_task(core_name, options):
    kwargs = dict(delay=2, seed=3, hidden_size=8, steps=6, batch_size=16, lr=1e-2, test_size=64, **options)
    net = train_on_cue_recall(core_name, **kwargs)
    run = train_memory_task(core_name, **kwargs)
    assert net.run.losses == run.losses
    assert net.run.accuracy == run.accuracy and net.run.test_loss == run.test_loss
    assert net.run.as_row().keys() == run.as_row().keys()
    x, y = net.test_set()
    assert x.shape == (3, 64, 5) and y.shape == (64,)
    state = net.state_dict()
    assert set(state) == {"core", "readout", "run", "options", "losses"} and state["options"] == options


def test_record_internals_and_accuracy_after_leave_the_network_alone():
    net = train_on_cue_recall("grsn", delay=3, seed=0, hidden_size=8, steps=3, batch_size=8, test_size=32)
    x, y = net.test_set()
    rec = record_internals(net.core, x)
    assert {"x", "forget", "candidate", "cur", "mem", "spk", "spk_prev", "drive"} <= set(rec)
    assert rec["cur"].shape == (4, 32, 8)
    before = {k: v.clone() for k, v in net.core.state_dict().items()}
    zeroed = accuracy_after(net, lambda c: c.gate_o.weight.zero_(), x, y)
    assert 0.0 <= zeroed <= 1.0
    assert all(torch.equal(before[k], v) for k, v in net.core.state_dict().items())
    assert accuracy_after(net, lambda c: None, x, y) == net.run.accuracy


def test_cue_selective_neurons_finds_the_neuron_that_depends_on_the_cue():
    labels = torch.arange(40) % 4
    spk = torch.zeros(6, 40, 5)
    spk[1:, :, 3] = (labels == 2).float()  # neuron 3 fires after cue 2 only
    spk[1:, :, 1] = (labels >= 2).float() * (torch.rand(5, 40) < 0.5)  # neuron 1: weaker, noisy dependence
    spk[:, :, 0] = 1.0  # neuron 0 always fires: no information
    order = cue_selective_neurons({"spk": spk}, labels, n=2)
    assert order == [3, 1]


# -- solutions and checks ----------------------------------------------------------------------------------------
def test_solutions_by_hand():
    assert float(solutions.gated_current(torch.tensor(0.8), torch.tensor(0.5), torch.tensor(2.0))) == pytest.approx(1.7)
    assert float(solutions.gated_current(torch.tensor(1.0), torch.tensor(0.5), torch.tensor(2.0))) == 2.0
    assert float(solutions.gated_current(torch.tensor(0.0), torch.tensor(0.5), torch.tensor(2.0))) == 0.5


def test_plain_leaky_solution_is_the_gateless_core():
    torch.manual_seed(0)
    core = make_core("grsn", 3, 6, gates=False)
    with torch.no_grad():
        core.beta.copy_(torch.linspace(0.3, 1.0, 6))
    x = 2 * torch.randn(12, 4, 3)
    trace = Trace()
    with torch.no_grad():
        core(x, trace=trace)
        spk, mem = solutions.plain_leaky(core.encoder, core.beta.detach().clone(), 1.0, x)
    assert trace["spk"].sum() > 5
    assert_spikes_cannot_flip(trace["mem"], 1.0, terms=12 * (3 + 6 + 1))  # one step at a time vs all at once
    assert torch.equal(spk, trace["spk"]) and torch.allclose(mem, trace["mem"], atol=1e-6)


def test_check_gated_current(check_contract):
    check_contract(checks.check_gated_current, solutions.gated_current, {
        "swapped": lambda f, i, c: f * i + (1 - f) * c,
        "weighted by \\(1 - F\\)": lambda f, i, c: f * c + i,
        "candidate current is missing": lambda f, i, c: f * c,
        "element by element": lambda f, i, c: c,
    })
    with pytest.raises(AssertionError, match="pass your function"):
        checks.check_gated_current(None)


def _leaky_with(**options):
    def run(encoder, beta, threshold, x):
        lif = snn.Leaky(beta=options.get("beta", beta), threshold=threshold,
                        reset_mechanism=options.get("reset", "subtract"))
        mem, spikes, membranes = torch.zeros(x.shape[1], beta.shape[0]), [], []
        for x_t in x:
            spk, mem = lif(encoder(x_t), mem)
            spikes.append(spk)
            membranes.append(mem)
        return torch.stack(spikes), torch.stack(membranes)
    return run


def test_check_plain_leaky(check_contract):
    def last_step_only(e, b, t, x):
        return tuple(v[-1] for v in solutions.plain_leaky(e, b, t, x))

    def no_spikes(e, b, t, x):
        spk, mem = solutions.plain_leaky(e, b, t, x)
        return torch.zeros_like(spk), mem

    check_contract(checks.check_plain_leaky, solutions.plain_leaky, {
        "its own beta": _leaky_with(beta=0.8),
        "subtract reset": _leaky_with(reset="zero"),
        "stack the steps": last_step_only,
        "spikes do not": no_spikes,
    })


def test_check_plain_leakys_inputs_keep_every_membrane_off_the_threshold():
    """A reader's plain_leaky multiplies one step at a time, the core all steps at once; the check wants identical
    spikes, which any CPU gives only if no membrane comes within rounding of the threshold (float_rounding)."""
    for seed, H in ((0, 4), (1, 16), (2, 32)):  # the check's cores and inputs
        core = checks._gateless_core(seed, H)
        x = 1.5 * torch.randn(25, 3, 3, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            core(x, trace=(trace := Trace()))
        # each step: 3 products and a bias into the current, then beta * U, + current, - reset
        assert_spikes_cannot_flip(trace["mem"], 1.0, terms=25 * (3 + 4))


# -- figures -----------------------------------------------------------------------------------------------------
def _labelled(fig: Figure) -> bool:
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    has_title = bool(fig._suptitle and fig._suptitle.get_text()) or all(ax.get_title() for ax in axes)
    def y_labelled(ax):  # its own label, or a label on an axis sharing its y scale
        return any(a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax))

    return has_title and all(y_labelled(ax) for ax in axes) and any(ax.get_xlabel() for ax in axes)


def _legends_off_the_axes(fig: Figure) -> bool:
    """Every legend, drawn, lies outside the box of its axes (so it hides no data), and there is at least one."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    legends = [(ax.get_legend(), ax) for ax in fig.axes if ax.get_legend() is not None]
    return bool(legends or fig.legends) and all(
        not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer)) for legend, ax in legends)


def test_gated_current_pulse_figure_matches_the_formula():
    fig = plots.plot_gated_current_pulse([0.5, 0.9], steps=12)
    assert _labelled(fig)
    ax = fig.axes[0]
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    for f, line in zip([0.5, 0.9], dots):
        assert np.allclose(line.get_ydata(), (1 - f) * f ** np.arange(12), atol=1e-6)


def test_toy_neuron_keeps_the_cue_difference_as_f_to_the_t():
    forget_bias, f = 2.0, 1 / (1 + math.exp(-2.0))
    plus = plots.simulate_toy_neuron(forget_bias, 0.9, 1.0, steps=15)
    minus = plots.simulate_toy_neuron(forget_bias, 0.9, -1.0, steps=15)
    assert np.allclose(plus["forget"], f)
    # the distractors are the same in both runs and c is linear in the candidates: only the cue's share differs
    written = (1 - f) * (math.tanh(2.0) - math.tanh(-2.0))
    assert np.allclose(plus["cur"] - minus["cur"], written * f ** np.arange(15), atol=1e-5)
    assert np.array_equal(plus["x"][1:], minus["x"][1:])
    fig = plots.plot_toy_neuron()
    assert _labelled(fig) and _legends_off_the_axes(fig)


def test_internals_and_parameter_figures():
    net = train_on_cue_recall("grsn", delay=4, seed=0, hidden_size=8, steps=2, batch_size=8, test_size=40)
    x, y = net.test_set()
    rec = record_internals(net.core, x)
    for fig in (
        plots.plot_grsn_internals(rec, y, index=0),
        plots.plot_cue_means(rec, y, [0, 1]),
        plots.plot_learned_parameters(net.core.beta.detach(), 0.9, net.core.gate_o.bias.detach()[:8], 1.0),
        plots.plot_hand_vs_package(rec["mem"], rec["mem"].clone(), neurons=(0, 1)),
    ):
        assert isinstance(fig, Figure) and _labelled(fig)
    for fig in (plots.plot_cue_means(rec, y, [0, 1]),
                plots.plot_hand_vs_package(rec["mem"], rec["mem"] + 1e-7, neurons=(0, 1))):
        assert _legends_off_the_axes(fig)


def test_cost_and_accuracy_figures():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 5)
    reports = {g: count_core_ops(make_core("grsn", 5, 8, gate_input=g), x) for g in ("spikes", "input", "both")}
    fig = plots.plot_energy_by_layer(reports)
    assert _labelled(fig)
    ax = fig.axes[0]
    totals = np.zeros(len(reports))  # the stacked bars add up to each report's energy per decision
    for patch in ax.patches:
        totals[round(patch.get_x() + patch.get_width() / 2)] += patch.get_height()
    assert np.allclose(totals, [r.energy_pj() for r in reports.values()])

    fig = plots.plot_gate_energy_vs_spikes(gates_solutions.gate_energy_pj, 5, 32, measured={"spikes": (10.0, 500.0)})
    assert _labelled(fig)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert len(curves) == 3
    for line in curves:  # each curve is the formula, for one gate input
        n = line.get_xdata()
        assert any(np.allclose(line.get_ydata(), [gates_solutions.gate_energy_pj(g, float(k), 5, 32) for k in n])
                   for g in ("spikes", "input", "both"))
    vertical = [line for line in ax.lines if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2]
    assert len(vertical) == 1  # the break-even, where 2H n ACs cost as much as 2H I MACs: n = I E_MAC / E_AC
    assert abs(vertical[0].get_xdata()[0] - 5 * E_MAC_PJ / E_AC_PJ) <= 32 / 199
    assert any(np.allclose(line.get_xydata(), [[10.0, 500.0]]) for line in ax.lines)  # the measured point

    rows = pd.DataFrame([{"options": f"gate_input={g}", "delay": d, "seed": s, "accuracy": 0.5 + 0.1 * s}
                         for g in ("spikes", "input") for d in (1, 5) for s in (0, 1)])
    fig = plots.plot_gate_input_accuracy(rows, reference=rows.assign(accuracy=0.3), chance=0.25)
    assert _labelled(fig)
    ax = fig.axes[0]
    means = [line for line in ax.lines if line.get_marker() not in (".", "None", "") and line.get_label()[0] != "_"]
    heights = sorted(tuple(np.round(line.get_ydata(), 6)) for line in means)
    assert heights == [(0.3, 0.3), (0.55, 0.55), (0.55, 0.55)]  # two gate inputs (mean of 2 seeds), the reference
    assert any(np.allclose(line.get_ydata(), 0.25) for line in ax.lines if line.get_linestyle() == "--")
