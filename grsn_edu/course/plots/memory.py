"""Figures for notebook 02, recurrent spiking memory.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (so a notebook shows it exactly
once, as the cell's value, and no figure is left open), with a title, axes labelled with units and a legend.
Sliders that redraw a figure come from :func:`grsn_edu.course.plots.interactive.interactive_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from grsn_edu.course.plots import core_color

__all__ = [
    "plot_pulse_decay",
    "plot_task_example",
    "plot_accuracy_vs_delay",
    "plot_loss_curves",
    "plot_integrator_accuracy",
    "plot_variants",
    "plot_gate_memory",
]

_LABELS = {
    "mlp": "MLP (no memory)",
    "gru": "GRU",
    "lif": "LIF",
    "grsn": "GRSN",
    "rleaky": "snnTorch RLeaky",
    "slstm": "snnTorch SLSTM",
}


#: sideways step between neighbouring lines of :func:`plot_accuracy_vs_delay`, in units of ln(D)
_SIDEWAYS = 0.045


def core_label(name: str) -> str:
    """A readable legend label for a core name."""
    return _LABELS.get(name, name)


def _figure(width: float = 6.4, height: float = 4.0, ncols: int = 1):
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def plot_pulse_decay(traces: Mapping[float, Sequence[float]], amplitude: float,
                     threshold: float | None = None) -> Figure:
    r"""Membrane of one LIF neuron after a single input pulse, beside the :math:`A\beta^t` curve, for several beta.

    Args:
        traces: ``{beta: membrane}``, each membrane a sequence of length T, ``membrane[t]`` = :math:`U_t` after
            a pulse of height ``amplitude`` at t=0 and no input afterwards.
        amplitude: the pulse height A (the membrane right after the pulse).
        threshold: if given, drawn as a horizontal line (the pulse should stay below it: no spike, no reset).

    Returns:
        The figure: measured membranes as dots, :math:`A\beta^t` as lines, one colour per beta.
    """
    fig, ax = _figure()
    colors = _sequential_colors(len(traces))
    spiked = False
    for color, (beta, mem) in zip(colors, traces.items()):
        mem = np.asarray(mem, dtype=float)
        t = np.arange(len(mem))
        ax.plot(t, amplitude * float(beta) ** t, "-", color=color, lw=1.5, alpha=0.7)
        keep10 = math.ceil(math.log(0.1) / math.log(beta)) if 0 < beta < 1 else math.inf
        tail = f", 10 % left after {keep10} steps" if math.isfinite(keep10) else ", never decays"
        ax.plot(t, mem, "o", color=color, ms=3.5, label=rf"$\beta$ = {beta:g}{tail}")
        if threshold is not None and (mem > threshold).any():
            spiked = True
            ax.plot(t[mem > threshold], mem[mem > threshold], "*", color="crimson", ms=11, zorder=3)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls=":", lw=1, label=f"threshold = {threshold:g}")
    ax.plot([], [], "-", color="0.4", label=r"$A\,\beta^t$ (no spike, no reset)")
    ax.plot([], [], "o", color="0.4", ms=3.5, label="simulated membrane")
    if spiked:
        ax.plot([], [], "*", color="crimson", ms=11, label="spike (reset by the threshold next step)")
        title = f"A pulse above threshold (A = {amplitude:g}): a spike, a reset, less left to remember"
    else:
        title = f"A LIF neuron forgets a single pulse (A = {amplitude:g}) as $\\beta^t$"
    ax.set_xlabel("time since the pulse t (steps)")
    ax.set_ylabel("membrane potential $U_t$ (threshold units)")
    ax.set_title(title)
    ax.set_ylim(bottom=-0.02)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes, off the curves
    return fig


def plot_task_example(x, label: int, n_cues: int, title: str | None = None) -> Figure:
    """One cue-recall sequence as a heat map: input channels against time.

    Args:
        x: ``(T, I)`` one sequence (a batch entry of :meth:`grsn_edu.envs.cue_recall.CueRecallTask.sample`).
        label: its cue.
        n_cues: number of cue channels (the last channel is the go signal).
        title: optional title; by default says the cue and the delay.
    """
    x = np.asarray(x, dtype=float)
    T, I = x.shape
    fig, ax = _figure(width=max(5.5, min(10.0, 3.0 + 0.18 * T)), height=2.9)
    lim = max(1.0, float(np.abs(x).max()))
    image = ax.imshow(x.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_yticks(range(I), [f"cue {i}" for i in range(n_cues)] + ["go"])
    ax.set_xlabel("time step t")
    ax.set_ylabel("input channel")
    ax.set_title(title or f"One cue-recall sequence: cue {label} at t = 0,\ndistractors, go (decision) at t = {T - 1}")
    ax.plot([0], [label], "s", mfc="none", mec="k", ms=12, mew=1.5)
    fig.colorbar(image, ax=ax, label="input value (a.u.)", shrink=0.9)
    return fig


def plot_accuracy_vs_delay(
    results,
    cores: Sequence[str] | None = None,
    chance: float | None = None,
    title: str = "Cue recall: accuracy against delay",
    reference: Mapping[int, float] | None = None,
    reference_label: str = "reference",
    ax=None,
) -> Figure:
    """Test accuracy against the delay D, one line per core: mean over seeds, a vertical bar from the lowest to the
    highest seed, each seed as a dot. The lines are drawn slightly apart sideways (by a few per cent of D, on the
    log axis) so that lines with equal values stay visible and no two cores' spreads overlap.

    Args:
        results: a pandas DataFrame with columns ``core``, ``delay``, ``seed``, ``accuracy`` (one row per run,
            e.g. ``data/memory_task/results.csv`` or rows from :meth:`grsn_edu.experiments.memory.MemoryRun.as_row`);
            a ``label`` column, if present, replaces the core name in the legend (for variants of one core).
        cores: which cores (or labels) to draw, in legend order; default all, in order of appearance.
        chance: if given, a dashed line at chance accuracy.
        title: the figure title.
        reference: optional ``{delay: accuracy}`` drawn as a black dotted line (e.g. the best fixed-decay
            integrator), labelled ``reference_label``.
        ax: draw on this Axes instead of a new figure.
    """
    df = results.copy()
    if "label" not in df:
        df["label"] = df["core"]
    names = list(cores) if cores is not None else list(dict.fromkeys(df["label"]))
    if ax is None:
        fig, ax = _figure(width=8.6, height=4.3)
    else:
        fig = ax.figure
    delays = sorted(df["delay"].unique())
    # each core's x positions are multiplied by its own factor around 1 (a fixed step on the log axis)
    shifts = np.exp(_SIDEWAYS * (np.arange(len(names)) - (len(names) - 1) / 2))
    for i, name in enumerate(names):
        sub = df[df["label"] == name]
        if sub.empty:
            raise ValueError(f"no rows for {name!r}; present: {sorted(df['label'].unique())}")
        core = sub["core"].iloc[0]
        color = core_color(core) if name == core else _variant_color(i)
        stats = sub.groupby("delay")["accuracy"].agg(["mean", "min", "max"]).reindex(delays).dropna()
        n_seeds = sub.groupby("delay")["seed"].nunique().max()
        x = stats.index.to_numpy(dtype=float) * shifts[i]
        ax.vlines(x, stats["min"], stats["max"], color=color, lw=1.3, alpha=0.8)
        ax.plot(x, stats["mean"], "-o", color=color, ms=4, label=core_label(name))
        ax.plot(sub["delay"].to_numpy(dtype=float) * shifts[i], sub["accuracy"], ".", color=color, ms=3, alpha=0.6)
    if reference is not None:
        ref = sorted(reference.items())
        ax.plot([d for d, _ in ref], [a for _, a in ref], "k:", marker="x", ms=5, lw=1.2, label=reference_label)
    if chance is not None:
        ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax.set_xscale("log")
    ax.set_xticks(delays, [str(d) for d in delays])
    ax.minorticks_off()
    ax.set_ylim(0, 1.03)
    ax.set_xlabel("delay D between cue and decision (steps, log scale)")
    ax.set_ylabel("test accuracy (fraction correct)")
    spread = (f"\nline: mean of {n_seeds} seeds, bar: lowest to highest seed, dots: single seeds"
              "\n(lines set slightly apart so that equal ones stay visible)") if n_seeds > 1 else ""
    ax.set_title(title + spread)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_loss_curves(runs, chance_loss: float | None = None, smooth: int = 20, title: str | None = None) -> Figure:
    """Training loss against optimiser step for a few runs (moving average over ``smooth`` steps).

    Args:
        runs: sequence of :class:`grsn_edu.experiments.memory.MemoryRun` (``core``, ``delay``, ``losses``,
            ``accuracy``).
        chance_loss: if given, a dashed line at the loss of guessing, ``ln(n_cues)``.
        smooth: moving-average window in steps (1: raw).
        title: optional title.
    """
    fig, ax = _figure()
    for run in runs:
        losses = np.asarray(run.losses, dtype=float)
        k = max(1, min(smooth, len(losses)))
        smoothed = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k, len(losses) + 1), smoothed, color=core_color(run.core), lw=1.5,
                label=f"{core_label(run.core)}: test accuracy {run.accuracy:.0%}")
    if chance_loss is not None:
        ax.axhline(chance_loss, color="k", ls="--", lw=1, label=f"guessing, ln(n_cues) = {chance_loss:.2f}")
    delays = sorted({run.delay for run in runs})
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("training cross-entropy (nats)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or f"Training on cue recall, delay D = {', '.join(map(str, delays))} ({smooth}-step average)")
    ax.legend(fontsize=8)
    return fig


def plot_integrator_accuracy(
    betas: Sequence[float], accuracy: Mapping[int, Sequence[float]], chance: float, noise: float
) -> Figure:
    r"""Accuracy of an ideal leaky integrator on cue recall against its decay beta, one line per delay.

    Args:
        betas: the decays tried, ``(K,)``.
        accuracy: ``{delay: accuracies}``, each of length K (fraction correct at each beta).
        chance: accuracy of guessing, drawn as a dashed line.
        noise: the task's distractor noise (for the title).
    """
    fig, ax = _figure(width=6.8, height=4.3)
    colors = _sequential_colors(len(accuracy))
    for color, (delay, acc) in zip(colors, sorted(accuracy.items())):
        acc = np.asarray(acc, dtype=float)
        best = int(acc.argmax())
        ax.plot(betas, acc, "-", color=color, lw=1.8,
                label=f"D = {delay}: best {acc[best]:.0%} at beta = {betas[best]:g}")
        ax.plot([betas[best]], [acc[best]], "o", color=color, ms=5)
    ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax.set_xlabel(r"decay per step $\beta$ (1 = perfect integrator)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.set_ylim(0, 1.03)
    ax.set_title(f"An ideal leaky integrator on cue recall (noise = {noise:g}):\nno fixed decay works for long delays")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_variants(results, labels: Sequence[str], chance: float | None = None, title: str = "") -> Figure:
    """Accuracy of several variants (settings) of the cores, grouped by delay: bars of the mean over seeds,
    whiskers from min to max, one dot per seed.

    Args:
        results: a DataFrame with columns ``label`` (the variant's name), ``core``, ``delay``, ``seed``,
            ``accuracy``.
        labels: the variants to draw, in order (the x axis).
        chance: if given, a dashed line at chance accuracy.
        title: the figure title.
    """
    missing = [label for label in labels if label not in set(results["label"])]
    if missing:
        raise ValueError(f"no rows for {missing}; present: {sorted(results['label'].unique())}")
    delays = sorted(results.loc[results["label"].isin(labels), "delay"].unique())
    fig, ax = _figure(width=max(6.4, 1.0 + 0.95 * len(labels)), height=4.4)
    colors = _sequential_colors(len(delays))
    width = 0.8 / len(delays)
    for j, (delay, color) in enumerate(zip(delays, colors)):
        for i, label in enumerate(labels):
            sub = results[(results["label"] == label) & (results["delay"] == delay)]
            if sub.empty:
                continue
            x = i - 0.4 + width * (j + 0.5)
            mean = sub["accuracy"].mean()
            ax.bar(x, mean, width * 0.9, color=color, alpha=0.75, label=f"D = {delay}" if i == 0 else None)
            ax.vlines(x, sub["accuracy"].min(), sub["accuracy"].max(), color="k", lw=1)
            ax.plot(np.full(len(sub), x), sub["accuracy"], ".", color="k", ms=3)
    if chance is not None:
        ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_xlabel("variant (core and option changed from its default)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.set_ylim(0, 1.05)
    ax.set_title(title or "Accuracy of each variant (bar: mean over seeds; whisker: min to max; dots: seeds)")
    ax.legend(fontsize=8, loc="upper right", ncols=len(delays) + 1)
    return fig


def plot_gate_memory(beta: float, forget_bias: float, steps: int = 60) -> Figure:
    r"""How long two kinds of memory keep a unit of input: a LIF membrane and a GRSN gated current.

    Left: the fraction of a pulse still present after t steps, :math:`\beta^t` for the membrane and
    :math:`F^t` for the gated current with a constant forget gate :math:`F = \sigma(b_F)`. Right: the forget
    gate against its bias, marking the chosen one; a gate can move along this curve at every step, driven by
    its input, which is what a fixed :math:`\beta` cannot do.

    Args:
        beta: membrane decay per step, in [0, 1].
        forget_bias: forget-gate pre-activation :math:`b_F` (with no other input).
        steps: time steps to draw.
    """
    forget = 1.0 / (1.0 + math.exp(-forget_bias))
    t = np.arange(steps + 1)
    fig, (ax, ax_gate) = _figure(width=9.5, height=3.8, ncols=2)
    ax.plot(t, beta ** t, color=core_color("lif"), lw=2, label=rf"LIF membrane, $\beta^t$, $\beta$ = {beta:.3g}")
    ax.plot(t, forget ** t, color=core_color("grsn"), lw=2,
            label=rf"GRSN gated current, $F^t$, F = $\sigma$({forget_bias:.2g}) = {forget:.3f}")
    ax.axhline(0.1, color="k", ls=":", lw=1, label="10 % left")
    ax.set_xlabel("steps since the input t (steps)")
    ax.set_ylabel("fraction of the input still held")
    ax.set_ylim(0, 1.02)
    ax.set_title("Memory of one input, no new input")
    ax.legend(fontsize=8)
    b = np.linspace(-4, 8, 200)
    ax_gate.plot(b, 1 / (1 + np.exp(-b)), color=core_color("grsn"), lw=2, label=r"$F = \sigma(b_F)$")
    ax_gate.plot([forget_bias], [forget], "o", color="k", label=f"b_F = {forget_bias:.2g}")
    ax_gate.set_xlabel("forget-gate pre-activation $b_F$ (a.u.)")
    ax_gate.set_ylabel("forget gate F (fraction kept per step)")
    ax_gate.set_ylim(0, 1.02)
    ax_gate.set_title("The gate sets the memory time")
    ax_gate.legend(fontsize=8, loc="lower right")
    return fig


def _sequential_colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.1 + 0.75 * i / max(1, n - 1)) for i in range(n)]


def _variant_color(i: int):
    from matplotlib import colormaps

    return colormaps["tab10"](i % 10)
