"""Figures for the reinforcement-learning notebooks: 05 (the primer), 06 (the temporal alignment paradigm), 07
(recurrent PPO) and 08 (POMDP CartPole).

* :func:`plot_time_axes` draws the two clocks of a spiking agent: environment steps and spiking updates.
* :func:`plot_decision_costs` compares energy and wall time per decision.
* :func:`plot_output_dependence` shows how long a core's output still depends on an early input.
* :func:`seed_spread` and :func:`plot_learning_curves` turn the saved curves of several seeds into
  learning curves: the median, with bars from the lowest to the highest seed.
* :func:`plot_state_reconstruction` shows what CartPole-P and CartPole-V hide and how history recovers it.
* :func:`plot_episode_internals` lays a recorded episode's spikes, membranes and gates beside the pole angle.
* :func:`episode_animation` and :func:`plot_frame_strip` show rendered frames of an episode.
* :func:`plot_episode_returns`, :func:`plot_discount_weights` and :func:`plot_run_against_seeds` draw the
  reinforcement-learning primer's returns, discounts and one live run over the saved runs of several seeds.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (or a
``matplotlib.animation.Animation`` on such a figure), with a title, axes labelled with units and a legend
where there is more than one line.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from grsn_edu.course.plots import core_color
from grsn_edu.envs.cartpole import EPISODE_STEPS
from grsn_edu.experiments.aggregate import TARGET_RETURN

__all__ = [
    "AGENT_LABELS",
    "agent_label",
    "plot_time_axes",
    "plot_decision_costs",
    "plot_output_dependence",
    "seed_spread",
    "plot_learning_curves",
    "plot_state_reconstruction",
    "plot_episode_internals",
    "episode_animation",
    "plot_frame_strip",
    "plot_episode_returns",
    "plot_discount_weights",
    "plot_run_against_seeds",
]

#: Legend labels of the agents of the CartPole grid (:data:`grsn_edu.experiments.grids.AGENTS`).
AGENT_LABELS = {
    "mlp": "MLP (no memory)",
    "gru": "GRU",
    "lif": "LIF",
    "grsn": "GRSN (TAP)",
    "grsn-notap": "GRSN non-TAP (4 sub-steps)",
    "grsn-eq17": "GRSN, Eq. 17 cell",
    "grsn-first-release": "GRSN, first released cell",
}

#: CartPole ends an episode when the pole leans more than 12 degrees.
ANGLE_LIMIT_DEG = 12.0
ENV_STEP_LABEL = "time (environment steps)"
TRAIN_STEP_LABEL = "training experience (environment steps)"
RETURN_LABEL = "return (reward per episode = steps balanced)"
SPIKE_COLOR = "#000000"
PUSH_COLORS = {0: "#444444", 1: "#444444"}  # push left, push right


def agent_label(name: str) -> str:
    """A readable legend label for an agent name (the name itself if unknown)."""
    return AGENT_LABELS.get(name, name)


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


# -- 04: two clocks ----------------------------------------------------------------------------------------------
def plot_time_axes(substeps: int = 4, env_steps: int = 4, schemes: Sequence[tuple[str, int, bool]] | None = None,
                   title: str = "Two clocks: environment steps and spiking updates") -> Figure:
    """The time axes of a spiking agent: one row per scheme, environment steps below, spiking updates above.

    Each row shares the horizontal axis in environment steps (bottom); its top axis counts the spiking updates
    (membrane steps). Grey boxes are environment steps (an observation arrives, an action leaves); dots are
    spiking updates; arrows between dots mean the neuron state is carried to the next update; a red bar means
    it is reset to zero.

    Args:
        substeps: S of the non-TAP rows (used when ``schemes`` is None).
        env_steps: how many environment steps to draw.
        schemes: rows as ``(label, S, reset_each_step)``; default TAP (S=1) and non-TAP with S sub-steps,
            state carried.
        title: the figure title.
    """
    if schemes is None:
        schemes = [("TAP: one spiking update per environment step", 1, False),
                   (f"non-TAP: {substeps} spiking updates per environment step", substeps, False)]
    fig = _figure(10, 2.3 * len(schemes) + 0.9)
    axes = np.atleast_1d(fig.subplots(len(schemes), 1, sharex=True))
    color = core_color("grsn")
    for ax, (label, S, reset) in zip(axes, schemes):
        ax.set_xlim(0, env_steps)
        ax.set_ylim(-0.45, 1.45)
        centers = np.array([t + (k + 0.5) / S for t in range(env_steps) for k in range(S)])
        for t in range(env_steps):
            ax.add_patch(Rectangle((t + 0.04, 0.85), 0.92, 0.45, facecolor="#e8e8e8", edgecolor="#888888"))
            ax.text(t + 0.5, 1.075, f"$o_{t}$ in, $a_{t}$ out", ha="center", va="center", fontsize=8)
            # the observation drives every sub-step of its environment step (held for S sub-steps); the
            # action reads the output of every sub-step (their mean, a rate code, when S > 1)
            for k in range(S):
                x = t + (k + 0.5) / S
                ax.add_patch(FancyArrowPatch((t + 0.15, 0.85), (x, 0.1), arrowstyle="-|>", mutation_scale=7,
                                             color="#1f77b4", lw=0.9, alpha=0.8))
                ax.add_patch(FancyArrowPatch((x, 0.1), (t + 0.85, 0.85), arrowstyle="-|>", mutation_scale=7,
                                             color="#d62728", lw=0.9, alpha=0.8))
        ax.scatter(centers, np.zeros_like(centers), s=60 if S < 8 else 25, color=color, zorder=3)
        for a, b in zip(centers[:-1], centers[1:]):
            crosses = int(a) != int(b)
            if crosses and reset:
                ax.plot([int(b)] * 2, [-0.25, 0.25], color="#d62728", lw=2.5)
                continue
            ax.add_patch(FancyArrowPatch((a, 0), (b, 0), arrowstyle="-|>", mutation_scale=8, color="#555555",
                                         lw=1, shrinkA=5, shrinkB=5))
        ax.set_yticks([0, 1.075], ["spiking\nupdates", "environment"])
        ax.set_title(f"{label}" + (", state reset every step" if reset else ", state carried"), fontsize=10)
        top = ax.secondary_xaxis("top", functions=(lambda x, S=S: x * S - 0.5, lambda u, S=S: (u + 0.5) / S))
        top.set_xticks(range(env_steps * S))
        top.tick_params(labelsize=7 if S * env_steps > 20 else 8)
        top.set_xlabel("spiking update (membrane step)", fontsize=8)
        for side in ("left", "right"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xticks([t + 0.5 for t in range(env_steps)], [str(t) for t in range(env_steps)])
    axes[-1].set_xlabel(ENV_STEP_LABEL)
    handles = [Patch(facecolor="#e8e8e8", edgecolor="#888888", label="environment step"),
               Line2D([], [], marker="o", ls="", color=color, label="spiking update"),
               Line2D([], [], color="#555555", marker=">", label="state carried"),
               Line2D([], [], color="#1f77b4", label="observation in"),
               Line2D([], [], color="#d62728", label="action out")]
    if any(reset for _, _, reset in schemes):
        handles.append(Line2D([], [], color="#d62728", lw=2.5, label="state reset"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def plot_decision_costs(reports: Mapping[str, object], wall_times_us: Mapping[str, Sequence[float]],
                        title: str = "What one decision costs") -> Figure:
    """Energy per decision (stacked by layer) and measured wall time per decision, one bar per core setting.

    Args:
        reports: ``{label: EnergyReport}`` (:func:`grsn_edu.snn.energy.count_core_ops`), per decision.
        wall_times_us: ``{label: repeated measurements of one decision, microseconds}``; the bar is the
            median, the whisker the 25th to 75th percentile.
        title: the figure title.
    """
    labels = list(reports)
    fig = _figure(10, 4.0)
    ax_e, ax_t = fig.subplots(1, 2)
    layers = list(dict.fromkeys(layer for r in reports.values() for layer in r.by_layer()))
    bottom = np.zeros(len(labels))
    for i, layer in enumerate(layers):
        heights = np.array([reports[lab].by_layer().get(layer, 0.0) for lab in labels]) / 1000.0
        ax_e.bar(labels, heights, bottom=bottom, color=f"C{i}", label=layer)
        bottom += heights
    for x, lab in enumerate(labels):
        r = reports[lab]
        ax_e.text(x, bottom[x], f"{r.total_mac:,.0f} MAC\n{r.total_ac:,.0f} AC", ha="center", va="bottom", fontsize=8)
    ax_e.set_ylim(0, bottom.max() * 1.25)
    ax_e.set_ylabel("energy per decision (nJ, 45 nm estimate)")
    ax_e.set_title("operations counted on a real forward pass", fontsize=10)
    ax_e.legend(fontsize=8, title="layer", title_fontsize=8, loc="upper left")
    med = [float(np.median(wall_times_us[lab])) for lab in labels]
    lo = [m - float(np.percentile(wall_times_us[lab], 25)) for m, lab in zip(med, labels)]
    hi = [float(np.percentile(wall_times_us[lab], 75)) - m for m, lab in zip(med, labels)]
    ax_t.bar(labels, med, yerr=[lo, hi], capsize=4, color="#888888", label="median (whisker: 25th-75th pct)")
    for x, m in enumerate(med):
        ax_t.text(x, m / 2, f"{m:,.0f} µs", ha="center", va="center", fontsize=8, color="white", fontweight="bold")
    ax_t.set_ylabel("wall time per decision (µs, 1 CPU thread)")
    ax_t.set_title("measured wall time of one core call (T = 1)", fontsize=10)
    ax_t.legend(fontsize=8, loc="upper left")
    ax_t.set_ylim(0, max(m + h for m, h in zip(med, hi)) * 1.25)
    for ax in (ax_e, ax_t):
        ax.set_xlabel("core setting")
    fig.suptitle(title)
    return fig


def plot_output_dependence(differences: Mapping[str, Sequence[float]], changed_step: int = 0,
                           title: str = "How long does an early input still change the output?") -> Figure:
    """Mean absolute change of a core's output at each environment step after one early input was changed.

    Args:
        differences: ``{label: (T,) mean |output(a) - output(b)|}`` for two input sequences that differ only at
            environment step ``changed_step``.
        changed_step: the step whose input differs, marked by a dotted line.
        title: the figure title.
    """
    fig = _figure(8, 3.8)
    ax = fig.subplots()
    styles = ["-o", "--s", ":^", "-.d"]
    for i, (label, diff) in enumerate(differences.items()):
        diff = np.asarray(diff, dtype=float)
        ax.plot(np.arange(len(diff)), diff, styles[i % len(styles)], ms=4, lw=1.5, label=label)
    ax.axvline(changed_step, color="k", ls=":", lw=1, label=f"the input differs only at step {changed_step}")
    ax.set_xlabel(ENV_STEP_LABEL)
    ax.set_ylabel("mean |change of output| (a.u.)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


# -- learning curves ---------------------------------------------------------------------------------------------
def seed_spread(curves: pd.DataFrame, value: str, grid: int | Sequence[float] | None = None) -> pd.DataFrame:
    """Median, minimum and maximum over seeds of a learning curve, per agent (and env), on a common step grid.

    Each seed's curve is read as a step function: at grid step g it holds its last value logged at or before g
    (training episodes end at different steps in different seeds). Greedy evaluations happen at the same steps
    in every seed, so for them the default grid is exactly those steps.

    Args:
        curves: rows of ``data/cartpole/eval_curves.csv`` or ``train_curves.csv``: columns ``agent``, ``seed``,
            ``global_step``, ``value`` (and optionally ``env``).
        value: the column to summarise, e.g. ``"eval_return_mean"`` or ``"return_ma20"``.
        grid: the steps to evaluate at; an int n for n evenly spaced steps up to the largest step; None for
            the logged steps themselves when there are at most 200 distinct ones, else 100 evenly spaced steps.

    Returns:
        DataFrame with columns (``env``,) ``agent``, ``global_step``, ``median``, ``min``, ``max``, ``seeds``
        (how many seeds had a value at that step).

    Example:
        >>> df = pd.DataFrame({"agent": "gru", "seed": [0, 0, 1, 1], "global_step": [10, 20, 10, 20],
        ...                    "r": [1.0, 3.0, 2.0, 5.0]})
        >>> seed_spread(df, "r")[["global_step", "median", "min", "max", "seeds"]].values.tolist()
        [[10.0, 1.5, 1.0, 2.0, 2.0], [20.0, 4.0, 3.0, 5.0, 2.0]]
    """
    for col in ("agent", "seed", "global_step", value):
        if col not in curves:
            raise ValueError(f"curves need a {col!r} column; got {list(curves.columns)}")
    keys = ["env", "agent"] if "env" in curves else ["agent"]
    out = []
    for key, group in curves.groupby(keys, sort=False):
        steps = np.sort(group["global_step"].unique())
        if grid is None:
            points = steps if len(steps) <= 200 else np.linspace(steps.max() / 100, steps.max(), 100)
        elif isinstance(grid, (int, np.integer)):
            points = np.linspace(steps.max() / grid, steps.max(), int(grid))
        else:
            points = np.asarray(grid, dtype=float)
        table = np.full((group["seed"].nunique(), len(points)), np.nan)
        for i, (_, run) in enumerate(group.sort_values("global_step").groupby("seed")):
            idx = np.searchsorted(run["global_step"].to_numpy(), points, side="right") - 1
            vals = run[value].to_numpy(dtype=float)
            table[i] = np.where(idx >= 0, vals[np.clip(idx, 0, None)], np.nan)
        have = (~np.isnan(table)).sum(0)
        with warnings.catch_warnings():  # a step no seed has reached yet gives NaN on purpose
            warnings.simplefilter("ignore", RuntimeWarning)
            stats = {"median": np.nanmedian(table, 0), "min": np.nanmin(table, 0), "max": np.nanmax(table, 0)}
        frame = pd.DataFrame({"global_step": points.astype(float), **stats, "seeds": have.astype(float)})
        for k, v in zip(keys, key if isinstance(key, tuple) else (key,)):
            frame.insert(keys.index(k), k, v)
        out.append(frame[have > 0])
    return pd.concat(out, ignore_index=True)


def _bar_offsets(agents: Sequence[str], spacing: float) -> dict[str, float]:
    # each agent's bars a little to the side of the others', so that no two bars of one step cover each other
    width = 0.7 * spacing / max(len(agents), 2)
    return {agent: (i - (len(agents) - 1) / 2) * width for i, agent in enumerate(agents)}


def _draw_spread(ax, spread: pd.DataFrame, agents: Sequence[str], n_seeds: Mapping[str, int], at_points: bool,
                 bars: int = 10) -> None:
    """Median lines and min-to-max bars of several agents on one panel.

    ``at_points``: the curve is a few logged points (greedy evaluations): a marker and a bar at each, the whole
    curve shifted sideways by the agent's offset. Otherwise (a dense curve on a grid common to the agents): the
    line where it is, and a bar, shifted by the offset, at the grid point at or after each ``1/bars`` of the run.
    """
    present = [a for a in agents if not spread[spread["agent"] == a].empty]
    steps = np.sort(spread["global_step"].unique())
    if at_points:
        spacing = float(np.median(np.diff(steps))) if len(steps) > 1 else float(max(steps.max(), 1.0))
    else:
        spacing = float(steps.max()) / bars
    offsets = _bar_offsets(present, spacing)
    for agent in present:
        sub = spread[spread["agent"] == agent]
        color = core_color(agent)
        n = n_seeds[agent]
        label = f"{agent_label(agent)} ({n} seed{'s' if n != 1 else ''})"
        shift = offsets[agent] if at_points else 0.0
        ax.plot(sub["global_step"] + shift, sub["median"], color=color, lw=1.6, marker="o" if at_points else None,
                ms=3.5, label=label)
        if n > 1:
            # dense curve: the grid point nearest to each tenth of the run
            at = sub if at_points else sub.iloc[np.unique(np.searchsorted(
                sub["global_step"].to_numpy(), spacing * np.arange(1, bars + 1) - 1e-9).clip(0, len(sub) - 1))]
            ax.errorbar(at["global_step"] + offsets[agent], at["median"],
                        yerr=[at["median"] - at["min"], at["max"] - at["median"]], fmt="none", ecolor=color,
                        elinewidth=1.1, capsize=2, alpha=0.85, label="_bars")
    ax.axhline(TARGET_RETURN, color="k", ls=":", lw=1, label=f"solved ({TARGET_RETURN:.0f})")
    ax.set_ylim(0, 520)
    ax.set_xlabel(TRAIN_STEP_LABEL)
    ax.set_ylabel(RETURN_LABEL)


def plot_learning_curves(evals: pd.DataFrame | None, trains: pd.DataFrame | None, env_id: str,
                         agents: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Learning curves of several agents on one environment: the median over seeds, a bar from min to max.

    Left: the training return, a moving average of the last 20 training episodes (the policy samples its
    actions). Right: the greedy evaluation return (mean of the evaluation episodes, argmax actions). A panel
    is left out when its frame is None.

    The spread over seeds is drawn as bars, not shaded bands, so that several agents' spreads stay apart: on the
    greedy panel a bar at every evaluation, on the training panel a bar at every tenth of the run. At one step the
    agents' bars (and on the greedy panel their points) sit side by side, each agent shifted a little along the
    step axis. One legend for both panels sits below them, where it covers no data.

    Args:
        evals: rows of ``eval_curves.csv`` (``env``, ``agent``, ``seed``, ``global_step``, ``eval_return_mean``).
        trains: rows of ``train_curves.csv`` (``env``, ``agent``, ``seed``, ``global_step``, ``return_ma20``).
        env_id: which environment to draw.
        agents: which agents, in legend order (default: all present, in :data:`AGENT_LABELS` order).
        title: the figure title (default names the environment); the suptitle's second line says what the lines
            and bars are.

    Returns:
        The figure; each panel's labelled lines are the agents' medians (then the target line), its
        ``collections`` the agents' min-to-max bars; ``fig.legends[0]`` names the agents.
    """
    panels = [(f, c, n) for f, c, n in ((trains, "return_ma20", "training: moving average of 20 episodes"),
                                        (evals, "eval_return_mean", "greedy evaluation: mean return"))
              if f is not None]
    if not panels:
        raise ValueError("give at least one of evals and trains")
    fig = _figure(6.2 * len(panels), 4.9)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    for ax, (frame, column, name) in zip(axes, panels):
        frame = frame[frame["env"] == env_id]
        if frame.empty:
            raise ValueError(f"no curves for {env_id!r}")
        present = list(dict.fromkeys(frame["agent"]))
        order = list(agents) if agents is not None else [a for a in AGENT_LABELS if a in present] + \
            [a for a in present if a not in AGENT_LABELS]
        n_seeds = frame.groupby("agent")["seed"].nunique().to_dict()
        at_points = column == "eval_return_mean"  # evaluations share their steps; training episodes do not
        grid = None if at_points else np.linspace(frame["global_step"].max() / 100, frame["global_step"].max(), 100)
        _draw_spread(ax, seed_spread(frame, column, grid=grid), [a for a in order if a in present], n_seeds,
                     at_points=at_points)
        ax.set_title(name, fontsize=10)
    many = max(frame.groupby("agent")["seed"].nunique().max() for frame, _, _ in panels)
    note = ("line: median over seeds; bar: lowest to highest seed; agents shifted a little sideways" if many > 1
            else "one seed per agent so far")
    fig.suptitle(f"{title or f'Learning on {env_id}'}\n({note})", fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=8)
    return fig


