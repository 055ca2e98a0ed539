"""Figures of PPO's objective and of the diagnostics its trainer logs (notebooks 05, the reinforcement-learning
primer, and 07, recurrent PPO).

* :func:`clipped_surrogate` reads PPO's per-sample clipped surrogate off :func:`grsn_edu.rl.ppo.clipped_ppo_loss`,
  and :func:`plot_clipped_surrogate` draws it against the probability ratio for a few advantages.
* :func:`plot_update_stats` draws approx-KL, clip fraction and explained variance per update
  (:data:`grsn_edu.rl.ppo.UPDATE_COLUMNS`) for chosen runs of a table such as ``data/ppo_recipe/update_stats.csv``.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, with a title, axes labelled
with units and a legend where there is more than one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from grsn_edu.course.plots.rl import TRAIN_STEP_LABEL, _figure
from grsn_edu.rl.ppo import clipped_ppo_loss

__all__ = ["RUN_COLUMNS", "DIAGNOSTICS", "DIAGNOSTIC_LABELS", "clipped_surrogate", "plot_clipped_surrogate",
           "plot_update_stats"]

#: The columns that name one run in a table of several runs' updates (``data/ppo_recipe/update_stats.csv``).
RUN_COLUMNS = ("variant", "env", "seed")
#: The diagnostics :func:`plot_update_stats` draws by default: column -> (panel title, y-axis label with units).
DIAGNOSTICS = {
    "approx_kl": ("approx-KL: how far one update moved the policy", "approx. KL(old || new) (nats)"),
    "clip_fraction": ("clip fraction: share of samples clipped", "share of samples with |r - 1| > eps"),
    "explained_variance": ("explained variance of the value estimates", "1 - Var(R - V) / Var(R)"),
}
#: Panel title and y-axis label of every column :func:`plot_update_stats` knows: :data:`DIAGNOSTICS` and the other
#: per-update measurements of :data:`grsn_edu.rl.ppo.UPDATE_COLUMNS` (a column not named here is labelled by its name).
DIAGNOSTIC_LABELS = {
    **DIAGNOSTICS,
    "entropy": ("entropy of the policy: how random its actions still are", "entropy (nats)"),
    "policy_loss": ("policy loss: minus the clipped surrogate", "loss (units of the normalised advantage)"),
    "value_loss": ("value loss: 0.5 (V - R)^2", "loss (units of the scaled return, squared)"),
    "learning_rate": ("learning rate of the update", "learning rate"),
}
#: Default y range per diagnostic; points outside it are counted in the panel instead of stretching the axis.
DEFAULT_YLIMS = {"explained_variance": (-1.5, 1.05)}
RATIO_LABEL = "probability ratio r = pi(a | h) / pi_old(a | h)"
OLD_PROBABILITY = 0.5  # the old policy's probability of the action, so that ratios in (0, 2) can be made


def clipped_surrogate(ratios, advantage: float, clip_coef: float) -> np.ndarray:
    """PPO's per-sample surrogate ``min(r A, clip(r, 1 - eps, 1 + eps) A)``, read off the package's loss.

    Each ratio ``r`` becomes one sample whose new policy gives the action ``r`` times the old probability (0.5);
    :func:`~grsn_edu.rl.ppo.clipped_ppo_loss` is evaluated on it with the value and entropy terms off and the
    advantage used as given, and the surrogate is minus its policy loss.

    Args:
        ratios: ``(N,)`` probability ratios, each in (0, 2).
        advantage: A of the sample.
        clip_coef: eps, in (0, 1).

    Returns:
        ``(N,)`` the surrogate at each ratio (what PPO maximises, in the units of the advantage).

    Example:
        >>> clipped_surrogate([0.5, 1.0, 1.5], advantage=1.0, clip_coef=0.2).round(6).tolist()
        [0.5, 1.0, 1.2]
    """
    if not 0.0 < clip_coef < 1.0:
        raise ValueError(f"clip_coef must lie in (0, 1), got {clip_coef}")
    ratios = np.asarray(ratios, dtype=np.float64)
    if ratios.ndim != 1 or not ((ratios > 0) & (ratios < 1 / OLD_PROBABILITY)).all():
        raise ValueError(f"ratios must be a 1-D sequence of values in (0, {1 / OLD_PROBABILITY:g})")
    old_logprob = torch.tensor([np.log(OLD_PROBABILITY)], dtype=torch.float64)
    surrogate = []
    for r in ratios:
        p = r * OLD_PROBABILITY  # the new policy's probability of action 0
        logits = torch.tensor([[np.log(p), np.log1p(-p)]], dtype=torch.float64)
        _, stats = clipped_ppo_loss(logits, torch.zeros(1), torch.tensor([0]), old_logprob,
                                    torch.tensor([float(advantage)], dtype=torch.float64), torch.zeros(1),
                                    clip_coef, vf_coef=0.0, ent_coef=0.0, normalize_advantages=False)
        surrogate.append(-stats["policy_loss"])
    return np.array(surrogate)


def plot_clipped_surrogate(advantages: Sequence[float] = (1.0, -1.0), clip_coef: float = 0.2,
                           ratios=None) -> Figure:
    """The clipped surrogate of one sample against the probability ratio, one panel per advantage.

    Each panel draws the clipped surrogate (:func:`clipped_surrogate`, solid), the unclipped ``r A`` (dashed),
    the clip range ``1 +- eps`` (dotted verticals) and shades where the clipped line is flat: there a larger
    step in the same direction gains nothing, so the gradient of that sample is zero.

    Args:
        advantages: one panel per advantage A (non-zero).
        clip_coef: eps, in (0, 1).
        ratios: ``(N,)`` the ratios drawn (default 197 points from 0.02 to 1.98).

    Returns:
        The figure; in each panel ``lines[0]`` is the clipped surrogate, ``lines[1]`` the unclipped one; one legend
        under the panels explains them all.
    """
    advantages = [float(a) for a in advantages]
    if not advantages or any(a == 0 for a in advantages):
        raise ValueError(f"advantages must be a non-empty sequence of non-zero numbers, got {advantages}")
    ratios = np.linspace(0.02, 1.98, 197) if ratios is None else np.asarray(ratios, dtype=np.float64)
    fig = _figure(4.6 * len(advantages), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(advantages), sharey=False))
    for ax, adv in zip(axes, advantages):
        ax.plot(ratios, clipped_surrogate(ratios, adv, clip_coef), color="#2ca02c", lw=2.2,
                label="clipped: min(r A, clip(r) A)")
        ax.plot(ratios, ratios * adv, color="#555555", ls="--", lw=1.2, label="unclipped: r A")
        for edge in (1 - clip_coef, 1 + clip_coef):
            ax.axvline(edge, color="#d62728", ls=":", lw=1.2, label="clip range 1 ± eps" if edge < 1 else None)
        flat = (1 + clip_coef, ratios.max()) if adv > 0 else (ratios.min(), 1 - clip_coef)
        ax.axvspan(*flat, color="#d62728", alpha=0.08, label="flat: this sample's gradient is 0")
        ax.set_title(f"advantage A = {adv:+g}" + (" (action better than expected)" if adv > 0
                                                 else " (action worse than expected)"), fontsize=10)
        ax.set_xlabel(RATIO_LABEL)
        ax.set_ylabel("surrogate (units of A)")
    # the panels share their legend: one, under them, where it covers no curve and no clip line
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncols=4)
    fig.suptitle(f"PPO's clipped surrogate for one sample (eps = {clip_coef:g}): it stops rewarding steps "
                 "beyond the clip range")
    return fig


def _run_rows(frame: pd.DataFrame, run: tuple) -> pd.DataFrame:
    if len(run) != len(RUN_COLUMNS):
        raise ValueError(f"a run is a tuple ({', '.join(RUN_COLUMNS)}), got {run!r}")
    mask = np.ones(len(frame), dtype=bool)
    for column, value in zip(RUN_COLUMNS, run):
        mask &= (frame[column] == value).to_numpy()
    if not mask.any():
        known = sorted(set(map(tuple, frame[list(RUN_COLUMNS)].drop_duplicates().to_numpy().tolist())),
                       key=str)
        raise ValueError(f"no updates for run {dict(zip(RUN_COLUMNS, run))}; runs in the frame: "
                         + "; ".join(", ".join(map(str, k)) for k in known))
    return frame[mask]


def plot_update_stats(frame: pd.DataFrame, runs: Sequence[tuple], labels: Sequence[str] | None = None,
                      columns: Sequence[str] = tuple(DIAGNOSTICS), x: str = "global_step",
                      ylims: Mapping[str, tuple[float, float]] | None = None) -> Figure:
    """PPO's per-update diagnostics of several runs, one panel per diagnostic, one line per run.

    Args:
        frame: one row per update, with :data:`RUN_COLUMNS`, ``x`` and ``columns`` (e.g.
            ``data/ppo_recipe/update_stats.csv``).
        runs: the runs to draw, each ``(variant, env, seed)``.
        labels: a legend label per run (default ``"variant, env, seed s"``).
        columns: the diagnostics, one panel each (default :data:`DIAGNOSTICS`: approx-KL, clip fraction,
            explained variance), labelled as :data:`DIAGNOSTIC_LABELS` says.
        x: the column on the horizontal axis (``global_step``: environment steps; or ``update``).
        ylims: y range per column (default :data:`DEFAULT_YLIMS`); how many points of each run fall outside is
            written in the panel.

    Returns:
        The figure, panels from top to bottom in the order of ``columns``, one legend of the runs below them;
        each panel's lines labelled with a run's label hold that run's ``(x, column)`` values in the frame's order.

    Raises:
        ValueError: a missing column, no runs, a wrong number of labels, or a run the frame does not have.
    """
    columns = list(columns)
    missing = [c for c in [*RUN_COLUMNS, x, *columns] if c not in frame.columns]
    if missing:
        raise ValueError(f"the update table lacks column(s) {', '.join(missing)}; it has "
                         f"{', '.join(map(str, frame.columns))}")
    if not runs:
        raise ValueError("runs is empty: name at least one (variant, env, seed)")
    if not columns:
        raise ValueError("columns is empty: name at least one diagnostic")
    runs = [tuple(r) for r in runs]
    rows = [_run_rows(frame, run) for run in runs]
    if labels is None:
        labels = [f"{v}, {e}, seed {s}" for v, e, s in runs]
    if len(labels) != len(runs):
        raise ValueError(f"got {len(labels)} labels for {len(runs)} runs")
    ylims = DEFAULT_YLIMS if ylims is None else ylims
    fig = _figure(9, 2.4 * len(columns) + 0.6)
    axes = np.atleast_1d(fig.subplots(len(columns), 1, sharex=True))
    for ax, column in zip(axes, columns):
        title, ylabel = DIAGNOSTIC_LABELS.get(column, (column, column))
        outside = []
        for k, (run_rows, label) in enumerate(zip(rows, labels)):
            ax.plot(run_rows[x].to_numpy(), run_rows[column].to_numpy(), color=f"C{k}", lw=1.3, label=label)
            if column in ylims:
                low, high = ylims[column]
                n = int(((run_rows[column] < low) | (run_rows[column] > high)).sum())
                if n:
                    outside.append(f"{n} of {len(run_rows)} updates of {label} outside [{low:g}, {high:g}]")
        if column in ylims:
            ax.set_ylim(*ylims[column])
        if outside:
            ax.text(0.01, 0.03, "off the axis: " + "; ".join(outside), transform=ax.transAxes, fontsize=7.5,
                    va="bottom", color="#444444")
        if column == "explained_variance":
            ax.axhline(0.0, color="#888888", ls=":", lw=1.0, label="_0: no better than a constant")
            ax.text(1.0, 0.0, " 0: a constant", transform=ax.get_yaxis_transform(), fontsize=7.5, va="center",
                    color="#666666")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=9)
    axes[-1].set_xlabel(TRAIN_STEP_LABEL if x == "global_step" else x)
    fig.suptitle("PPO diagnostics per update (each point: one rollout and its epochs of gradient steps)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=min(len(runs), 3),
               fontsize=8.5)
    return fig
