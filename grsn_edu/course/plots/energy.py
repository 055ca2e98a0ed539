"""Figures for notebooks 11 and 12 (energy per decision, and when "about 50 %" holds).

* :func:`plot_energy_breakdown` stacks each agent's energy per decision by layer, one panel per task, on a linear
  axis shared by every panel (bars far above the rest are cut, their totals printed).
* :func:`plot_return_vs_energy` sets each agent's return beside its energy per decision (the trade-off), with the
  scripted teams' levels on the multi-agent panels.
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
from matplotlib.ticker import NullFormatter, ScalarFormatter

from grsn_edu.course.plots import core_color
from grsn_edu.course.plots.rl import agent_label
from grsn_edu.envs.cartpole import EPISODE_STEPS, POMDP_IDS

__all__ = ["BASELINE_TEAMS", "LAYER_COLORS", "plot_energy_breakdown", "plot_return_vs_energy", "plot_sweep"]

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

#: The scripted teams of ``data/marl/summary.csv`` (algo ``none``) drawn as levels on the multi-agent panels of
#: :func:`plot_return_vs_energy`: their label and line style.
BASELINE_TEAMS = {
    "random": ("random team (the floor)", {"color": "#7f7f7f", "linestyle": "--"}),
    "scripted": ("scripted team, full state (a ceiling)", {"color": "black", "linestyle": ":"}),
}


def _cut_level(totals: Sequence[float], factor: float = 3.0) -> float | None:
    """Where to cut a bar axis so that a few bars far above the rest do not flatten them: the largest total below
    the first gap of more than ``factor`` between neighbouring totals (from the top, with fewer bars above the gap
    than below it); None when there is no such gap."""
    values = np.sort(np.unique(np.asarray(totals, dtype=float)))[::-1]
    for i in range(len(values) - 1):
        if i + 1 > (len(values) - i - 1):
            break
        if values[i] > factor * values[i + 1]:
            return float(values[i + 1])
    return None


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

    The energy axis is linear (stacked heights on a logarithmic axis misread: a segment's height there depends on
    what lies below it) and shared by every panel, so bars compare across panels. When a few bars stand far above
    the rest (a GRU pays ten times what the others do), the axis is cut above the others so that their layers stay
    readable; a cut bar carries its total and an arrow, and a note under the figure says so.

    Args:
        per_layer: rows ``task, agent, algo, layer, energy_pj`` per decision (``data/energy/per_layer.csv``).
        agents: which agents to show, in this order (default: all, in the file's order).
        share: False for energy in nJ (totals printed on the bars); True for each layer's share of its agent's
            total (percent), which makes the composition of every agent visible.
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
    all_totals = per_layer.groupby(["task", "algo", "agent"])["energy_pj"].sum() / 1000.0
    shown = all_totals if agents is None else all_totals[all_totals.index.get_level_values("agent").isin(agents)]
    cut = None if share else _cut_level(shown.to_numpy())
    top = 105.0 if share else 1.2 * (cut if cut is not None else float(shown.max()))
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
                if total > top:  # cut at the top of the axis: say so on the bar
                    ax.annotate(f"{total:.1f}", xy=(x, top), xytext=(x, top * 0.86), ha="center", va="center",
                                fontsize=8, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "black"},
                                arrowprops={"arrowstyle": "->", "lw": 0.8})
                else:
                    ax.text(x, total + top * 0.01, f"{total:.1f}", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, top)
        ax.set_xticks(range(len(names)), [agent_label(a) for a in names], rotation=35, ha="right", fontsize=8)
        ax.set_title(_panel_label(task, algo), fontsize=10)
        ax.set_xlabel("agent")
    for ax in axes[::3]:
        ax.set_ylabel("share of the energy per decision (%)" if share else
                      "energy per decision (nJ, 45 nm estimate)")
    handles = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), title="layer", fontsize=8, title_fontsize=8,
               loc="outside right center")
    if not share and shown.max() > top:
        title += f"\n(bars taller than the axis, {top:.0f} nJ, are cut at its top; the boxed number is their total)"
    fig.suptitle(title)
    return fig


def _return_bounds(task: str) -> tuple[float, float]:
    """The lowest and highest return an episode of ``task`` can reach (CartPole: 0 to its episode length);
    unbounded for other tasks."""
    if task in POMDP_IDS:
        return 0.0, float(EPISODE_STEPS)
    return -np.inf, np.inf


def _scale_group(algo: str) -> str:
    """Which panels share a return axis: the single-agent PPO tasks, or the teams (MAPPO, QMIX, VDN)."""
    return "single agent" if algo == "ppo" else "team"


def _team_levels(baselines: pd.DataFrame | None, task: str) -> dict[str, float]:
    """``{agent: return}`` of the scripted teams of :data:`BASELINE_TEAMS` on ``task`` (rows with algo ``none``)."""
    if baselines is None:
        return {}
    rows = baselines[(baselines["env"] == task) & (baselines["algo"] == "none")]
    return {a: float(rows.loc[rows["agent"] == a, "final_eval_return"].mean())
            for a in BASELINE_TEAMS if (rows["agent"] == a).any()}


def plot_return_vs_energy(per_agent: pd.DataFrame, baselines: pd.DataFrame | None = None,
                          title: str = "What each agent reaches, and what it pays") -> Figure:
    """The trade-off: greedy return against energy per decision, one panel per (task, algo), one point per agent.

    Panels on the same return scale share one y-range: the single-agent tasks (PPO on CartPole, return 0 to 500)
    one, the teams (MAPPO, QMIX, VDN) another. A spread bar never passes a return the task cannot reach (CartPole:
    500 steps), so it is cut there. On the team panels, the scripted teams of ``baselines`` are drawn as
    horizontal lines, and the y-range spans them; a point far outside it (more than the floor-to-ceiling distance
    beyond the floor or the ceiling) is drawn at the edge as a triangle with its return written beside it.

    Args:
        per_agent: rows ``task, agent, algo, energy_pj, return_mean`` (``data/energy/per_agent.csv``); an
            optional ``return_std`` draws a vertical bar (spread over the evaluation episodes).
        baselines: rows ``env, agent, algo, final_eval_return`` (``data/marl/summary.csv``); those with algo
            ``none`` and an agent of :data:`BASELINE_TEAMS` (``random``, ``scripted``) are drawn.
        title: the figure title.
    """
    for c in ("task", "agent", "algo", "energy_pj", "return_mean"):
        if c not in per_agent.columns:
            raise ValueError(f"per_agent lacks column {c!r}; use data/energy/per_agent.csv")
    if baselines is not None:
        lacking = [c for c in ("env", "agent", "algo", "final_eval_return") if c not in baselines.columns]
        if lacking:
            raise ValueError(f"baselines lacks columns {lacking}; use data/marl/summary.csv")
    panels = list(dict.fromkeys(zip(per_agent["task"], per_agent["algo"])))
    if not panels:
        raise ValueError("per_agent has no rows: run scripts/energy_table.py first")
    fig, axes = _panel_grid(len(panels), 3.4, 3.8)
    energy_nj = per_agent["energy_pj"] / 1000.0
    xlim = (float(energy_nj.min()) / 1.6, float(energy_nj.max()) * 1.6)  # one energy axis for every panel
    std = per_agent["return_std"] if "return_std" in per_agent.columns else pd.Series(0.0, index=per_agent.index)
    group = np.array([_scale_group(a) for a in per_agent["algo"]])
    ylims = {}
    for g in dict.fromkeys(group):
        rows, spread = per_agent[group == g], std[group == g]
        levels = [v for task in dict.fromkeys(rows["task"]) for v in _team_levels(baselines, task).values()]
        bounds = np.array([_return_bounds(t) for t in rows["task"]])
        lo = np.maximum(rows["return_mean"] - spread, bounds[:, 0])
        hi = np.minimum(rows["return_mean"] + spread, bounds[:, 1])
        if levels:  # keep the scale of the baselines; points far outside it are drawn at the edge
            floor, ceiling = min(levels), max(levels)
            span = ceiling - floor or 1.0
            inside = rows["return_mean"].between(floor - span, ceiling + span)
            lo, hi = lo[inside], hi[inside]
            low = min(floor, float(np.min(lo.to_numpy(), initial=floor)))
            high = max(ceiling, float(np.max(hi.to_numpy(), initial=ceiling)))
        else:
            low, high = float(lo.min()), float(hi.max())
            finite = np.isfinite(bounds).all(axis=1)
            if finite.all():  # a bounded task: show its whole range
                low, high = min(low, float(bounds[:, 0].min())), max(high, float(bounds[:, 1].max()))
        pad = 0.05 * (high - low or 1.0)
        ylims[g] = (low - pad, high + pad)
    seen = {}
    for ax, (task, algo) in zip(axes, panels):
        rows = per_agent[(per_agent["task"] == task) & (per_agent["algo"] == algo)]
        ymin, ymax = ylims[_scale_group(algo)]
        low_bound, high_bound = _return_bounds(task)
        for i, r in rows.iterrows():
            x, y, s, color = r["energy_pj"] / 1000.0, r["return_mean"], float(std[i]), core_color(r["agent"])
            if y < ymin or y > ymax:  # off the shared range: a triangle at the edge, the return written beside it
                edge = ymin if y < ymin else ymax
                h = ax.plot([x], [edge], marker="v" if y < ymin else "^", ms=9, color=color, linestyle="none",
                            clip_on=False, label=agent_label(r["agent"]))[0]
                ax.annotate(f"{y:.1f}\n(off the axis)", xy=(x, edge), xytext=(-6, 10 if y < ymin else -10),
                            textcoords="offset points", ha="right", va="center", fontsize=7, color=color)
            else:
                err = [[y - max(y - s, low_bound)], [min(y + s, high_bound) - y]]
                h = ax.errorbar(x, y, yerr=err, fmt="o", ms=7, capsize=3, color=color, label=agent_label(r["agent"]))
            seen.setdefault(agent_label(r["agent"]), h)
        for agent, value in _team_levels(baselines, task).items():
            label, style = BASELINE_TEAMS[agent]
            seen.setdefault(label, ax.axhline(value, linewidth=1.2, label=label, **style))
        ax.set_xscale("log")
        ax.set_xlim(*xlim)
        ax.set_ylim(ymin, ymax)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("energy per decision (nJ, log scale)")
        ax.set_title(_panel_label(task, algo), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[::3]:
        ax.set_ylabel("greedy return (team return for the teams);\nmean and std over the evaluation episodes")
    if any(np.isfinite(_return_bounds(t)).any() for t, _ in panels):
        title += f"\n(a spread bar is cut where a return ends: {EPISODE_STEPS} on CartPole, its longest episode)"
    fig.legend(list(seen.values()), list(seen), title="agent or team", fontsize=8, title_fontsize=8,
               loc="outside right center")
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
        ax.xaxis.set_major_formatter(ScalarFormatter())  # 2, 4, 8 rather than 2^1, 2^2, 2^3
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) + len(markers or {}) + (reference is not None) > 4:  # a long legend goes beside the axes
        fig.set_size_inches(9.0, 4.2)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    else:
        ax.legend(fontsize=8, loc="best")
    return fig
