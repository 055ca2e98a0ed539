"""grsn_edu.course.formulations: the authors' GRSN beside this project's (notebooks 04 and 12)."""

import copy
import math

import pytest
import torch
from float_rounding import assert_spikes_cannot_flip
from torch import nn

from grsn_edu import count_core_ops, make_core
from grsn_edu.course.formulations import (
    NEAR_HALF,
    accuracy_one_call_per_step,
    actor_cell_input,
    actor_energy_table,
    call_gap,
    cell_energy_table,
    run_one_call_per_step,
)
from grsn_edu.experiments.memory import evaluate_accuracy
from grsn_edu.rl.authors_actor import AuthorsActor, cartpole_batch, compare_actor_energy
from grsn_edu.snn.trace import Trace


def _authors(candidate=2.0, **options):
    """A one-unit authors' cell whose candidate is ``candidate`` at every step and whose forget gate is 1/2:
    h = 1, 1.5, 1.75, ... from rest."""
    core = make_core("grsn-first-release", 1, 1, **options)
    with torch.no_grad():
        core.forget_gate.weight.zero_()
        core.input_gate.weight.zero_()
        core.input_gate.bias.fill_(candidate)
    return core


def test_one_call_per_step_by_hand():
    # membrane zeroed at every call: V_hat = h / 2 < 1 never fires. Carried: V_hat = 0.5, then
    # 0.5 + (1.5 - 0.5) / 2 = 1.0 fires, reset to 0, then 1.75 / 2 < 1, ...
    x = torch.zeros(4, 1, 1)
    acting, _ = run_one_call_per_step(_authors(), x)
    assert acting.flatten().tolist() == [0.0, 0.0, 0.0, 0.0]
    carried, state = run_one_call_per_step(_authors(reset_membrane_each_call=False), x)
    whole, whole_state = _authors()(x)
    assert carried.flatten().tolist() == whole.flatten().tolist() == [0.0, 1.0, 0.0, 1.0]
    assert torch.equal(state["h"], whole_state["h"])
    assert call_gap(_authors(), x) == 1.0 and call_gap(_authors(reset_membrane_each_call=False), x) == 0.0


def test_one_call_per_step_records_every_call():
    torch.manual_seed(0)
    core = make_core("grsn", 3, 4)
    trace = Trace()
    x = torch.randn(5, 2, 3)
    stepwise, _ = run_one_call_per_step(core, x, trace=trace)
    assert trace["spk"].shape == (5, 2, 4)
    # one step per call and one call for all steps multiply matrices of other shapes: the spikes are equal as long
    # as no membrane comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(trace["mem"], core.threshold, terms=5 * (3 + 4 + 1))
    with torch.no_grad():
        assert torch.equal(stepwise.detach(), core(x)[0])


@pytest.mark.parametrize("name", ["grsn", "gru", "lif"])
def test_cores_with_a_carried_state_have_no_gap(name):
    torch.manual_seed(0)
    assert call_gap(make_core(name, 3, 8), 3 * torch.randn(9, 2, 3)) < 1e-5


def test_accuracy_one_call_per_step():
    torch.manual_seed(0)
    x, labels = 3 * torch.randn(6, 64, 3), torch.randint(0, 2, (64,))
    readout = nn.Linear(8, 2)
    reset = make_core("grsn-first-release", 3, 8)
    carried = copy.deepcopy(reset)
    carried.reset_membrane_each_call = False
    # the membrane carried, acting equals one call per sequence: the same spikes (no membrane before its reset comes
    # within rounding of the threshold, float_rounding), so the same readout of the last step
    with torch.no_grad():
        carried(x, trace=(trace := Trace()))
    assert_spikes_cannot_flip(trace["mem"] + trace["spk"], carried.threshold, terms=6 * (3 + 8 + 1))
    assert accuracy_one_call_per_step(carried, readout, x, labels) == evaluate_accuracy(carried, readout, x, labels)[0]
    # by hand: the last step's readout of the spikes of T one-step calls
    with torch.no_grad():
        out, _ = run_one_call_per_step(reset, x)
        expected = float((readout(out[-1]).argmax(-1) == labels).float().mean())
    assert accuracy_one_call_per_step(reset, readout, x, labels) == expected


def test_actor_cell_input_is_what_the_cell_reads():
    batch = cartpole_batch(batch_size=2, steps=5, seed=0)
    actor = AuthorsActor(2, 2)
    x = actor_cell_input(actor, batch)
    assert x.shape == (5, 2, 48) and (x >= 0).all()  # three ReLU embeddings: 8 + 8 + 32
    with torch.no_grad():
        expected = torch.relu(actor.observ_embedder(batch.observs))
    assert torch.equal(x[..., 16:], expected)


