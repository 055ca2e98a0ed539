"""The PPO figures of notebook 07: the clipped surrogate against a hand computation, and the per-update diagnostics
drawn from exactly the rows of the runs asked for, with clear errors."""

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from grsn_edu.course.plots import ppo_diagnostics as plots
from grsn_edu.rl.ppo import UPDATE_COLUMNS


def _by_hand(ratios, advantage, eps):
    return np.minimum(ratios * advantage, np.clip(ratios, 1 - eps, 1 + eps) * advantage)


def test_clipped_surrogate_is_the_package_loss_and_matches_the_formula():
    ratios = np.array([0.1, 0.5, 0.79, 0.8, 1.0, 1.2, 1.3, 1.9])
    for advantage in (2.0, -0.5):
        got = plots.clipped_surrogate(ratios, advantage, clip_coef=0.2)
        assert np.allclose(got, _by_hand(ratios, advantage, 0.2), atol=1e-9)
    # flat beyond 1 + eps for a positive advantage, below 1 - eps for a negative one
    assert plots.clipped_surrogate([1.5, 1.9], 1.0, 0.2).tolist() == pytest.approx([1.2, 1.2])
    assert plots.clipped_surrogate([0.1, 0.5], -1.0, 0.2).tolist() == pytest.approx([-0.8, -0.8])


@pytest.mark.parametrize("kwargs, message", [
    ({"ratios": [0.5, 2.5], "advantage": 1.0, "clip_coef": 0.2}, "ratios"),
    ({"ratios": [0.0, 1.0], "advantage": 1.0, "clip_coef": 0.2}, "ratios"),
    ({"ratios": [[1.0]], "advantage": 1.0, "clip_coef": 0.2}, "1-D"),
    ({"ratios": [1.0], "advantage": 1.0, "clip_coef": 0.0}, "clip_coef"),
    ({"ratios": [1.0], "advantage": 1.0, "clip_coef": 1.0}, "clip_coef"),
])
def test_clipped_surrogate_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.clipped_surrogate(**kwargs)


def test_clipped_surrogate_figure_draws_both_curves_and_the_clip_range():
    fig = plots.plot_clipped_surrogate(advantages=(1.0, -2.0), clip_coef=0.3)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and fig.get_suptitle()
    for ax, advantage in zip(fig.axes, (1.0, -2.0)):
        assert ax.get_xlabel().startswith("probability ratio") and ax.get_ylabel() and ax.get_title()
        clipped, unclipped, low, high = ax.lines[:4]
        r = clipped.get_xdata()
        assert np.allclose(clipped.get_ydata(), _by_hand(r, advantage, 0.3), atol=1e-9)
        assert np.allclose(unclipped.get_ydata(), r * advantage)
        assert list(low.get_xdata()) == pytest.approx([0.7, 0.7]) and list(high.get_xdata()) == pytest.approx([1.3] * 2)
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 4  # one legend, under the panels
    assert all(ax.get_legend() is None for ax in fig.axes)  # none inside a panel, over the curves
    shaded = [p.get_x() for ax in fig.axes for p in ax.patches]  # the flat part: right of 1.3 for A > 0, else left
    assert shaded[0] == pytest.approx(1.3) and shaded[1] < 0.7
    with pytest.raises(ValueError, match="non-zero"):
        plots.plot_clipped_surrogate(advantages=(1.0, 0.0))
    with pytest.raises(ValueError, match="non-empty"):
        plots.plot_clipped_surrogate(advantages=())


def _updates():
    rows = []
    rng = np.random.default_rng(0)
    runs = (("peer", "CartPole-P", 0, 5), ("peer", "CartPole-P", 1, 4), ("off", "CartPole-P", 1, 6))
    for variant, env, seed, n in runs:
        for update in range(1, n + 1):
            rows.append({"variant": variant, "env": env, "seed": seed, "global_step": 1024 * update, "update": update,
                         "learning_rate": 7e-4, "policy_loss": 0.0, "value_loss": 1.0, "entropy": 0.6,
                         "approx_kl": rng.uniform(0, 0.02), "clip_fraction": rng.uniform(0, 0.2),
                         "explained_variance": rng.uniform(-3, 1)})
    return pd.DataFrame(rows, columns=["variant", "env", "seed"] + UPDATE_COLUMNS)


def test_update_stats_figure_plots_each_runs_own_rows():
    frame = _updates()
    runs = [("peer", "CartPole-P", 0), ("off", "CartPole-P", 1)]
    fig = plots.plot_update_stats(frame, runs, labels=["good", "bad"])
    assert len(fig.axes) == 3 and fig.get_suptitle()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["good", "bad"]
    assert fig.axes[-1].get_xlabel() == "training experience (environment steps)"
    for ax, column in zip(fig.axes, plots.DIAGNOSTICS):
        assert ax.get_ylabel() and ax.get_title()
        lines = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
        assert sorted(lines) == ["bad", "good"]
        for label, (variant, env, seed) in zip(["good", "bad"], runs):
            rows = frame[(frame.variant == variant) & (frame.env == env) & (frame.seed == seed)]
            assert lines[label].get_xdata().tolist() == rows["global_step"].tolist()
            assert lines[label].get_ydata().tolist() == rows[column].tolist()
    ev = fig.axes[2]
    assert ev.get_ylim() == pytest.approx(plots.DEFAULT_YLIMS["explained_variance"])
    below = sum(int((frame.loc[(frame.variant == v) & (frame.seed == s), "explained_variance"] < -1.5).sum())
                for v, _, s in runs)
    assert below > 0, "the test data should put some explained variances off the axis"
    (note,) = [t.get_text() for t in ev.texts if t.get_text().startswith("off the axis")]
    assert sum(int(n) for n in re.findall(r"(\d+) of \d+ updates", note)) == below
    assert not [t for ax in fig.axes[:2] for t in ax.texts], "approx-KL and clip fraction have no y range to leave"


def test_update_stats_figure_options():
    frame = _updates()
    fig = plots.plot_update_stats(frame, [("peer", "CartPole-P", 1)], columns=["entropy"], x="update", ylims={})
    (ax,) = fig.axes
    assert ax.get_xlabel() == "update" and ax.lines[0].get_ydata().tolist() == [0.6] * 4
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["peer, CartPole-P, seed 1"]


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda f: f.drop(columns="clip_fraction"), {}, "lacks column.*clip_fraction"),
    (lambda f: f.drop(columns="seed"), {}, "lacks column.*seed"),
    (lambda f: f, {"runs": [("peer", "CartPole-V", 0)]}, r"no updates for run .*CartPole-V.*runs in the frame: "
                                                         r"off, CartPole-P, 1; peer, CartPole-P, 0"),
    (lambda f: f, {"runs": [("peer", "CartPole-P")]}, "a run is a tuple"),
    (lambda f: f, {"runs": []}, "runs is empty"),
    (lambda f: f, {"labels": ["one", "two"]}, "2 labels for 1 runs"),
    (lambda f: f, {"columns": []}, "columns is empty"),
])
def test_update_stats_figure_errors(change, kwargs, message):
    arguments = {"runs": [("peer", "CartPole-P", 0)], **kwargs}
    with pytest.raises(ValueError, match=message):
        plots.plot_update_stats(change(_updates()), **arguments)