# -- 05: what is hidden, and the agent's internals ---------------------------------------------------------------
def plot_state_reconstruction(steps: pd.DataFrame, velocity_from_p: Sequence[float] | None = None,
                              angle_from_v: Sequence[float] | None = None,
                              title: str = "What the observations hide, and what a memory recovers") -> Figure:
    """True pole angular velocity and angle of one episode beside what a memory of the observations recovers.

    Args:
        steps: ``Episode.steps`` (true state columns ``pole_angle``, ``pole_velocity``, in radians).
        velocity_from_p: ``(T,)`` the pole velocity worked out from CartPole-P observations (NaN where
            unavailable), drawn over the true one.
        angle_from_v: ``(T,)`` the pole angle worked out from CartPole-V observations.
        title: the figure title.
    """
    t = steps["t"].to_numpy()
    fig = _figure(10, 3.8)
    ax_v, ax_a = fig.subplots(1, 2)
    ax_v.plot(t, np.degrees(steps["pole_velocity"]), color="k", lw=2.5, alpha=0.35, label="true (hidden in CartPole-P)")
    if velocity_from_p is not None:
        ax_v.plot(t, np.degrees(np.asarray(velocity_from_p, float)), ".", ms=3, color=core_color("gru"),
                  label="from two consecutive angles")
    ax_v.set_title("pole angular velocity", fontsize=10)
    ax_v.set_ylabel("angular velocity (degrees / s)")
    ax_a.plot(t, np.degrees(steps["pole_angle"]), color="k", lw=2.5, alpha=0.35, label="true (hidden in CartPole-V)")
    if angle_from_v is not None:
        ax_a.plot(t, np.degrees(np.asarray(angle_from_v, float)), ".", ms=3, color=core_color("grsn"),
                  label="running sum of observed velocities")
    ax_a.set_title("pole angle", fontsize=10)
    ax_a.set_ylabel("angle (degrees)")
    for ax in (ax_v, ax_a):
        ax.set_xlabel(ENV_STEP_LABEL)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def _pick_units(episode, n: int, by: str = "mem") -> tuple[list[int], np.ndarray]:
    """The n units whose (per-decision mean) ``by`` correlates most strongly with the true pole angle, and the
    correlation of every unit ``(H,)``."""
    values = episode.per_decision(by).mean(1)
    angle = episode.steps["pole_angle"].to_numpy()
    with np.errstate(all="ignore"):
        corr = np.array([np.corrcoef(values[:, h], angle)[0, 1] if values[:, h].std() > 0 else 0.0
                         for h in range(values.shape[1])])
    return list(np.argsort(-np.nan_to_num(np.abs(corr)))[:n]), corr