def test_cell_energy_table_is_count_core_ops():
    torch.manual_seed(0)
    x = 3 * torch.randn(6, 3, 4)
    cores = {"authors": make_core("grsn-first-release", 4, 8), "ours": make_core("grsn", 4, 8),
             "gru": make_core("gru", 4, 8)}
    table = cell_energy_table(cores, x, "gru")
    gru_pj = count_core_ops(cores["gru"], x).energy_pj()
    for label, core in cores.items():
        report = count_core_ops(core, x)
        assert table.loc[label, "MAC"] == report.total_mac and table.loc[label, "AC"] == report.total_ac
        assert table.loc[label, "ratio"] == pytest.approx(report.energy_pj() / gru_pj)
    assert table.loc["gru", "ratio"] == 1.0 and math.isnan(table.loc["gru", "firing_rate"])
    trace = Trace()
    with torch.no_grad():
        cores["ours"](x, trace=trace)
    assert table.loc["ours", "firing_rate"] == pytest.approx(float(trace["spk"].mean()))


def test_cell_energy_table_acting_counts_the_stepwise_spikes():
    x = torch.zeros(4, 1, 1)
    cores = {"acting": _authors(), "training": _authors()}
    table = cell_energy_table(cores, x, "training", one_call_per_step={"acting": True})
    assert table.loc["acting", "firing_rate"] == 0.0 and table.loc["training", "firing_rate"] == 0.5
    assert table.loc["training", "AC"] - table.loc["acting", "AC"] == pytest.approx(0.5)  # a reset per spike
    with pytest.raises(ValueError, match="baseline"):
        cell_energy_table(cores, x, "gru")
    with pytest.raises(ValueError, match="one_call_per_step"):
        cell_energy_table(cores, x, "acting", one_call_per_step={"other": True})


def test_actor_energy_table():
    batch = cartpole_batch(batch_size=2, steps=12, seed=0)
    comparison = compare_actor_energy(batch, seed=0)
    table = actor_energy_table(comparison)
    for baseline in ("gru", "lstm"):
        for mode in ("event-driven", "dense"):
            row = table.loc[(baseline.upper(), mode)]
            assert row["actor ratio"] == pytest.approx(comparison[f"grsn/{baseline}"][mode])
            assert row["near 50 %"] == (NEAR_HALF[0] <= row["actor ratio"] <= NEAR_HALF[1])
    # the cells alone, by formula: the authors' gates 2 H I MACs + gating and membrane; a GRU 3 H I + 3 H^2 + 3 H
    I, H = 48, 128
    grsn_cell = comparison["reports"]["grsn", "dense"]
    cell_pj = sum(r.energy_pj() for r in grsn_cell.rows if r.layer.startswith("cell: "))
    assert cell_pj == pytest.approx(4.6 * (2 * H * I + 2 * H + H) + 0.9 * (2 * H + 2 * H + 2 * H))
    gru_cell_pj = 4.6 * (3 * H * I + 3 * H * H + 3 * H) + 0.9 * (3 * H + 3 * H + 5 * H)
    assert table.loc[("GRU", "dense"), "cell ratio"] == pytest.approx(cell_pj / gru_cell_pj)
    # everything outside the cell is shared: it lifts the ratio above the cells' own
    assert (table["actor ratio"] > table["cell ratio"]).all()
    assert 0 < table["share outside the cell"].min() and table["share outside the cell"].max() < 1
    assert not actor_energy_table(comparison, near=(0.0, 0.01))["near 50 %"].any()


def test_formulations_figure_says_whose_grsn_each_line_is():
    import pandas as pd

    from grsn_edu.course.plots import core_color
    from grsn_edu.course.plots.formulations import FORMULATION_LABELS, plot_formulations_accuracy

    rows = [dict(core=core, delay=d, seed=s, accuracy=acc - 0.1 * (d == 5))
            for core, acc in (("gru", 0.9), ("grsn-first-release", 0.5), ("grsn", 1.0), ("grsn-eq17", 0.7),
                              ("mlp", 0.25))
            for d in (1, 5) for s in (0, 1)]
    fig = plot_formulations_accuracy(pd.DataFrame(rows))
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [*FORMULATION_LABELS.values(), "chance (25%)"]  # mlp left out
    means = {line.get_label(): (list(line.get_ydata()), line.get_color()) for line in ax.lines
             if line.get_marker() == "o"}
    assert means["GRSN, this project's"] == ([1.0, 0.9], core_color("grsn"))
    assert means["GRU"] == ([0.9, 0.8], core_color("gru")) and means["GRSN, first released cell"][0] == [0.5, 0.4]
    assert means["GRSN, Eq. 17 cell (authors' rewrite)"] == ([0.7, 0.6], core_color("grsn-eq17"))
    with pytest.raises(ValueError, match="grsn-first-release"):
        plot_formulations_accuracy(pd.DataFrame(rows).query("core != 'grsn-first-release'"))
