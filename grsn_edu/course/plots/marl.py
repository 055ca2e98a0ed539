"""Figures for notebooks 09 (value decomposition on matrix games) and 10 (teams of spiking agents: MAPPO, QMIX, VDN).

* :func:`plot_matrix_game_fits` shows a payoff table beside the joint values VDN and QMIX learn for it.
* :func:`plot_marl_curves` draws the saved greedy-evaluation curves, one panel per algorithm, seeds as bands,
  the scripted baselines as horizontal lines.
* :func:`plot_recipe_curves` draws the recipe experiment (``data/marl_recipe``, QMIX only, its ``mixer``
  column): the first recipe's curve against each variant that changed one of its settings.
* :func:`plot_team_frames`, :func:`team_episode_animation` and :func:`plot_team_trajectories` show a recorded
  team episode (:class:`grsn_edu.course.recordings.TeamEpisode`).
* :func:`plot_team_spikes` shows how many spikes each agent spends per decision, and one agent's raster.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (or an animation on one), with a
title, axes labelled with units and a legend where there is more than one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from grsn_edu.course.plots import core_color
from grsn_edu.course.plots.rl import SPIKE_COLOR, _figure, agent_label, seed_spread

__all__ = ["MIXER_LABELS", "ALGO_LABELS", "ALGO_ORDER", "BASELINE_LABELS", "BASELINE_STYLES", "RECIPE_CURVE_COLUMNS",
           "TEAM_RETURN_LABEL", "OBS_SEGMENTS", "plot_task_view", "plot_matrix_game_fits", "plot_marl_curves",
           "plot_recipe_curves", "plot_team_frames", "team_episode_animation", "plot_team_trajectories",
           "plot_team_spikes"]

MIXER_LABELS = {"vdn": "VDN (sum)", "qmix": "QMIX (monotonic mixer)"}
#: Panel titles of the multi-agent algorithms (the ``algo`` column of ``data/marl``).
ALGO_LABELS = {"mappo": "MAPPO (centralised critic)", **MIXER_LABELS}
#: The order in which the algorithms' panels appear (others after these, as they first appear).
ALGO_ORDER = ("mappo", "qmix", "vdn")
#: Legend labels of the baseline rows of ``data/marl/summary.csv`` (algo ``none``).
BASELINE_LABELS = {"random": "random actions", "formation": "landmark-blind formation",
                   "memoryless": "own-observation team, no memory", "memory": "own-observation team, memory",
                   "scripted": "full-state controller"}
#: Line styles of those baselines: each its own colour and dash, so that none is mistaken for another.
BASELINE_STYLES = {"random": {"color": core_color("random"), "ls": ":", "lw": 2.0},
                   "formation": {"color": "#8c564b", "ls": "-.", "lw": 1.6},
                   "memoryless": {"color": "#e377c2", "ls": (0, (3, 1, 1, 1, 1, 1)), "lw": 1.6},
                   "memory": {"color": "#17becf", "ls": (0, (5, 2)), "lw": 1.6},
                   "scripted": {"color": "k", "ls": "--", "lw": 1.2}}
TEAM_RETURN_LABEL = "team return\n(rewards summed over 3 agents and 25 steps)"
X_LABELS = {"episode": "training episodes (25 steps each)", "env_steps": "training experience (environment steps)"}
AGENT_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


#: The parts of an agent's 18-number observation in simple_spread (N = 3): name and slice.
OBS_SEGMENTS = [("own velocity", slice(0, 2)), ("own position", slice(2, 4)), ("landmarks (relative)", slice(4, 10)),
                ("other agents (relative)", slice(10, 14)), ("messages (unused)", slice(14, 18))]


# -- the tasks -----------------------------------------------------------------------------------------------------
def plot_task_view(frame: np.ndarray, observations: Mapping[str, np.ndarray], shrink: int = 4,
                   title: str = "What the world looks like, and what one agent observes") -> Figure:
    """A rendered frame beside observation vectors, one row each, split into their parts (:data:`OBS_SEGMENTS`).

    Args:
        frame: ``(height, width, 3)`` uint8 rendered frame.
        observations: ``{label: (18,) observation}``, e.g. agent 0's at steps 0 and 1 of each task.
        shrink: keep every ``shrink``-th pixel of the frame.
        title: the figure title.
    """
    rows = np.stack([np.asarray(o, dtype=float) for o in observations.values()])
    if rows.ndim != 2 or rows.shape[1] != OBS_SEGMENTS[-1][1].stop:
        raise ValueError(f"observations must be vectors of {OBS_SEGMENTS[-1][1].stop} numbers, got shape {rows.shape}")
    fig = _figure(12.0, 3.6)
    ax_f, ax_o = fig.subplots(1, 2, width_ratios=[1.0, 2.6])
    ax_f.imshow(frame[::shrink, ::shrink])
    ax_f.set_xticks([])
    ax_f.set_yticks([])
    ax_f.set_xlabel("blue: agents, black: landmarks", fontsize=8)
    ax_f.set_title("rendered frame (rgb_array)", fontsize=9)
    vmax = float(np.abs(rows).max()) or 1.0
    image = ax_o.imshow(rows, cmap="RdBu", vmin=-vmax, vmax=vmax, aspect="auto")
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            ax_o.text(j, i, f"{rows[i, j]:.2f}", ha="center", va="center", fontsize=6.5)
    for _, part in OBS_SEGMENTS[1:]:
        ax_o.axvline(part.start - 0.5, color="k", lw=1.5)
    ax_o.set_xticks([(p.start + p.stop - 1) / 2 for _, p in OBS_SEGMENTS], [n for n, _ in OBS_SEGMENTS], fontsize=8)
    ax_o.set_yticks(range(len(observations)), list(observations), fontsize=8)
    ax_o.set_xlabel("observation entry (positions in world units, velocities in world units per simulated second)")
    ax_o.set_title("observation vectors (zeros in the landmark part: hidden)", fontsize=9)
    fig.colorbar(image, ax=ax_o, label="value", shrink=0.8)
    fig.suptitle(title)
    return fig


# -- the matrix game ---------------------------------------------------------------------------------------------
def _table(ax, values: np.ndarray, title: str, row_q=None, col_q=None, mark=None, vmax: float = 1.0) -> None:
    A = values.shape[0]
    ax.imshow(values, cmap="RdBu", vmin=-vmax, vmax=vmax)
    for i in range(A):
        for j in range(A):
            ax.text(j, i, f"{values[i, j]:.1f}", ha="center", va="center", fontsize=9,
                    color="white" if abs(values[i, j]) > 0.6 * vmax else "black")
    if mark is not None:
        ax.add_patch(Rectangle((mark[1] - 0.5, mark[0] - 0.5), 1, 1, fill=False, edgecolor="k", lw=2.5))
    ax.set_xticks(range(A), [f"{j}" + (f"\nQ2={col_q[j]:.1f}" if col_q is not None else "") for j in range(A)],
                  fontsize=8)
    ax.set_yticks(range(A), [f"{i}" + (f" (Q1={row_q[i]:.1f})" if row_q is not None else "") for i in range(A)],
                  fontsize=8)
    ax.set_xlabel("agent 2's action")
    ax.set_ylabel("agent 1's action")
    ax.set_title(title, fontsize=9)


def plot_matrix_game_fits(fits: Sequence, title: str = "A cooperative matrix game and what each mix learns") -> Figure:
    """The true payoff table beside each fit's learned ``Q_tot``, values written in the cells.

    The tick labels of a fit carry each agent's learned utility Q_i of that action; the black box marks the
    joint action the agents take when each follows its own argmax of Q_i (decentralised greedy), and the titles
    say what that joint action pays.

    Args:
        fits: :class:`grsn_edu.course.matrix_games.GameFit` results on the same payoff table.
        title: the figure title.
    """
    if not fits:
        raise ValueError("give at least one GameFit")
    payoff = fits[0].payoff
    vmax = float(max(np.abs(payoff).max(), *(np.abs(f.q_tot).max() for f in fits)))
    fig = _figure(3.3 * (len(fits) + 1), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(fits) + 1))
    best = np.unravel_index(np.argmax(payoff), payoff.shape)
    _table(axes[0], payoff, f"true payoff (best: {payoff.max():.0f})", mark=best, vmax=vmax)
    for ax, fit in zip(axes[1:], fits):
        _table(ax, fit.q_tot, f"{MIXER_LABELS.get(fit.mixer, fit.mixer)}: learned $Q_{{tot}}$\n"
               f"greedy agents get {fit.payoff_of_greedy:.0f}, MSE {fit.loss:.2f}",
               row_q=fit.agent_qs[0], col_q=fit.agent_qs[1], mark=fit.decentralised_greedy, vmax=vmax)
    fig.suptitle(title + " (box: each agent's own argmax)")
    return fig


# -- learning curves ---------------------------------------------------------------------------------------------
def _baseline_lines(summary: pd.DataFrame | None, env_id: str, names: Sequence[str] | None) -> list[tuple]:
    """``[(names, value)]``: the baseline rows (algo ``none``) of ``env_id``, those within 0.05 of each other
    merged into one line (on simple_spread the observation-based teams and the full-state controller score
    alike)."""
    if summary is None:
        return []
    for col in ("env", "agent", "algo", "final_eval_return"):
        if col not in summary:
            raise ValueError(f"summary needs a {col!r} column (rows of data/marl/summary.csv); "
                             f"got {list(summary.columns)}")
    rows = summary[(summary["env"] == env_id) & (summary["algo"] == "none")]
    values = rows.groupby("agent", sort=False)["final_eval_return"].mean()
    order = [n for n in (names if names is not None else BASELINE_LABELS) if n in values.index]
    order += [n for n in values.index if n not in order and names is None]
    lines: list[tuple] = []
    for name in order:
        for k, (group, value) in enumerate(lines):
            if abs(value - values[name]) < 0.05:
                lines[k] = (group + (name,), value)
                break
        else:
            lines.append(((name,), float(values[name])))
    return lines


def plot_marl_curves(evals: pd.DataFrame, summary: pd.DataFrame | None, env_id: str, x: str = "episode",
                     agents: Sequence[str] | None = None, algos: Sequence[str] | None = None,
                     baselines: Sequence[str] | None = None, references: Mapping[str, float] | None = None,
                     title: str | None = None) -> Figure:
    """Greedy evaluation team return against training, one panel per algorithm: median over seeds, band min to max.

    Each agent has one legend entry (its seed count per panel is in the panel's title). The y-axis reaches down to
    the lowest baseline (random actions; without baselines, the lowest median): a run that collapsed below it is
    cut at the axis, and the panel says how low the lowest run went.

    Args:
        evals: rows of ``data/marl/eval_curves.csv``: ``env``, ``agent``, ``algo``, ``seed``, ``episode``,
            ``env_steps``, ``eval_return_mean``.
        summary: rows of ``data/marl/summary.csv`` (or any frame with its ``env``, ``agent``, ``algo`` and
            ``final_eval_return`` columns); its baseline rows of ``env_id`` (algo ``none``, named in
            :data:`BASELINE_LABELS`) are drawn as horizontal lines, each in its own style
            (:data:`BASELINE_STYLES`), baselines that score the same (within 0.05) as one line. None for no lines.
        env_id: which task to draw.
        x: ``"episode"`` or ``"env_steps"``, the horizontal axis.
        agents: which agents, in legend order (default: all present).
        algos: which algorithms, one panel each (default: those present, in :data:`ALGO_ORDER`).
        baselines: which baseline rows to draw (default: all of them).
        references: more horizontal lines, ``{label: team return}`` (e.g. a live run's final return).
        title: the figure title (default names the task).
    """
    if x not in X_LABELS:
        raise ValueError(f"x must be one of {list(X_LABELS)}, got {x!r}")
    for col in ("env", "agent", "algo", "seed", x, "eval_return_mean"):
        if col not in evals:
            raise ValueError(f"evals need a {col!r} column (rows of data/marl/eval_curves.csv); "
                             f"got {list(evals.columns)}")
    frame = evals[evals["env"] == env_id]
    if frame.empty:
        raise ValueError(f"no evaluation curves for {env_id!r}; tasks present: {sorted(set(evals['env']))}")
    present = [m for m in ALGO_ORDER if m in set(frame["algo"])] + \
        [m for m in dict.fromkeys(frame["algo"]) if m not in ALGO_ORDER]
    algos = [m for m in (algos or present) if m in present]
    if not algos:
        raise ValueError(f"none of the algorithms asked for is in the curves of {env_id!r}; present: {present}")
    order = list(agents) if agents is not None else \
        [a for a in ("mlp", "lif", "gru", "grsn") if a in set(frame["agent"])] + \
        [a for a in dict.fromkeys(frame["agent"]) if a not in ("mlp", "lif", "gru", "grsn")]
    lines = _baseline_lines(summary, env_id, baselines)
    # at most two panels a row, so that the figure stays readable on a page about 700 pixels wide
    ncols = min(2, len(algos))
    nrows = -(-len(algos) // ncols)
    fig = _figure(6.0 * ncols, 4.2 * nrows + 0.6)
    grid = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    axes, spare = grid.ravel()[:len(algos)], grid.ravel()[len(algos):]
    for ax, algo in zip(axes, algos):
        sub = frame[frame["algo"] == algo].rename(columns={x: "global_step"})
        band = seed_spread(sub[["env", "agent", "seed", "global_step", "eval_return_mean"]], "eval_return_mean")
        n_seeds = sub.groupby("agent")["seed"].nunique().to_dict()
        drawn = [a for a in order if a in n_seeds]
        for agent in drawn:
            line = band[band["agent"] == agent]
            color = core_color(agent)
            ax.plot(line["global_step"], line["median"], color=color, lw=1.8, marker="o", ms=3,
                    label=agent_label(agent))
            if n_seeds[agent] > 1:
                ax.fill_between(line["global_step"], line["min"], line["max"], color=color, alpha=0.15, lw=0)
        shown = band[band["agent"].isin(drawn)]
        # the lowest baseline (random actions) is as low as anyone needs to see; without baselines, the medians
        floor = min(value for _, value in lines) if lines else float(shown["median"].min())
        top = max([float(shown["max"].max())] + [value for _, value in lines])
        low = floor - 0.05 * (top - floor)
        if float(shown["min"].min()) < low:  # a collapsed run would stretch the axis for everyone else
            ax.set_ylim(low, top + 0.05 * (top - floor))
            worst = shown.loc[shown["min"].idxmin()]
            ax.annotate(f"lowest run: {worst['min']:.1f} ({agent_label(worst['agent'])}, band cut)",
                        xy=(0.99, 0.02), xycoords="axes fraction", ha="right", va="bottom", fontsize=7)
        seeds = ", ".join(f"{agent_label(a)} {n_seeds[a]}" for a in drawn)
        for names, value in lines:
            style = BASELINE_STYLES.get(names[0], {"color": "#555555", "ls": (0, (5, 1, 1, 1, 1, 1)), "lw": 1.2})
            ax.axhline(value, **style, label=f"{' = '.join(BASELINE_LABELS.get(n, n) for n in names)} ({value:.1f})")
        for k, (label, value) in enumerate((references or {}).items()):  # thin grey, unlike the baselines
            ax.axhline(value, color="#555555", ls=["-", (0, (1, 3)), (0, (6, 3))][k % 3], lw=1,
                       label=f"{label} ({value:.1f})")
        ax.set_xlabel(X_LABELS[x])
        ax.set_ylabel(TEAM_RETURN_LABEL if ax in grid[:, 0] else "")
        ax.yaxis.set_tick_params(labelleft=True)
        ax.set_title(f"{ALGO_LABELS.get(algo, algo)}: greedy evaluation\n(seeds: {seeds})", fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    for ax in axes[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if len(spare):  # the empty panel of an odd count holds the legend, off the data
        for ax in spare:
            ax.axis("off")
        spare[0].legend(list(seen.values()), list(seen), fontsize=8, loc="center", frameon=False)
    else:
        fig.legend(list(seen.values()), list(seen), fontsize=8, loc="outside lower center",
                   ncols=min(4, len(seen)))
    fig.suptitle(title or f"Learning on {env_id} (line: median over seeds, band: min to max; higher is better)")
    return fig


#: Columns :func:`plot_recipe_curves` needs (rows of ``data/marl_recipe/eval_curves.csv``).
RECIPE_CURVE_COLUMNS = ["variant", "env", "agent", "mixer", "seed", "episode", "eval_return_mean"]


def plot_recipe_curves(curves: pd.DataFrame, env_id: str, agent: str, mixer: str = "qmix",
                       reference: str = "reference", variants: Sequence[str] | None = None,
                       baselines: Mapping[str, float] | None = None, ncols: int = 3,
                       title: str | None = None) -> Figure:
    """A one-change-at-a-time experiment: the reference recipe's greedy-evaluation curve beside each variant's.

    One panel per variant (``variants``, or those present in the order they first appear), each drawing the
    reference in grey and the variant in the agent's colour, both against training episodes; the panel title gives
    both final returns. With several seeds a line is the median over seeds and a band spans the worst to the best
    seed. If
    ``curves`` holds only the reference, a single panel shows it alone.

    Args:
        curves: rows of ``data/marl_recipe/eval_curves.csv``: ``variant``, ``env``, ``agent``, ``mixer``,
            ``seed``, ``episode``, ``eval_return_mean`` (team return, summed over agents and steps).
        env_id, agent, mixer: which cell of the experiment to draw.
        reference: the name of the unchanged recipe among the variants.
        variants: which variants to draw, in panel order (default: all present but the reference).
        baselines: horizontal lines in every panel, ``{label: team return}`` (e.g. random actions).
        ncols: panels per row.
        title: the figure title (default names the cell).
    """
    missing = [c for c in RECIPE_CURVE_COLUMNS if c not in curves]
    if missing:
        raise ValueError(f"curves need columns {missing} (rows of data/marl_recipe/eval_curves.csv); "
                         f"got {list(curves.columns)}")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    frame = curves[(curves["env"] == env_id) & (curves["agent"] == agent) & (curves["mixer"] == mixer)]
    if frame.empty:
        cells = sorted(set(zip(curves["env"], curves["agent"], curves["mixer"])))
        raise ValueError(f"no curves for ({env_id!r}, {agent!r}, {mixer!r}); cells present: {cells}")
    present = list(dict.fromkeys(frame["variant"]))
    if reference not in present:
        raise ValueError(f"no {reference!r} curve for ({env_id!r}, {agent!r}, {mixer!r}); variants: {present}")
    if variants is not None:
        absent = [v for v in variants if v not in present]
        if absent:
            raise ValueError(f"no curves for variants {absent}; present: {present}")
    changed = [v for v in (variants if variants is not None else present) if v != reference] or [reference]
    nrows = -(-len(changed) // ncols)
    cols = min(ncols, len(changed))
    fig = _figure(max(3.6 * cols + 0.6, 7.0), 3.0 * nrows + 0.9)  # one panel: room for the titles
    axes = np.atleast_1d(fig.subplots(nrows, cols, sharex=True, sharey=True)).ravel()

    def draw(ax, variant, color, label, lw):
        rows = frame[frame["variant"] == variant]
        stats = rows.groupby("episode")["eval_return_mean"].agg(["median", "min", "max"]).reset_index()
        n = rows["seed"].nunique()
        ax.plot(stats["episode"], stats["median"], color=color, lw=lw, marker="o", ms=2.5,
                label=f"{label} ({n} seed{'s' if n != 1 else ''})")
        if n > 1:
            ax.fill_between(stats["episode"], stats["min"], stats["max"], color=color, alpha=0.15, lw=0)
        return float(rows.sort_values("episode").groupby("seed")["eval_return_mean"].last().median())

    for k, (ax, variant) in enumerate(zip(axes, changed)):
        ref_final = draw(ax, reference, "#888888", f"{reference} (unchanged recipe)", 1.6)
        if variant != reference:
            final = draw(ax, variant, core_color(agent), variant, 2.0)
            ax.set_title(f"{variant}: final {final:.1f}\n({reference}: final {ref_final:.1f})", fontsize=9)
        else:
            ax.set_title(f"{reference}: final {ref_final:.1f}", fontsize=9)
        for j, (label, value) in enumerate((baselines or {}).items()):
            ax.axhline(value, color=core_color("random") if j == 0 else "k", ls=[":", "--", "-."][j % 3], lw=1.5,
                       label=f"{label} ({value:.1f})")
        if k >= len(changed) - cols:
            ax.set_xlabel(X_LABELS["episode"])
        ax.legend(fontsize=7, loc="lower left")
        ax.grid(alpha=0.3)
    for ax in axes[len(changed):]:
        ax.set_visible(False)
    fig.supylabel(TEAM_RETURN_LABEL, fontsize=10)
    fig.suptitle(title or f"{agent_label(agent)} + {MIXER_LABELS.get(mixer, mixer)} on {env_id}: greedy evaluation, "
                 f"{reference} vs one change at a time (higher is better)", fontsize=11)
    return fig


# -- a recorded team episode -------------------------------------------------------------------------------------
def _check_frames(episode) -> None:
    if episode.frames is None:
        raise ValueError("the episode has no frames: record it with record_team_episode(..., render=True)")


def _frame_label(episode, i: int) -> str:
    t = int(episode.frame_steps[i])
    so_far = float(episode.rewards[:t].sum())
    return f"step {t}: team reward so far {so_far:.1f}"


def plot_team_frames(episode, n: int = 6, shrink: int = 4, title: str | None = None) -> Figure:
    """``n`` evenly spaced rendered frames of a team episode, each labelled with its step and the team reward
    collected so far. Blue discs are the agents, small black dots the landmarks.

    Args:
        episode: a :class:`grsn_edu.course.recordings.TeamEpisode` recorded with ``render``.
        n: how many frames.
        shrink: keep every ``shrink``-th pixel in each direction (4 turns 700 x 700 into 175 x 175).
        title: the figure title.
    """
    _check_frames(episode)
    idx = np.unique(np.linspace(0, len(episode.frames) - 1, n).round().astype(int))
    fig = _figure(2.2 * len(idx), 2.6)
    axes = np.atleast_1d(fig.subplots(1, len(idx)))
    for ax, i in zip(axes, idx):
        ax.imshow(episode.frames[i][::shrink, ::shrink])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(_frame_label(episode, i), fontsize=7)
    fig.suptitle(title or f"{episode.env_id}: one greedy episode, team return {episode.team_return:.1f} (summed over "
                 "agents and steps; blue: agents, black: landmarks; time runs left to right)", fontsize=10)
    return fig


def team_episode_animation(episode, shrink: int = 4, interval_ms: int = 200, title: str | None = None):
    """An animation of a team episode's rendered frames; show it with ``animation_gif`` (``plots.animation``).

    Args:
        episode: a :class:`grsn_edu.course.recordings.TeamEpisode` recorded with ``render``.
        shrink: keep every ``shrink``-th pixel in each direction; fewer pixels keep a notebook small.
        interval_ms: time between frames, milliseconds.
        title: the figure title.

    Returns:
        A ``matplotlib.animation.FuncAnimation``.
    """
    from matplotlib.animation import FuncAnimation

    _check_frames(episode)
    fig = _figure(3.2, 3.5)
    fig.set_dpi(72)  # the animation stores one PNG per frame: a small figure keeps the notebook small
    ax = fig.subplots()
    image = ax.imshow(episode.frames[0][::shrink, ::shrink], interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(_frame_label(episode, 0), fontsize=9)
    fig.suptitle(title or f"{episode.env_id}: team return {episode.team_return:.1f}\n(summed over agents and steps)\n"
                 "blue: agents, black: landmarks", fontsize=8)

    def draw(i):
        image.set_data(episode.frames[i][::shrink, ::shrink])
        ax.set_xlabel(_frame_label(episode, i), fontsize=9)
        return (image,)

    return FuncAnimation(fig, draw, frames=len(episode.frames), interval=interval_ms, blit=False)


def plot_team_trajectories(episode, title: str | None = None) -> Figure:
    """Each agent's path over a team episode (from the true state), with the landmarks, in world units.

    Args:
        episode: a :class:`grsn_edu.course.recordings.TeamEpisode`.
        title: the figure title.
    """
    fig = _figure(5.0, 4.6)
    ax = fig.subplots()
    for i in range(episode.agent_pos.shape[1]):
        path = episode.agent_pos[:, i]
        color = AGENT_COLORS[i % len(AGENT_COLORS)]
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.5, label=f"agent {i}")
        ax.plot(*path[0], "o", color=color, ms=6, mfc="white")
        ax.plot(*path[-1], "o", color=color, ms=9)
    ax.plot(episode.landmark_pos[:, 0], episode.landmark_pos[:, 1], "kx", ms=10, mew=2.5, label="landmarks")
    ax.plot([], [], "o", color="#555555", mfc="white", label="start")
    ax.plot([], [], "o", color="#555555", ms=9, label="end")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x position (world units)")
    ax.set_ylabel("y position (world units)")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{episode.env_id}: paths of one greedy episode ({episode.length} steps,\n"
                 f"team return {episode.team_return:.1f}, summed over agents and steps)", fontsize=10)
    return fig


def plot_team_spikes(episode, agent: int = 0, title: str | None = None) -> Figure:
    """Spikes per decision of every agent over an episode, and the spike raster of one agent.

    Args:
        episode: a :class:`grsn_edu.course.recordings.TeamEpisode` of a spiking team
            (``episode.spikes`` ``(T * S, N, H)``).
        agent: whose raster to draw.
        title: the figure title.
    """
    if episode.spikes is None:
        raise ValueError("the episode has no spikes: record a team with a spiking core (lif, grsn)")
    spikes = episode.spikes
    T, S = episode.length, episode.substeps
    N, H = spikes.shape[1], spikes.shape[2]
    if not 0 <= agent < N:
        raise ValueError(f"agent must be in 0..{N - 1}, got {agent}")
    per_step = spikes.reshape(T, S, N, H).sum(axis=(1, 3))  # (T, N)
    fig = _figure(9.0, 5.6)
    ax_n, ax_r = fig.subplots(2, 1, sharex=True, height_ratios=[1.0, 1.6])
    for i in range(N):
        ax_n.plot(np.arange(T), per_step[:, i], "-o", ms=3, color=AGENT_COLORS[i % len(AGENT_COLORS)],
                  label=f"agent {i}: {per_step[:, i].mean():.1f} per decision on average")
    ax_n.set_ylabel("spikes per decision\n(all units of one agent)")
    ax_n.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=N, frameon=False)
    ax_n.grid(alpha=0.3)
    own = spikes[:, agent]  # (T*S, H)
    order = np.argsort(-own.mean(0))
    ts, units = np.nonzero(own[:, order])
    ax_r.scatter(ts / S, units, marker="|", s=40, lw=1.0, color=SPIKE_COLOR)
    ax_r.set_ylim(H - 0.5, -0.5)
    ax_r.set_ylabel(f"unit of agent {agent}\n(most active at the top)")
    ax_r.set_xlabel("time (environment steps = decisions)")
    silent = int((own.sum(0) == 0).sum())
    ax_r.set_title(f"spike raster of agent {agent}: {H} units, {silent} silent all episode, firing rate "
                   f"{own.mean():.3f} spikes per unit per update", fontsize=9)
    ax_r.set_xlim(-0.5, T - 0.5)
    fig.suptitle(title or f"{episode.env_id}: spikes of a greedy episode (team return {episode.team_return:.1f}, "
                 "summed over agents and steps)")
    return fig