def plot_episode_internals(episode, start: int = 0, stop: int | None = None, raster_units: int = 32,
                           trace_units: int = 3, title: str | None = None) -> Figure:
    """One episode of a recorded agent, with its policy core's spikes, membranes and gates, step by step.

    Panels, all against time in environment steps: the true pole angle (with the actions taken); a spike
    raster of ``raster_units`` units; and for ``trace_units`` example units (those whose membrane follows the
    pole angle most closely) the membrane potential in threshold units, the forget gate F and the gated
    current c (the last two for GRSN only). Non-TAP sub-steps are spread evenly inside their environment step.

    Args:
        episode: a :class:`grsn_edu.course.recordings.Episode` of a spiking agent.
        start, stop: the window of environment steps to draw (default: the whole episode).
        raster_units: how many units the raster shows (the most active ones, most active at the top).
        trace_units: how many example units the membrane and gate panels show.
        title: the figure title.
    """
    if "spk" not in episode.internals:
        raise ValueError("plot_episode_internals needs a spiking agent (the episode has no 'spk' records)")
    T, S = episode.length, episode.substeps
    stop = T if stop is None else min(stop, T)
    start = max(0, min(start, stop - 1))
    steps = episode.steps.iloc[start:stop]
    gated = "forget" in episode.internals and "cur" in episode.internals
    rows = 4 + gated * 2
    ratios = [1.4, 0.5, 2.0, 1.6] + ([1.2, 1.2] if gated else [])
    fig = _figure(10, 1.45 * sum(ratios) + 0.8)
    axes = fig.subplots(rows, 1, sharex=True, height_ratios=ratios)
    ax_angle, ax_act, ax_raster, ax_mem = axes[:4]
    x_sub = np.arange(T * S) / S  # spiking update -> environment time
    sub = slice(start * S, stop * S)

    observed = any(col.startswith("obs_") and np.allclose(episode.steps[col], episode.steps["pole_angle"], atol=1e-6)
                   for col in episode.steps.columns)
    ax_angle.plot(steps["t"], np.degrees(steps["pole_angle"]), color="k", lw=1.6,
                  label="true pole angle" + ("" if observed else " (not observed by the agent)"))
    for lim in (-ANGLE_LIMIT_DEG, ANGLE_LIMIT_DEG):
        ax_angle.axhline(lim, color="#d62728", ls="--", lw=0.8)
    ax_angle.axhline(0, color="#888888", lw=0.6)
    ax_angle.plot([], [], color="#d62728", ls="--", lw=0.8, label="episode ends beyond ±12°")
    ax_angle.set_ylabel("angle (degrees)")
    span = np.degrees(np.abs(steps["pole_angle"]).max())
    ax_angle.set_ylim(-max(span * 1.3, 1.0), max(span * 1.3, 1.0))
    ax_angle.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)  # off the data

    for action, color in PUSH_COLORS.items():
        at = steps["t"][steps["action"] == action]
        ax_act.scatter(at, np.full(len(at), action), marker="|", s=40, color=color)
    ax_act.set_ylim(-0.6, 1.6)
    ax_act.set_yticks([0, 1], ["push left", "push right"], fontsize=7)
    ax_act.set_title("action taken", fontsize=9)

    spk = episode.internals["spk"]
    order = np.argsort(-spk.mean(0))[:raster_units]
    ts, units = np.nonzero(spk[sub][:, order])
    ax_raster.scatter(x_sub[sub][ts], len(order) - 1 - units, marker="|", s=12, lw=0.8, color=SPIKE_COLOR)
    ax_raster.set_ylim(-0.5, len(order) - 0.5)
    ax_raster.set_ylabel(f"unit ({len(order)} most active)")
    ax_raster.set_yticks([])
    rate = spk[sub].mean()
    ax_raster.set_title(f"spikes of the policy core ({spk.shape[1]} units, firing rate in this window "
                        f"{rate:.2f} spikes per unit per update)", fontsize=9)

    units, corr = _pick_units(episode, trace_units)
    colors = [f"C{i}" for i in range(len(units))]
    mem = episode.internals["mem"] / episode.threshold
    for h, c in zip(units, colors):
        ax_mem.plot(x_sub[sub], mem[sub, h], color=c, lw=1.1, label=f"unit {h} (corr. with angle {corr[h]:+.2f})")
    ax_mem.axhline(1.0, color="#d62728", ls="--", lw=0.8, label="threshold")
    ax_mem.set_ylabel("membrane $U/U_{thr}$\n(threshold units)")
    ax_mem.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if gated:
        ax_f, ax_c = axes[4:]
        for h, c in zip(units, colors):
            ax_f.plot(x_sub[sub], episode.internals["forget"][sub, h], color=c, lw=1.1, label=f"unit {h}")
            ax_c.plot(x_sub[sub], episode.internals["cur"][sub, h], color=c, lw=1.1, label=f"unit {h}")
        ax_f.set_ylim(-0.02, 1.02)
        ax_f.set_ylabel("forget gate $F$\n(fraction kept)")
        ax_c.set_ylabel("gated current $c$\n(a.u.)")
        for ax in (ax_f, ax_c):
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    axes[-1].set_xlabel(ENV_STEP_LABEL)
    axes[-1].set_xlim(start - 0.5, stop - 0.5)
    fig.suptitle(title or f"Inside the agent: one episode of {episode.env_id} (steps {start} to {stop - 1}, "
                 f"return {episode.episode_return:.0f})")
    return fig


