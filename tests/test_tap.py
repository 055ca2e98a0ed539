"""The chapter on the temporal alignment paradigm (TAP): the exercise checks (pass on the solutions, fail on wrong
answers) and the figures of its two clocks and their costs."""

import pytest
import torch
from conftest import assert_labelled

from grsn_edu import count_core_ops, make_core
from grsn_edu.course.checks import tap as checks
from grsn_edu.course.plots import rl
from grsn_edu.course.solutions import tap as sol


# -- exercises ---------------------------------------------------------------------------------------------------
def test_gate_acs_solution_by_hand():
    assert sol.gate_acs([0], 4) == 8  # bias only: 2H
    assert sol.gate_acs([3], 4) == 3 * 8 + 8
    assert sol.gate_acs([1, 2, 0, 5], 16) == 32 * (8 + 4)


def test_check_gate_acs(check_contract):
    check_contract(checks.check_gate_acs, sol.gate_acs, {
        "bias": lambda c, H: 2 * H * sum(c),
        "2H targets": lambda c, H: H * (sum(c) + len(c)),
        "every spiking update": lambda c, H: 2 * H * (sum(c) + 1),
        "dense": lambda c, H: 2 * H * H * len(c) + 2 * H * len(c),
    })


def test_measured_gate_acs_is_count_core_ops():
    counts, acs = checks.measured_gate_acs(16, 4, seed=3)
    assert len(counts) == 4 and acs == sol.gate_acs(counts, 16)


def test_check_memory_left(check_contract):
    check_contract(checks.check_memory_left, sol.memory_left, {
        "TAP answer": lambda b, k, s: b**k,
        "count the updates": lambda b, k, s: b ** (k * s - 1),
        "multiplies the membrane by beta": lambda b, k, s: b ** (k / s),
    })


def test_measured_memory_left_is_beta_to_the_updates():
    assert checks.measured_memory_left(0.9, 5, 4) == pytest.approx(0.9**20, rel=1e-5)
    assert checks.measured_memory_left(0.5, 2, 1) == pytest.approx(0.25, rel=1e-5)



# -- figures -----------------------------------------------------------------------------------------------------
def test_time_axes_cost_and_dependence_figures():
    fig = rl.plot_time_axes(substeps=4, env_steps=3)
    assert_labelled(fig)
    rows = [ax for ax in fig.axes if ax.collections]
    assert [len(ax.collections[0].get_offsets()) for ax in rows] == [3, 12]  # TAP first: one dot per update
    fig = rl.plot_time_axes(env_steps=3, schemes=[("a", 1, False), ("b", 2, True)])
    rows = [ax for ax in fig.axes if ax.collections]
    assert [len(ax.lines) for ax in rows] == [0, 2]  # a reset bar between environment steps, only where reset
    x = torch.randn(20, 1, 2)
    torch.manual_seed(0)
    core = make_core("grsn", 2, 16)
    reports = {"TAP": count_core_ops(core, x), "S=4": count_core_ops(make_core("grsn", 2, 16, substeps=4), x)}
    assert_labelled(rl.plot_decision_costs(reports, {"TAP": [100.0, 120.0, 110.0], "S=4": [400.0, 420.0, 390.0]}))
    assert_labelled(rl.plot_output_dependence({"a": [1.0, 0.5, 0.2], "b": [1.0, 0.0, 0.0]}))


