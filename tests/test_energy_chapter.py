"""The chapter on energy per decision (its slug is ``energy``; ``tests/test_energy.py`` tests the package's counts,
``grsn_edu.snn.energy``): exercise checks pass on the solutions and fail on wrong answers; the energy figures
(those of the chapter on "about 50 %" too, whose check is tested in tests/test_energy_claims.py)."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from grsn_edu.course.checks import energy as checks
from grsn_edu.course.plots.energy import plot_energy_breakdown, plot_return_vs_energy, plot_sweep
from grsn_edu.course.solutions import energy as sol


def test_gru_ops_solution_by_hand():
    assert sol.gru_ops(1, 1) == (3 + 3 + 3, 11)
    assert sol.gru_ops(2, 128) == (3 * 128 * 2 + 3 * 128 * 128 + 3 * 128, 11 * 128)


def test_check_gru_ops(check_contract):
    check_contract(checks.check_gru_ops, sol.gru_ops, {
        "element-wise": lambda i, h: (3 * h * i + 3 * h * h, 11 * h),
        "three gate blocks": lambda i, h: (h * i + h * h + 3 * h, 11 * h),
        "real number": lambda i, h: (3 * h * i + 3 * h, 11 * h),
        "biases": lambda i, h: (3 * h * i + 3 * h * h + 3 * h, 8 * h),
    })


def test_layer_energy_solution_by_hand():
    spikes = np.array([[1, 0, 1], [0, 0, 0]])  # 2 spikes in 2 steps, 4 targets
    assert sol.layer_energy_pj(spikes, 4) == pytest.approx((2 * 4 + 2 * 4) * 0.9 / 2)


def test_check_layer_energy(check_contract):
    check_contract(checks.check_layer_energy, sol.layer_energy_pj, {
        "MAC": lambda s, n: (s.size * n * 4.6 + s.shape[0] * n * 0.9) / s.shape[0],
        "bias": lambda s, n: np.count_nonzero(s) * n * 0.9 / s.shape[0],
        "divide": lambda s, n: sol.layer_energy_pj(s, n) * s.shape[0],
        "E_AC": lambda s, n: sol.layer_energy_pj(s, n) / 0.9 * 4.6,
    })


def _tables():
    layers = pd.DataFrame({
        "task": ["T"] * 4 + ["U"] * 2, "agent": ["gru", "gru", "grsn", "grsn", "gru", "grsn"],
        "algo": ["ppo"] * 4 + ["mappo"] * 2, "layer": ["input weights", "recurrent weights", "encoder", "gates",
                                                       "recurrent weights", "gates"],
        "energy_pj": [100.0, 900.0, 50.0, 20.0, 500.0, 40.0]})
    agents = pd.DataFrame({"task": ["T", "T", "U", "U"], "agent": ["gru", "grsn", "gru", "grsn"],
                           "algo": ["ppo", "ppo", "mappo", "mappo"], "energy_pj": [1000.0, 70.0, 500.0, 40.0],
                           "return_mean": [400.0, 300.0, -60.0, -70.0], "return_std": [10.0, 20.0, 3.0, 4.0]})
    return layers, agents


def _labelled(fig):
    assert isinstance(fig, Figure) and fig._suptitle is not None or fig.axes[0].get_title()
    for ax in fig.axes:
        assert ax.get_xlabel() and (ax.get_ylabel() or ax is not fig.axes[0])


def test_energy_figures():
    layers, agents = _tables()
    for share in (False, True):
        fig = plot_energy_breakdown(layers, share=share)
        _labelled(fig)
        assert len(fig.axes) == 2 and fig.legends
        assert [ax.get_title() for ax in fig.axes] == ["T (PPO)", "U (MAPPO)"]  # one panel per task and algorithm
    fig = plot_return_vs_energy(agents)
    _labelled(fig)
    assert fig.legends
    fig = plot_sweep([1, 2, 4], {"a": [1, 2, 3], "b": [3, 2, 1]}, "x (units)", "y (units)", "t", reference=0.5,
                     markers={"measured": (2, 2)})
    _labelled(fig)
    assert fig.axes[0].get_legend() is not None


def test_energy_breakdown_linear_shared_axis_cuts_outliers():
    """Stacked bars on a linear axis shared by every panel; a bar ten times the others is cut, its total shown."""
    layers, _ = _tables()
    fig = plot_energy_breakdown(layers)
    assert {ax.get_yscale() for ax in fig.axes} == {"linear"}  # stacked heights on a log axis misread
    assert len({ax.get_ylim() for ax in fig.axes}) == 1  # one energy range for every panel
    top = fig.axes[0].get_ylim()[1]
    assert top < 1.0  # cut above the cheap bars (70 and 40 pJ), below the GRUs (1 and 0.5 nJ)
    boxed = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_bbox_patch() is not None]
    assert sorted(boxed) == ["0.5", "1.0"] and "cut" in fig._suptitle.get_text()
    close = layers.assign(energy_pj=layers["energy_pj"].where(layers["agent"] != "gru", 30.0))
    fig = plot_energy_breakdown(close)  # no outlier: nothing is cut
    assert "cut" not in fig._suptitle.get_text()
    assert fig.axes[0].get_ylim()[1] >= close.groupby(["task", "agent"])["energy_pj"].sum().max() / 1000


def test_return_vs_energy_shared_ranges_bounds_and_baselines():
    """Panels of one return scale share a y-range; CartPole's spread bars stop at 500; the teams' panels draw the
    random and scripted levels and keep a far outlier at the edge."""
    agents = pd.DataFrame({
        "task": ["CartPole-P", "CartPole-P", "CartPole-V", "simple_spread", "simple_spread", "spread_memory"],
        "agent": ["gru", "grsn", "grsn", "gru", "grsn", "grsn"],
        "algo": ["ppo", "ppo", "ppo", "qmix", "qmix", "mappo"],
        "energy_pj": [6e4, 3e3, 3e3, 7e4, 8e3, 9e3],
        "return_mean": [500.0, 450.0, 470.0, -170.0, -60.0, -58.0], "return_std": [0.0, 90.0, 60.0, 30.0, 10.0, 9.0]})
    tasks = ["simple_spread", "simple_spread", "spread_memory", "spread_memory", "simple_spread"]
    summary = pd.DataFrame({"env": tasks,
                            "agent": ["random", "scripted", "random", "scripted", "grsn"],
                            "algo": ["none", "none", "none", "none", "qmix"],
                            "final_eval_return": [-81.6, -22.9, -81.6, -22.9, -60.0]})
    fig = plot_return_vs_energy(agents, baselines=summary)
    cart, team = fig.axes[:2], fig.axes[2:]
    assert cart[0].get_ylim() == cart[1].get_ylim() and team[0].get_ylim() == team[1].get_ylim()
    assert cart[0].get_ylim()[1] < 540  # the whole 0-500 range, little more
    tops = [seg[:, 1].max() for ax in cart for coll in ax.collections for seg in coll.get_segments()]
    assert max(tops) <= 500.0  # no spread bar above the longest episode
    lo, hi = team[0].get_ylim()
    assert lo < -81.6 and hi > -22.9 and lo > -120  # the levels in view, not stretched by the -170
    levels = sorted(round(line.get_ydata()[0], 1) for ax in team for line in ax.get_lines()
                    if line.get_linestyle() in ("--", ":"))
    assert levels == [-81.6, -81.6, -22.9, -22.9]
    assert any("-170.0" in t.get_text() for t in team[0].texts)  # the outlier's return, written at the edge
    labels = fig.legends[0].get_texts()
    assert {"random team (the floor)", "scripted team, full state (a ceiling)"} <= {t.get_text() for t in labels}


def test_energy_figures_bad_input():
    layers, agents = _tables()
    with pytest.raises(ValueError, match="lacks columns"):
        plot_energy_breakdown(layers.drop(columns="layer"))
    with pytest.raises(ValueError, match="no rows"):
        plot_energy_breakdown(layers.iloc[:0])
    with pytest.raises(ValueError, match="lacks column"):
        plot_return_vs_energy(agents.drop(columns="return_mean"))
    with pytest.raises(ValueError, match="lacks columns"):  # a table written before the column was named algo
        plot_energy_breakdown(layers.rename(columns={"algo": "mixer"}))
    with pytest.raises(ValueError, match="'algo'"):
        plot_return_vs_energy(agents.rename(columns={"algo": "mixer"}))
    with pytest.raises(ValueError, match="baselines lacks"):
        plot_return_vs_energy(agents, baselines=pd.DataFrame({"env": ["U"], "agent": ["random"]}))
    with pytest.raises(ValueError, match="values for"):
        plot_sweep([1, 2], {"a": [1, 2, 3]}, "x", "y", "t")