def _frame_title(episode, i: int) -> str:
    t = int(episode.frame_steps[i])
    angle = np.degrees(episode.steps["pole_angle"].iloc[t])
    return f"step {t}: pole angle {angle:+.1f}°"


def _small(frame: np.ndarray, shrink: int) -> np.ndarray:
    # CartPole's 400 x 600 frame is mostly empty sky and ground: the track is at row 300 and the pole reaches up
    # 125 pixels, so rows 150 to 330 hold everything that moves
    return frame[150:330:shrink, ::shrink]


def episode_animation(episode, shrink: int = 3, interval_ms: int = 100, title: str | None = None):
    """An animation of an episode's rendered frames; show it with ``animation_gif`` (``plots.animation``).

    Args:
        episode: a :class:`grsn_edu.course.recordings.Episode` recorded with ``render``.
        shrink: keep every ``shrink``-th pixel in each direction (3 turns the 600 x 180 crop into 200 x 60);
            fewer pixels and fewer frames keep a notebook small.
        interval_ms: time between frames, milliseconds.
        title: the figure title.

    Returns:
        A ``matplotlib.animation.FuncAnimation``.
    """
    from matplotlib.animation import FuncAnimation

    if episode.frames is None:
        raise ValueError("the episode has no frames: record it with record_episode(..., render=k)")
    fig = _figure(5.0, 2.2)
    ax = fig.subplots()
    image = ax.imshow(_small(episode.frames[0], shrink))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(_frame_title(episode, 0), fontsize=9)
    fig.suptitle(title or f"{episode.env_id}, one greedy episode (return {episode.episode_return:.0f})", fontsize=10)

    def draw(i):
        image.set_data(_small(episode.frames[i], shrink))
        ax.set_xlabel(_frame_title(episode, i), fontsize=9)
        return (image,)

    return FuncAnimation(fig, draw, frames=len(episode.frames), interval=interval_ms, blit=False)


