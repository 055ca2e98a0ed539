"""The reinforcement-learning primer's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from grsn_edu.course.plots import rl
from grsn_edu.course.plots.ppo_diagnostics import DIAGNOSTIC_LABELS, plot_update_stats
from grsn_edu.rl.ppo import UPDATE_COLUMNS


# -- figures -------------------------------------------------------------------------------------------------------
def _assert_labelled(fig):
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), "the figure needs a title"
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), "every panel needs both axis labels"
    assert fig.legends, "the legend sits outside the panels"


def test_episode_returns_histogram():
    fig = rl.plot_episode_returns({"random": [10.0, 20.0, 30.0], "trained": [500.0, 500.0]}, title="returns")
    _assert_labelled(fig)
    (ax,) = fig.axes
    assert len(ax.containers) == 2
    assert sum(p.get_height() for p in ax.containers[0]) == 3 and sum(p.get_height() for p in ax.containers[1]) == 2
    assert ax.containers[1][-1].get_height() == 2  # a return of 500 lands in the last bar
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["random: 3 episodes, mean 20.0", "trained: 2 episodes, mean 500.0"]
    with pytest.raises(ValueError, match="empty"):
        rl.plot_episode_returns({})
    with pytest.raises(ValueError, match="'random'"):
        rl.plot_episode_returns({"random": []})


def test_discount_weights_figure():
    fig = rl.plot_discount_weights(gammas=(0.5, 0.9), steps=20)
    _assert_labelled(fig)
    ax_w, ax_g = fig.axes
    k = np.arange(21)
    assert np.allclose(ax_w.lines[0].get_ydata(), 0.5**k) and np.allclose(ax_w.lines[2].get_ydata(), 0.9**k)
    assert np.allclose(ax_g.lines[0].get_ydata(), [sum(0.5**j for j in range(n)) for n in k])
    assert list(ax_w.lines[1].get_xdata()) == pytest.approx([2.0, 2.0])  # the horizon 1 / (1 - 0.5), dotted
    assert [t.get_text() for t in fig.legends[0].get_texts()][1].endswith("horizon 1 / (1 - gamma) = 10 steps")
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        rl.plot_discount_weights(gammas=(1.0,))


def test_run_against_seeds_figure():
    seeds = pd.DataFrame({"seed": [0, 0, 1, 1], "global_step": [10, 20, 10, 20], "eval_return_mean": [1, 2, 3, 4.0]})
    run = pd.DataFrame({"global_step": [5, 10, 15], "eval_return_mean": [7.0, 8.0, 9.0]})
    fig = rl.plot_run_against_seeds(run, seeds, run_label="live", seeds_label="saved")
    _assert_labelled(fig)
    (ax,) = fig.axes
    assert [list(line.get_ydata()) for line in ax.lines[:3]] == [[1, 2], [3, 4], [7, 8, 9]]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["saved (2 seeds)", "live", "solved (475)"]
    with pytest.raises(ValueError, match="seeds lacks column"):
        rl.plot_run_against_seeds(run, seeds.drop(columns="seed"))
    with pytest.raises(ValueError, match="at least one row"):
        rl.plot_run_against_seeds(run.iloc[:0], seeds)


def test_update_stats_label_the_entropy_panel():
    rows = pd.DataFrame({column: np.linspace(0.1, 0.5, 4) for column in UPDATE_COLUMNS})
    rows = rows.assign(global_step=[1024, 2048, 3072, 4096], variant="mlp", env="CartPole-v1", seed=0)
    fig = plot_update_stats(rows, [("mlp", "CartPole-v1", 0)], columns=["approx_kl", "entropy"])
    assert [ax.get_title() for ax in fig.axes] == [DIAGNOSTIC_LABELS["approx_kl"][0], DIAGNOSTIC_LABELS["entropy"][0]]
    assert fig.axes[1].get_ylabel() == "entropy (nats)"
