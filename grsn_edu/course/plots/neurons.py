"""Figures for notebook 01 (one LIF neuron, a small layer, spike functions, a first BPTT training run).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot: a notebook shows it once (as the
cell's value) and nothing accumulates in pyplot's list of open figures, however often a slider redraws it.
Units: time in steps; currents and membrane potentials in arbitrary units (a.u.), the threshold is usually 1.

:func:`grsn_edu.course.plots.interactive.interactive_figure` puts sliders under any of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from grsn_edu.course.plots import core_color

__all__ = [
    "plot_neuron",
    "plot_input_responses",
    "plot_membranes",
    "plot_beta_traces",
    "plot_rate_curves",
    "plot_raster",
    "plot_spike_function",
    "plot_losses",
    "plot_rate_training",
]

MEMBRANE_COLOR = core_color("lif")
THRESHOLD_COLOR = "#d62728"
CURRENT_COLOR = "#555555"
SPIKE_COLOR = "#000000"

TIME_LABEL = "time (steps)"
CURRENT_LABEL = "current $I_t$ (a.u.)"
MEMBRANE_LABEL = "membrane $U_t$ (a.u.)"


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _spike_times(spk) -> np.ndarray:
    return np.flatnonzero(_np(spk) > 0)


def _draw_current(ax, current, color=CURRENT_COLOR, label=None) -> None:
    current = _np(current)
    ax.step(np.arange(len(current)), current, where="mid", color=color, lw=1.2, label=label)
    ax.set_ylabel(CURRENT_LABEL)


def _draw_threshold(ax, threshold: float) -> None:
    ax.axhline(threshold, color=THRESHOLD_COLOR, ls="--", lw=1.0, label=f"threshold $U_{{thr}}$ = {threshold:g}")


def _spike_row(ax, rows: Sequence[tuple[str, object, str]], T: int) -> None:
    """One raster line per (label, spk (T,), color) in ``rows``, top to bottom."""
    for i, (_, spk, color) in enumerate(rows):
        ax.scatter(_spike_times(spk), np.full(len(_spike_times(spk)), -i), marker="|", s=120, color=color, lw=1.5)
    ax.set_yticks([-i for i in range(len(rows))], [label for label, _, _ in rows])
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.set_xlim(-0.5, T - 0.5)
    ax.set_xlabel(TIME_LABEL)


def plot_neuron(current, spk, mem, threshold: float = 1.0, title: str = "One LIF neuron") -> Figure:
    """Input current, membrane potential (with the threshold) and output spikes of one neuron, stacked.

    Args:
        current: ``(T,)`` input current.
        spk: ``(T,)`` output spikes, 0 or 1.
        mem: ``(T,)`` membrane potential after each step.
        threshold: drawn as a dashed line on the membrane panel.
        title: figure title.

    Returns:
        the Figure (3 axes: current, membrane, spikes).
    """
    T = len(_np(current))
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax_cur, ax_mem, ax_spk = fig.subplots(3, 1, sharex=True, height_ratios=[1, 2.4, 0.5])
    _draw_current(ax_cur, current)
    ax_cur.set_title("input")
    ax_mem.plot(_np(mem), color=MEMBRANE_COLOR, lw=1.6, marker=".", ms=4, label="membrane $U_t$")
    _draw_threshold(ax_mem, threshold)
    ax_mem.set_ylabel(MEMBRANE_LABEL)
    ax_mem.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # beside the axes, off the trace
    _spike_row(ax_spk, [(f"spikes ({int(_np(spk).sum())})", spk, SPIKE_COLOR)], T)
    fig.suptitle(title)
    return fig


def plot_input_responses(responses: Mapping[str, tuple], threshold: float = 1.0,
                         title: str = "One LIF neuron, three inputs") -> Figure:
    """Side-by-side responses of one neuron to several input currents.

    Args:
        responses: ``{column title: (current, spk, mem)}``, each tensor ``(T,)`` (T may differ between columns).
        threshold: drawn on every membrane panel.
        title: figure title.

    Returns:
        the Figure: one column per input, rows current / membrane / spikes.
    """
    n = len(responses)
    fig = Figure(figsize=(4.0 * n, 5.0), layout="constrained")
    axes = fig.subplots(3, n, sharex="col", height_ratios=[1, 2.4, 0.5], squeeze=False)
    for row in (0, 1):  # currents share a scale, membranes share a scale; spike rows keep their own labels
        for ax in axes[row, 1:]:
            ax.sharey(axes[row, 0])
    for j, (name, (current, spk, mem)) in enumerate(responses.items()):
        ax_cur, ax_mem, ax_spk = axes[:, j]
        _draw_current(ax_cur, current)
        ax_cur.set_title(name)
        ax_mem.plot(_np(mem), color=MEMBRANE_COLOR, lw=1.5, label="membrane $U_t$")
        _draw_threshold(ax_mem, threshold)
        if j > 0:  # the legend of the first column explains every column
            for line in ax_mem.get_lines():
                line.set_label("_" + line.get_label())
        ax_mem.set_ylabel(MEMBRANE_LABEL)
        _spike_row(ax_spk, [(f"spikes ({int(_np(spk).sum())})", spk, SPIKE_COLOR)], len(_np(current)))
        if j > 0:
            for ax in (ax_cur, ax_mem):
                ax.set_ylabel("")
    # one legend for every column, under the figure, where it covers no trace
    fig.legend(*axes[1, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title)
    return fig


def plot_membranes(
    traces: Mapping[str, tuple],
    threshold: float | None = 1.0,
    current=None,
    title: str = "Membrane potentials",
    colors: Sequence[str] | None = None,
) -> Figure:
    """Several membrane traces on one axis, their spikes on one raster line each, and optionally the input.

    Args:
        traces: ``{label: (spk, mem)}`` with ``spk`` and ``mem`` ``(T,)`` (as
            :func:`grsn_edu.course.lif_demos.simulate_leaky` returns them); ``spk`` may be ``None``.
        threshold: dashed line on the membrane axis (``None``: no line).
        current: optional ``(T,)`` input current shared by all traces, drawn on top.
        title: figure title.
        colors: one colour per trace (default: matplotlib's cycle).

    Returns:
        the Figure.
    """
    labels = list(traces)
    colors = list(colors) if colors is not None else [f"C{i}" for i in range(len(labels))]
    T = len(_np(next(iter(traces.values()))[1]))
    spiking = [(label, spk, c) for (label, (spk, _)), c in zip(traces.items(), colors) if spk is not None]
    rows = (current is not None) + 1 + bool(spiking)
    ratios = ([1] if current is not None else []) + [2.4] + ([0.35 * len(spiking) + 0.2] if spiking else [])
    fig = Figure(figsize=(9, 1.6 + 1.3 * sum(ratios)), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(rows, 1, sharex=True, height_ratios=ratios)))
    if current is not None:
        ax_cur = axes.pop(0)
        _draw_current(ax_cur, current)
        ax_cur.set_title("input (the same for every trace)")
    ax_mem = axes.pop(0)
    for (label, (_, mem)), c in zip(traces.items(), colors):
        ax_mem.plot(_np(mem), color=c, lw=1.5, label=label)
    if threshold is not None:
        _draw_threshold(ax_mem, threshold)
    ax_mem.set_ylabel(MEMBRANE_LABEL)
    ax_mem.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # beside the axes, off the traces
    if spiking:
        _spike_row(axes.pop(0), [(f"{label}: {int(_np(s).sum())} spikes", s, c) for label, s, c in spiking], T)
    else:
        ax_mem.set_xlabel(TIME_LABEL)
    fig.suptitle(title)
    return fig


def plot_beta_traces(
    pulse: Mapping[float, object],
    step: Mapping[float, tuple],
    step_current,
    pulse_at: int,
    pulse_amplitude: float,
    threshold: float = 1.0,
) -> Figure:
    r"""What :math:`\beta` does: left, the membrane after one input pulse; right, under a constant input.

    Args:
        pulse: ``{beta: mem}``, each ``(T,)``, the membrane after a single pulse (no spike).
        step: ``{beta: (spk, mem)}``, each ``(T,)``, under the current ``step_current``.
        step_current: ``(T,)`` the constant (step) current of the right panel, drawn as a grey line.
        pulse_at: step of the pulse; the left panel also draws :math:`A\beta^{t - t_0}` (dotted) for each beta.
        pulse_amplitude: pulse amplitude :math:`A`.
        threshold: drawn on the right panel.

    Returns:
        the Figure (2 axes).
    """
    cmap = colormaps["viridis"]
    betas = list(pulse)
    colors = {b: cmap(0.9 * i / max(1, len(betas) - 1)) for i, b in enumerate(betas)}
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax_p, ax_s = fig.subplots(1, 2)
    for b, mem in pulse.items():
        mem = _np(mem)
        t = np.arange(len(mem))
        ax_p.plot(t, mem, color=colors[b], lw=1.8, label=rf"$\beta$ = {b:g}")
        after = t >= pulse_at
        ax_p.plot(t[after], pulse_amplitude * b ** (t[after] - pulse_at), color="k", ls=":", lw=0.9)
    ax_p.plot([], [], color="k", ls=":", lw=0.9, label=r"$A\,\beta^{\,t-t_0}$")
    ax_p.set(title=f"after one pulse of {pulse_amplitude:g} at step {pulse_at}", xlabel=TIME_LABEL,
             ylabel=MEMBRANE_LABEL)
    ax_p.legend(fontsize=8)
    top = max(float(_np(m).max()) for _, m in step.values())
    for i, (b, (spk, mem)) in enumerate(step.items()):
        ax_s.plot(_np(mem), color=colors[b], lw=1.5, label=rf"$\beta$ = {b:g}: {int(_np(spk).sum())} spikes")
        times = _spike_times(spk)
        ax_s.scatter(times, np.full(len(times), top + 0.12 * (i + 1)), marker="|", s=40, color=colors[b])
    _draw_threshold(ax_s, threshold)
    current = _np(step_current)
    ax_s.step(np.arange(len(current)), current, where="mid", color=CURRENT_COLOR, lw=1.0, label="input current (a.u.)")
    ax_s.set(title="under a constant input (ticks on top: spikes)", xlabel=TIME_LABEL, ylabel=MEMBRANE_LABEL)
    ax_s.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(r"What $\beta$ does: how much of the membrane survives each step")
    return fig


def plot_rate_curves(
    currents,
    rates: Mapping[str, object],
    rheobase: Mapping[str, float] | None = None,
    title: str = "Firing rate against input current",
    colors: Sequence | None = None,
) -> Figure:
    """Firing rate (spikes per step) against a constant input current, one curve per setting.

    Args:
        currents: ``(N,)`` the constant currents tried.
        rates: ``{label: (N,) firing rates}``.
        rheobase: optional ``{label: current}`` drawn as a dotted vertical line in the curve's colour.
        title: figure title.
        colors: one colour per curve (default: viridis, as in :func:`plot_beta_traces`).

    Returns:
        the Figure.
    """
    labels = list(rates)
    if colors is None:
        cmap = colormaps["viridis"]
        colors = [cmap(0.9 * i / max(1, len(labels) - 1)) for i in range(len(labels))]
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    x = _np(currents)
    for label, c in zip(labels, colors):
        ax.plot(x, _np(rates[label]), color=c, lw=1.8, label=label)
        if rheobase is not None and label in rheobase:
            ax.axvline(rheobase[label], color=c, ls=":", lw=1.2)
    if rheobase is not None:
        ax.plot([], [], color="k", ls=":", lw=1.2, label="dotted: smallest current that fires")
    ax.set(title=title, xlabel="constant input current $I$ (a.u.)", ylabel="firing rate (spikes / step)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_raster(spk, title: str = "Spike raster", values=None, value_label: str | None = None) -> Figure:
    """Spike raster of a layer (one row per neuron) with each neuron's firing rate beside it.

    Args:
        spk: ``(T, H)`` spikes of H neurons over T steps.
        title: figure title.
        values: optional ``(H,)`` per-neuron quantity (e.g. its mean input) printed on the raster's right axis.
        value_label: label of that right axis.

    Returns:
        the Figure (raster and rate bars).
    """
    spk = _np(spk)
    T, H = spk.shape
    fig = Figure(figsize=(10, 0.16 * H + 2.0), layout="constrained")
    ax_r, ax_b = fig.subplots(1, 2, sharey=True, width_ratios=[4, 1])
    t, h = np.nonzero(spk > 0)
    ax_r.scatter(t, h, marker="|", s=30, color=SPIKE_COLOR, lw=1.2)
    ax_r.set(xlim=(-0.5, T - 0.5), ylim=(-0.7, H - 0.3), xlabel=TIME_LABEL, ylabel="neuron", title="spikes")
    ax_r.yaxis.set_major_locator(MaxNLocator(integer=True))
    if values is not None:
        right = ax_r.twinx()
        right.set_ylim(ax_r.get_ylim())
        ticks = list(range(0, H, max(1, H // 8)))
        right.set_yticks(ticks, [f"{v:.2f}" for v in _np(values)[ticks]])
        right.set_ylabel(value_label or "")
    rates = spk.mean(axis=0)
    ax_b.barh(np.arange(H), rates, color=MEMBRANE_COLOR)
    ax_b.set(xlabel="firing rate (spikes / step)", title="rate")
    fig.suptitle(title)
    return fig


def plot_spike_function(u, forward: Mapping[str, object], derivative: Mapping[str, object],
                        title: str = "The spike function and its gradient") -> Figure:
    """Spike functions (left) and the derivatives backpropagation uses for them (right), against U - U_thr.

    Args:
        u: ``(N,)`` points, membrane minus threshold.
        forward: ``{label: (N,) values}`` for the left panel.
        derivative: ``{label: (N,) values}`` for the right panel.
        title: figure title.

    Returns:
        the Figure (2 axes).
    """
    x = _np(u)
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2, sharex=True)
    styles = ["-", "--", "-.", ":"]
    for i, (label, y) in enumerate(forward.items()):
        ax_f.plot(x, _np(y), ls=styles[i % 4], lw=2.0 if i == 0 else 1.6, color=f"C{i}", label=label)
    ax_f.set(title="forward: the spike", xlabel=r"$U_t - U_{thr}$ (a.u.)", ylabel="spike $S_t$")
    ax_f.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    for i, (label, y) in enumerate(derivative.items()):
        ax_d.plot(x, _np(y), ls=styles[i % 4], lw=2.0 if i == 0 else 1.6, color=f"C{i}", label=label)
    ax_d.set(title="backward: the derivative autograd uses", xlabel=r"$U_t - U_{thr}$ (a.u.)",
             ylabel=r"$\partial S_t / \partial U_t$")
    ax_d.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    fig.suptitle(title)
    return fig


def plot_losses(
    losses: Mapping[str, Sequence[float]],
    title: str = "Training loss",
    ylabel: str = "loss",
    log: bool = True,
    zero_floor: float | None = None,
) -> Figure:
    """Loss curves, one per run, against the update number.

    Args:
        losses: ``{label: [loss before update 0, 1, ...]}``.
        title: figure title.
        ylabel: y-axis label.
        log: logarithmic y axis.
        zero_floor: with ``log``, losses below this value (zero up to rounding) are drawn on a dotted line at
            this height, labelled "loss = 0", instead of falling off the axis.

    Returns:
        the Figure.
    """
    fig = Figure(figsize=(7.5, 4.0), layout="constrained")
    ax = fig.subplots()
    for i, (label, values) in enumerate(losses.items()):
        values = np.asarray(values, dtype=float)
        if log and zero_floor is not None:
            values = np.maximum(values, zero_floor)
        ax.plot(np.arange(len(values)), values, lw=2.0, ls=["-", "--"][i % 2], label=label)
    if log:
        ax.set_yscale("log")
        if zero_floor is not None:
            ax.axhline(zero_floor, color="#999999", ls=":", lw=1.0, label="loss = 0 (drawn at this height)")
    ax.set(title=title, xlabel="update (Adam steps)", ylabel=ylabel)
    ax.legend(fontsize=9)
    return fig


def plot_rate_training(spk_before, spk_after, target, title: str = "Training to target firing rates") -> Figure:
    """Output spikes before and after training, and each neuron's firing rate against its target.

    Args:
        spk_before: ``(T, B, H)`` spikes before training (the raster shows batch entry 0).
        spk_after: ``(T, B, H)`` spikes after training.
        target: ``(H,)`` target rates (spikes per step).
        title: figure title.

    Returns:
        the Figure (3 axes: raster before, raster after, rates).
    """
    before, after, target = _np(spk_before), _np(spk_after), _np(target)
    T, _, H = before.shape
    fig = Figure(figsize=(12, 0.3 * H + 2.4), layout="constrained")
    ax_b, ax_a, ax_r = fig.subplots(1, 3, sharey=True, width_ratios=[3, 3, 2])
    for ax, spk, name in ((ax_b, before, "before training"), (ax_a, after, "after training")):
        t, h = np.nonzero(spk[:, 0] > 0)
        ax.scatter(t, h, marker="|", s=40, color=SPIKE_COLOR, lw=1.2)
        ax.set(xlim=(-0.5, T - 0.5), ylim=(-0.7, H - 0.3), xlabel=TIME_LABEL, title=f"{name} (input pattern 0)")
    ax_b.set_ylabel("output neuron")
    h = np.arange(H)
    ax_r.barh(h + 0.2, before.mean(axis=(0, 1)), height=0.4, color="#bbbbbb", label="before")
    ax_r.barh(h - 0.2, after.mean(axis=(0, 1)), height=0.4, color=MEMBRANE_COLOR, label="after")
    ax_r.scatter(target, h, marker="D", s=25, color=THRESHOLD_COLOR, zorder=3, label="target")
    ax_r.set(xlabel="firing rate (spikes / step)", title="rate, mean over inputs")
    ax_r.legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    return fig