def plot_frame_strip(episode, n: int = 6, shrink: int = 2, title: str | None = None) -> Figure:
    """``n`` evenly spaced rendered frames of an episode side by side, each labelled with its step and angle."""
    if episode.frames is None:
        raise ValueError("the episode has no frames: record it with record_episode(..., render=k)")
    idx = np.unique(np.linspace(0, len(episode.frames) - 1, n).round().astype(int))
    fig = _figure(2.4 * len(idx), 1.5)
    axes = np.atleast_1d(fig.subplots(1, len(idx)))
    for ax, i in zip(axes, idx):
        ax.imshow(_small(episode.frames[i], shrink))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(_frame_title(episode, i), fontsize=8)
    fig.suptitle(title or f"{episode.env_id}: frames of one episode (time runs left to right)", fontsize=10)
    return fig


# -- the reinforcement-learning primer: returns, discounting, one run beside saved seeds ------------------------------
def plot_episode_returns(returns: Mapping[str, Sequence[float]], title: str = "Episode returns",
                         max_return: float = EPISODE_STEPS, bins: int = 50) -> Figure:
    """Histograms of episode returns, one per policy, on a common axis from 0 to ``max_return``.

    Args:
        returns: ``{policy label: the returns of its episodes}`` (each non-empty); the legend adds the number of
            episodes and their mean.
        title: the figure title.
        max_return: the right end of the axis (CartPole's time limit: a return cannot exceed it).
        bins: bars over that range.

    Returns:
        The figure; its one panel holds one bar container per policy, in the order of ``returns``, and the legend
        sits below the panel.
    """
    if not returns:
        raise ValueError("returns is empty: give at least one {label: episode returns}")
    edges = np.linspace(0.0, float(max_return), bins + 1)
    fig = _figure(7.5, 3.6)
    ax = fig.subplots()
    for k, (label, values) in enumerate(returns.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or not len(values):
            raise ValueError(f"the returns of {label!r} should be a non-empty 1-D sequence, got shape {values.shape}")
        ax.hist(np.clip(values, 0.0, max_return), bins=edges, color=f"C{k}", alpha=0.6,
                label=f"{label}: {len(values)} episodes, mean {values.mean():.1f}")
    ax.set_xlim(0.0, max_return)
    ax.set_xlabel(RETURN_LABEL)
    ax.set_ylabel("episodes")
    ax.set_title(title)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=8.5,
               ncols=min(len(returns), 2))
    return fig


