"""Figures for notebooks 11 and 12 (energy per decision, and when "about 50 %" holds).

* :func:`plot_energy_breakdown` stacks each agent's energy per decision by layer, one panel per task.
* :func:`plot_return_vs_energy` sets each agent's return beside its energy per decision (the trade-off).
* :func:`plot_sweep` draws energies or energy ratios against a swept quantity (hidden size, firing rate),
  with an optional reference line (e.g. the paper's 50 %).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, with a title, axes labelled
with units and a legend where there is more than one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from grsn_edu.course.plots import core_color
from grsn_edu.course.plots.rl import agent_label

__all__ = ["LAYER_COLORS", "plot_energy_breakdown", "plot_return_vs_energy", "plot_sweep"]

#: One colour per layer row of :mod:`grsn_edu.snn.energy` reports, the same in every figure.
LAYER_COLORS = {
    "normaliser": "#c7c7c7",
    "encoder": "#1f77b4",
    "input weights": "#aec7e8",
    "gates": "#2ca02c",
    "gates (input)": "#98df8a",
    "gates (spikes)": "#2ca02c",
    "recurrent weights": "#d62728",
    "recurrent": "#d62728",
    "gating": "#9467bd",
    "membrane": "#ff7f0e",
    "readout": "#8c564b",
}
_CHECK = ("task", "agent", "algo", "layer", "energy_pj")


def _panel_grid(n: int, width: float, height: float, sharey: bool = False):
    """A figure with n panels, at most 3 per row; the unused cells of the last row are hidden."""
    cols, rows = min(n, 3), -(-n // 3)
    fig = Figure(figsize=(width * cols + 1.8, height * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=sharey, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _panel_label(task: str, algo: str) -> str:
    """``"CartPole-P (PPO)"``, ``"simple_spread (MAPPO)"``: the task and the algorithm that trained its agents."""
    if algo in ("none", "", None) or (isinstance(algo, float) and np.isnan(algo)):
        return task
    return f"{task} ({algo.upper()})"


def plot_energy_breakdown(per_layer: pd.DataFrame, agents: Sequence[str] | None = None, share: bool = False,
                          title: str = "Energy per decision of the trained agents, by layer") -> Figure:
    """Stacked bars: each agent's energy per decision split by layer, one panel per (task, algo).

    Args:
        per_layer: rows ``task, agent, algo, layer, energy_pj`` per decision (``data/energy/per_layer.csv``).
        agents: which agents to show, in this order (default: all, in the file's order).
        share: False for energy in nJ (log scale, totals printed on the bars); True for each layer's share of
            its agent's total (percent), which makes the composition of cheap agents visible.
        title: the figure title.
    """
    missing = [c for c in _CHECK if c not in per_layer.columns]
    if missing:
        raise ValueError(f"per_layer lacks columns {missing}; use data/energy/per_layer.csv")
    panels = list(dict.fromkeys(zip(per_layer["task"], per_layer["algo"])))
    if not panels:
        raise ValueError("per_layer has no rows: run scripts/energy_table.py first")
    present = list(dict.fromkeys(per_layer["layer"]))
    layers = [layer for layer in LAYER_COLORS if layer in present] + [l for l in present if l not in LAYER_COLORS]
    fig, axes = _panel_grid(len(panels), 3.2, 4.2 if share else 4.4, sharey=True)
    for ax, (task, algo) in zip(axes, panels):
        rows = per_layer[(per_layer["task"] == task) & (per_layer["algo"] == algo)]
        names = [a for a in (agents or dict.fromkeys(rows["agent"])) if a in set(rows["agent"])]
        totals = np.array([rows.loc[rows["agent"] == a, "energy_pj"].sum() for a in names]) / 1000.0
        bottom = np.zeros(len(names))
        for layer in layers:
            heights = np.array([rows.loc[(rows["agent"] == a) & (rows["layer"] == layer), "energy_pj"].sum()
                                for a in names]) / 1000.0
            if share:
                heights = 100.0 * heights / np.where(totals > 0, totals, 1.0)
            if heights.any():
                ax.bar(range(len(names)), heights, bottom=bottom, color=LAYER_COLORS.get(layer, "#333333"),
                       label=layer, edgecolor="white", linewidth=0.5)
            bottom += heights
        if not share:
            for x, total in enumerate(totals):
                ax.text(x, total * 1.08, f"{total:.1f}", ha="center", va="bottom", fontsize=8)
            ax.set_yscale("log")
        ax.set_xticks(range(len(names)), [agent_label(a) for a in names], rotation=35, ha="right", fontsize=8)
        ax.set_title(_panel_label(task, algo), fontsize=10)
        ax.set_xlabel("agent")
    for ax in axes[::3]:
        ax.set_ylabel("share of the energy per decision (%)" if share else
                      "energy per decision (nJ, 45 nm estimate, log scale)")
    if not share:
        top = per_layer.groupby(["task", "algo", "agent"])["energy_pj"].sum().max() / 1000.0
        low = per_layer.groupby(["task", "algo", "agent"])["energy_pj"].sum().min() / 1000.0
        axes[0].set_ylim(bottom=low / 5, top=top * 3)
    handles = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), title="layer", fontsize=8, title_fontsize=8,
               loc="outside right center")
    fig.suptitle(title)
    return fig


def plot_return_vs_energy(per_agent: pd.DataFrame, title: str = "What each agent reaches, and what it pays") -> Figure:
    """The trade-off: greedy return against energy per decision, one panel per (task, algo), one point per agent.

    Args:
        per_agent: rows ``task, agent, algo, energy_pj, return_mean`` (``data/energy/per_agent.csv``); an
            optional ``return_std`` draws a vertical bar (spread over the evaluation episodes).
        title: the figure title.
    """
    for c in ("task", "agent", "algo", "energy_pj", "return_mean"):
        if c not in per_agent.columns:
            raise ValueError(f"per_agent lacks column {c!r}; use data/energy/per_agent.csv")
    panels = list(dict.fromkeys(zip(per_agent["task"], per_agent["algo"])))
    if not panels:
        raise ValueError("per_agent has no rows: run scripts/energy_table.py first")
    fig, axes = _panel_grid(len(panels), 3.4, 3.8)
    energy_nj = per_agent["energy_pj"] / 1000.0
    xlim = (float(energy_nj.min()) / 1.6, float(energy_nj.max()) * 1.6)  # one energy axis for every panel
    seen = {}
    for ax, (task, algo) in zip(axes, panels):
        rows = per_agent[(per_agent["task"] == task) & (per_agent["algo"] == algo)]
        for _, r in rows.iterrows():
            err = r["return_std"] if "return_std" in rows.columns else None
            h = ax.errorbar(r["energy_pj"] / 1000.0, r["return_mean"], yerr=err, fmt="o", ms=7, capsize=3,
                            color=core_color(r["agent"]), label=agent_label(r["agent"]))
            seen.setdefault(agent_label(r["agent"]), h)
        ax.set_xscale("log")
        ax.set_xlim(*xlim)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("energy per decision (nJ, log scale)")
        ax.set_title(_panel_label(task, algo), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[::3]:
        ax.set_ylabel("greedy return (team return for MARL);\nmean and std over the episodes")
    fig.legend(list(seen.values()), list(seen), title="agent", fontsize=8, title_fontsize=8, loc="outside right center")
    fig.suptitle(title)
    return fig


def plot_sweep(x: Sequence[float], curves: Mapping[str, Sequence[float]], xlabel: str, ylabel: str, title: str,
               reference: float | None = None, reference_label: str = "", logx: bool = False, logy: bool = False,
               markers: Mapping[str, tuple[float, float]] | None = None) -> Figure:
    """Lines of a swept quantity (energy or energy ratio against hidden size or firing rate).

    Args:
        x: ``(N,)`` the swept values.
        curves: ``{label: (N,) values}``, one line each.
        xlabel, ylabel, title: axis labels (with units) and title.
        reference: a horizontal line (e.g. 0.5 for "half of GRU's energy"), labelled ``reference_label``.
        logx, logy: logarithmic axes.
        markers: ``{label: (x, y)}`` single measured points drawn as stars (e.g. a trained agent's rate).
    """
    x = np.asarray(x, dtype=float)
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.subplots()
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        if values.shape != x.shape:
            raise ValueError(f"curve {label!r} has {values.shape} values for {x.shape} x values")
        ax.plot(x, values, marker="o", ms=3, color=f"C{i}", label=label)
    for j, (label, (mx, my)) in enumerate((markers or {}).items()):
        ax.plot([mx], [my], marker="*", ms=14, linestyle="none", color=f"C{len(curves) + j}", label=label,
                markeredgecolor="black")
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=1, label=reference_label or f"{reference:g}")
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig
