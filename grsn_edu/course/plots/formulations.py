"""Figures of the GRSN formulations side by side (notebook 04, section 2)."""

from __future__ import annotations

from matplotlib.figure import Figure

from grsn_edu.course.plots.memory import core_label, plot_accuracy_vs_delay

__all__ = ["FORMULATION_LABELS", "plot_formulations_accuracy"]

#: Legend labels that say which GRSN a line is.
FORMULATION_LABELS = {"grsn": "GRSN, this project's", "grsn-eq17": "GRSN, Eq. 17 cell (authors' rewrite)",
                      "grsn-first-release": "GRSN, first released cell", "gru": "GRU"}


def plot_formulations_accuracy(results, chance: float | None = 0.25,
                               title: str = "Cue recall: three GRSN formulations and a GRU") -> Figure:
    """Cue-recall test accuracy against the delay for this project's GRSN, the Eq. 17 cell, the first released
    cell and a GRU.

    Args:
        results: sweep rows (e.g. ``data/memory_task/results.csv`` with ``eq17.csv`` and ``first_release.csv``)
            with at least the
            columns ``core``, ``delay``, ``seed``, ``accuracy``, and rows of the three cores of
            :data:`FORMULATION_LABELS`; other cores are left out.
        chance: a dashed line at chance accuracy (None: none).
        title: the figure title.

    Each core keeps its course-wide colour; the legend says which GRSN each line is.
    """
    cores = list(FORMULATION_LABELS)
    rows = results[results["core"].isin(cores)]
    missing = [c for c in cores if c not in set(rows["core"])]
    if missing:
        raise ValueError(f"no rows for {missing}; present: {sorted(set(results['core']))}")
    fig = plot_accuracy_vs_delay(rows.drop(columns="label", errors="ignore"), cores=cores, chance=chance,
                                 title=title)
    ax = fig.axes[0]
    names = {core_label(core): label for core, label in FORMULATION_LABELS.items()}
    for line in ax.lines:
        if line.get_label() in names:
            line.set_label(names[line.get_label()])
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