def plot_discount_weights(gammas: Sequence[float] = (0.9, 0.99), steps: int = EPISODE_STEPS,
                          title: str = "Discounting: how much a later reward counts") -> Figure:
    r"""What a discount :math:`\gamma` does, one line per gamma, in two panels.

    Left: the weight :math:`\gamma^k` of a reward k steps ahead, with the horizon :math:`1 / (1 - \gamma)` marked
    (the weights sum to it over an endless future). Right: the discounted return from the first step of an
    episode that pays 1 per step and lasts n steps, :math:`\sum_{k<n} \gamma^k = (1 - \gamma^n) / (1 - \gamma)`,
    which levels off at that horizon.

    Args:
        gammas: the discounts drawn, each in [0, 1).
        steps: the longest horizon drawn (CartPole's time limit by default).
        title: the figure title.

    Returns:
        The figure: panel 0's first lines are the weights and panel 1's the returns, one per gamma in order.
    """
    gammas = [float(g) for g in gammas]
    if not gammas or any(not 0.0 <= g < 1.0 for g in gammas):
        raise ValueError(f"gammas must be a non-empty sequence of discounts in [0, 1), got {gammas}")
    k = np.arange(int(steps) + 1)
    fig = _figure(10, 3.8)
    ax_w, ax_g = fig.subplots(1, 2)
    for i, gamma in enumerate(gammas):
        color, horizon = f"C{i}", 1.0 / (1.0 - gamma)
        ax_w.plot(k, gamma**k, color=color, lw=1.8,
                  label=f"gamma = {gamma:g}: horizon 1 / (1 - gamma) = {horizon:.0f} steps")
        ax_g.plot(k, (1.0 - gamma**k) / (1.0 - gamma), color=color, lw=1.8, label="_")
        if horizon <= k[-1]:
            ax_w.axvline(horizon, color=color, ls=":", lw=1.2)
        ax_g.axhline(horizon, color=color, ls=":", lw=1.2)
    ax_w.set_title(r"weight $\gamma^k$ of a reward k steps ahead (dotted: the horizon)", fontsize=10)
    ax_w.set_xlabel("steps ahead k (environment steps)")
    ax_w.set_ylabel(r"weight $\gamma^k$ (fraction of the reward)")
    ax_g.set_title("return of an episode of n steps, reward 1 per step (dotted: the horizon)", fontsize=10)
    ax_g.set_xlabel("episode length n (environment steps)")
    ax_g.set_ylabel("discounted return from the first step")
    fig.suptitle(title)
    fig.legend(*ax_w.get_legend_handles_labels(), loc="outside lower center", fontsize=8.5, ncols=min(len(gammas), 3))
    return fig


def plot_run_against_seeds(run: pd.DataFrame, seeds: pd.DataFrame, value: str = "eval_return_mean",
                           run_label: str = "this run", seeds_label: str = "saved runs",
                           title: str = "One run beside the saved runs", ylabel: str = RETURN_LABEL) -> Figure:
    """One learning curve (coloured, with markers) over the curves of saved runs of several seeds (grey).

    Args:
        run: one run's curve: columns ``global_step`` and ``value`` (e.g. a run folder's ``eval_curve.csv``).
        seeds: the saved runs: columns ``seed``, ``global_step`` and ``value``, one curve per seed.
        value: the column drawn, e.g. ``"eval_return_mean"`` (greedy evaluation) or ``"return_ma20"`` (training).
        run_label, seeds_label: their legend labels (the number of seeds is added to ``seeds_label``).
        title, ylabel: the figure title and the y-axis label.

    Returns:
        The figure: the seeds' lines first (one per seed, in seed order), the run's line last; the target return
        (475, CartPole's "solved") dotted; the legend below the panel.
    """
    for name, frame, columns in (("run", run, ("global_step", value)),
                                 ("seeds", seeds, ("seed", "global_step", value))):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {', '.join(missing)}; it has "
                             f"{', '.join(map(str, frame.columns))}")
    if run.empty or seeds.empty:
        raise ValueError("run and seeds must each hold at least one row")
    fig = _figure(8, 3.9)
    ax = fig.subplots()
    n = seeds["seed"].nunique()
    for i, (_, curve) in enumerate(seeds.sort_values("global_step").groupby("seed")):
        ax.plot(curve["global_step"], curve[value], color="0.65", lw=1.1,
                label=f"{seeds_label} ({n} seed{'s' if n != 1 else ''})" if i == 0 else "_")
    ax.plot(run["global_step"], run[value], "o-", color="C3", lw=1.8, ms=4, label=run_label)
    ax.axhline(TARGET_RETURN, color="k", ls=":", lw=1, label=f"solved ({TARGET_RETURN:.0f})")
    ax.set_ylim(0, 520)
    ax.set_xlabel(TRAIN_STEP_LABEL)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=8.5, ncols=3)
    return fig
