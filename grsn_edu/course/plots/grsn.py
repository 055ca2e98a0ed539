"""Figures for notebooks 03 and 04, the GRSN neuron: its gated current, a hand-built copy, a trained network from
inside (03), and what drives its gates (04).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (a notebook shows it once, as the
cell's value, and a slider can redraw it without piling up open figures), with a title, axes labelled with
units and a legend where there is more than one line. Time is in steps; currents and membrane potentials are in
arbitrary units (a.u.) on the scale of the firing threshold (1 unless stated).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from grsn_edu.course.plots import core_color
from grsn_edu.snn.neurons import gated_current_step, leaky_step
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ

__all__ = [
    "CUE_COLORS",
    "simulate_toy_neuron",
    "plot_toy_neuron",
    "plot_gated_current_pulse",
    "plot_hand_vs_package",
    "plot_grsn_internals",
    "plot_cue_means",
    "plot_learned_parameters",
    "GATE_INPUT_STYLES",
    "plot_gate_input_accuracy",
    "plot_energy_by_layer",
    "plot_gate_energy_vs_spikes",
]

TIME_LABEL = "time t (steps)"
#: one colour per cue of the cue-recall task (cue 0 ... 3)
CUE_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
GRSN_COLOR = core_color("grsn")
LIF_COLOR = core_color("lif")


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# -- 03, section 2: the gated current ---------------------------------------------------------------------------
def plot_gated_current_pulse(forgets: Sequence[float], steps: int = 30,
                             title: str = "The gated current after a single candidate pulse") -> Figure:
    r"""The gated current :math:`c_t` of one neuron with a constant forget gate F, after a candidate
    :math:`\tilde I = 1` at t = 0 and :math:`\tilde I = 0` afterwards, computed with
    :func:`grsn_edu.snn.neurons.gated_current_step`, beside the closed form :math:`(1-F)F^t`.

    Args:
        forgets: the forget-gate values F to draw, each in (0, 1).
        steps: time steps to draw.
        title: the figure title.
    """
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.subplots()
    colors = [colormaps["viridis"](0.1 + 0.75 * i / max(1, len(forgets) - 1)) for i in range(len(forgets))]
    t = np.arange(steps)
    for color, f in zip(colors, forgets):
        pre_f = torch.logit(torch.tensor([[float(f)]]))
        cur, values = torch.zeros(1, 1), []
        for k in range(steps):
            cand_pre = torch.full((1, 1), 20.0 if k == 0 else 0.0)  # tanh(20) = 1 in float32, then tanh(0) = 0
            cur, _, _ = gated_current_step(torch.cat([pre_f, cand_pre], dim=-1), cur)
            values.append(float(cur))
        ax.plot(t, values, "o", color=color, ms=3.5, label=f"F = {f:g}: simulated $c_t$")
        ax.plot(t, (1 - f) * f ** t, "-", color=color, lw=1.2, alpha=0.7)
    ax.plot([], [], "-", color="0.4", label=r"formula $(1-F)\,F^{\,t}$")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("gated current $c_t$ (a.u.)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def simulate_toy_neuron(forget_bias: float, beta: float, cue: float, steps: int = 40, noise: float = 0.5,
                        gain: float = 2.0, drive: float = 0.1, seed: int = 0) -> dict[str, np.ndarray]:
    r"""One GRSN neuron with fixed, hand-set weights and no recurrent input.

    Its forget gate is constant, :math:`F = \sigma(b_F)`; its candidate is :math:`\tilde I_t = \tanh(\text{gain}
    \cdot x_t)`; its membrane receives the gated current plus a constant ``drive`` (a bias :math:`b_x`, which
    brings the membrane near the threshold so that small differences decide spikes). The input :math:`x_t` is a
    cue (``cue``, e.g. +1 or -1) at t = 0 and distractor noise :math:`\mathcal N(0, \text{noise}^2)` afterwards,
    the same noise sample for a given ``seed``.

    Returns:
        ``{"x", "forget", "candidate", "cur", "mem", "spk"}``, each ``(steps,)``.
    """
    generator = torch.Generator().manual_seed(seed)
    x = noise * torch.randn(steps, generator=generator)
    x[0] = cue
    cur, mem = torch.zeros(1, 1), torch.zeros(1, 1)
    names = ("forget", "candidate", "cur", "mem", "spk")
    out = {k: [] for k in names}
    for x_t in x:
        pre = torch.tensor([[forget_bias, gain * float(x_t)]])
        cur, forget, cand = gated_current_step(pre, cur)
        spk, mem = leaky_step(drive + cur, mem, torch.tensor(beta), 1.0)
        for k, v in zip(names, (forget, cand, cur, mem, spk)):
            out[k].append(float(v))
    return {"x": _np(x), **{k: np.asarray(v) for k, v in out.items()}}


def plot_toy_neuron(forget_bias: float = 1.0, beta: float = 0.9, steps: int = 40, noise: float = 0.5,
                    drive: float = 0.1, seed: int = 0) -> Figure:
    """:func:`simulate_toy_neuron` for a cue of +1 and a cue of -1 (same distractors): gated current, membrane
    and spikes. Whatever still differs between the two runs at a late step is the neuron's memory of the cue.

    Args:
        forget_bias: forget-gate pre-activation :math:`b_F`; the gate is :math:`F = \\sigma(b_F)` at every step.
        beta: membrane decay per step.
        steps: time steps.
        noise: distractor standard deviation.
        drive: constant input current besides the gated current.
        seed: distractor sample.
    """
    runs = {cue: simulate_toy_neuron(forget_bias, beta, cue, steps, noise, drive=drive, seed=seed)
            for cue in (1.0, -1.0)}
    forget = float(runs[1.0]["forget"][0])
    t = np.arange(steps)
    fig = Figure(figsize=(9, 5.8), layout="constrained")
    ax_c, ax_u, ax_s = fig.subplots(3, 1, sharex=True, height_ratios=[2, 2, 0.8])
    colors = {1.0: CUE_COLORS[0], -1.0: CUE_COLORS[1]}
    for cue, run in runs.items():
        ax_c.plot(t, run["cur"], "-o", ms=2.5, lw=1.2, color=colors[cue], label=f"cue $x_0$ = {cue:+g}")
        ax_u.plot(t, run["mem"], "-o", ms=2.5, lw=1.2, color=colors[cue], label=f"cue $x_0$ = {cue:+g}")
    ax_u.axhline(1.0, color="#d62728", ls="--", lw=1, label="threshold")
    diff_c = np.abs(runs[1.0]["cur"] - runs[-1.0]["cur"])
    ax_c.set_ylabel("gated current $c_t$ (a.u.)")
    ax_c.set_title(f"gated current, F = σ({forget_bias:.2g}) = {forget:.3f}: difference between the two runs "
                   f"{diff_c[0]:.2g} at t = 0, {diff_c[-1]:.1e} at t = {steps - 1}", fontsize=9)
    ax_c.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes, off the traces
    ax_u.set_ylabel("membrane $U_t$ (a.u.)")
    ax_u.set_title(f"membrane (beta = {beta:.2f}, constant drive {drive:g}) integrates the gated current, "
                   "distractors included", fontsize=9)
    ax_u.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for i, (cue, run) in enumerate(runs.items()):
        times = np.flatnonzero(run["spk"] > 0)
        ax_s.scatter(times, np.full(len(times), -i), marker="|", s=120, color=colors[cue], lw=1.5)
    ax_s.set_yticks([0, -1], [f"cue {cue:+g}: {int(run['spk'].sum())} spikes" for cue, run in runs.items()], fontsize=8)
    ax_s.set_ylim(-1.6, 0.6)
    ax_s.set_ylabel("run")
    ax_s.set_xlabel(TIME_LABEL)
    ax_s.set_title("spikes", fontsize=9)
    fig.suptitle(f"One GRSN neuron with a fixed forget gate: cue at t = 0, distractor noise (std {noise:g}) after")
    return fig


# -- 03, section 3: the hand-built copy -------------------------------------------------------------------------
def plot_hand_vs_package(package_mem, hand_mem, neurons: Sequence[int] = (0, 1, 2), batch_index: int = 0,
                         threshold: float = 1.0,
                         title: str = "Hand-built GRSN against the package's GRSNCore") -> Figure:
    """Membranes of a few neurons from both implementations (left) and their largest difference per step (right).

    Args:
        package_mem, hand_mem: ``(T, B, H)`` membranes of the same input through both implementations.
        neurons: which neurons to draw on the left.
        batch_index: which sequence of the batch to draw on the left.
        threshold: drawn as a dashed line.
        title: the figure title.
    """
    package_mem, hand_mem = _np(package_mem), _np(hand_mem)
    T = package_mem.shape[0]
    t = np.arange(T)
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax, ax_d = fig.subplots(1, 2, width_ratios=[1.4, 1])
    for i, h in enumerate(neurons):
        ax.plot(t, package_mem[:, batch_index, h], "-", color=f"C{i}", lw=1.4, label=f"neuron {h}: GRSNCore")
        ax.plot(t, hand_mem[:, batch_index, h], "o", color=f"C{i}", ms=3.5, mfc="none", label=f"neuron {h}: hand-built")
    ax.axhline(threshold, color="#d62728", ls="--", lw=1, label="threshold")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("membrane $U_t$ (a.u.)")
    ax.set_title(f"membranes of {len(neurons)} neurons, sequence {batch_index}", fontsize=10)
    ax.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # under the axes, off the data
    diff = np.abs(package_mem - hand_mem).reshape(T, -1).max(axis=1)
    shown = np.where(diff > 0, diff, np.nan)
    ax_d.semilogy(t, shown, "o-", color="k", ms=3, lw=1, label="max |difference| over all neurons and sequences")
    ax_d.axhline(np.finfo(np.float32).eps, color="0.5", ls=":", lw=1, label="float32 machine epsilon")
    if np.all(diff == 0):
        ax_d.text(0.5, 0.5, "identical at every step\n(difference exactly 0)", transform=ax_d.transAxes,
                  ha="center", va="center")
        ax_d.set_ylim(1e-9, 1e-5)
    ax_d.set_xlabel(TIME_LABEL)
    ax_d.set_ylabel("|membrane difference| (a.u., log scale)")
    ax_d.set_title("largest difference between the two, per step", fontsize=10)
    ax_d.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    fig.suptitle(title)
    return fig


# -- 03, section 4: inside a trained network --------------------------------------------------------------------
def _neuron_order(record: Mapping[str, torch.Tensor], labels, n_cues: int) -> np.ndarray:
    """Neurons grouped by the cue after which they fire most during the delay, then by that firing rate."""
    spk = _np(record["spk"])[1:]  # (T-1, B, H): after the cue step
    rates = np.stack([spk[:, _np(labels) == k].mean(axis=(0, 1)) for k in range(n_cues)])  # (K, H)
    preferred = rates.argmax(0)
    return np.lexsort((-rates.max(0), preferred))


def plot_grsn_internals(record: Mapping[str, torch.Tensor], labels, index: int, n_cues: int = 4,
                        threshold: float = 1.0, title: str | None = None) -> Figure:
    """One test sequence through a trained GRSN: the input and, for every neuron, the forget gate, the gated
    current, the membrane and the spikes over time.

    Neurons (rows) are sorted by the cue after which they fire most during the delay (over the whole test set),
    the same order in every panel.

    Args:
        record: ``{name: (T, B, ·)}`` from :func:`grsn_edu.course.grsn_parts.record_internals` (needs ``x``, ``forget``,
            ``cur``, ``mem``, ``spk``).
        labels: ``(B,)`` cue of each sequence.
        index: which sequence of the batch to draw.
        n_cues: number of cues (input channels before the go channel).
        threshold: the firing threshold (the membrane colour scale is centred on it).
        title: the figure title (default: cue and delay of the sequence).
    """
    order = _neuron_order(record, labels, n_cues)
    x = _np(record["x"])[:, index]  # (T, I)
    T = x.shape[0]
    panels = [
        ("forget gate $F_t$", _np(record["forget"])[:, index, order], "viridis", dict(vmin=0, vmax=1),
         "F (fraction kept)"),
        ("gated current $c_t$", _np(record["cur"])[:, index, order], "PuOr_r", "sym", "c (a.u.)"),
        ("membrane $U_t$", _np(record["mem"])[:, index, order], "RdBu_r", "thr", "U (a.u.)"),
        ("spikes $o_t$", _np(record["spk"])[:, index, order], "Greys", dict(vmin=0, vmax=1), "spike (0/1)"),
    ]
    fig = Figure(figsize=(10, 10), layout="constrained")
    axes = fig.subplots(5, 1, sharex=True, height_ratios=[0.55, 1, 1, 1, 1])
    edges = np.arange(T + 1) - 0.5
    image = axes[0].pcolormesh(edges, np.arange(x.shape[1] + 1) - 0.5, x.T, cmap="RdBu_r",
                               norm=TwoSlopeNorm(0, min(-1e-6, x.min()), max(1e-6, x.max())))
    axes[0].set_yticks(range(x.shape[1]), [f"cue {k}" for k in range(n_cues)] + ["go"], fontsize=7)
    axes[0].set_ylabel("input channel")
    axes[0].set_title(f"input $x_t$: cue {int(_np(labels)[index])} at t = 0, noise, go signal at t = {T - 1}",
                      fontsize=10)
    fig.colorbar(image, ax=axes[0], label="x (a.u.)", pad=0.01)
    for ax, (name, values, cmap, scale, unit) in zip(axes[1:], panels):
        if scale == "sym":
            lim = max(1e-6, float(np.abs(values).max()))
            kw = dict(norm=TwoSlopeNorm(0, -lim, lim))
        elif scale == "thr":
            lo, hi = float(values.min()), float(values.max())
            kw = dict(norm=TwoSlopeNorm(threshold, min(lo, threshold - 1e-3), max(hi, threshold + 1e-3)))
        else:
            kw = scale
        image = ax.pcolormesh(edges, np.arange(values.shape[1] + 1) - 0.5, values.T, cmap=cmap, **kw)
        ax.set_ylabel("neuron (sorted)")
        ax.set_title(name, fontsize=10)
        fig.colorbar(image, ax=ax, label=unit, pad=0.01)
    axes[-1].set_xlabel(TIME_LABEL)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title or f"Inside a trained GRSN ({values.shape[1]} neurons) on one test sequence")
    return fig


def plot_cue_means(record: Mapping[str, torch.Tensor], labels, neurons: Sequence[int], n_cues: int = 4,
                   title: str = "A few neurons, averaged over the test sequences of each cue") -> Figure:
    """For each chosen neuron: the gated current and the firing probability over time, averaged over the test
    sequences of each cue (one line per cue; band: 10th to 90th percentile of the gated current).

    Args:
        record: ``{name: (T, B, H)}`` with ``cur`` and ``spk``.
        labels: ``(B,)`` cue of each sequence.
        neurons: the neurons to draw, one column each.
        n_cues: number of cues.
        title: the figure title.
    """
    cur, spk, labels = _np(record["cur"]), _np(record["spk"]), _np(labels)
    T = cur.shape[0]
    t = np.arange(T)
    fig = Figure(figsize=(3.2 * len(neurons), 5.0), layout="constrained")
    axes = fig.subplots(2, len(neurons), sharex=True, sharey="row", squeeze=False)
    for j, h in enumerate(neurons):
        for k in range(n_cues):
            sel = labels == k
            c = cur[:, sel, h]
            axes[0, j].fill_between(t, np.percentile(c, 10, axis=1), np.percentile(c, 90, axis=1),
                                    color=CUE_COLORS[k], alpha=0.2, lw=0)
            axes[0, j].plot(t, c.mean(1), color=CUE_COLORS[k], lw=1.5, label=f"cue {k}")
            axes[1, j].plot(t, spk[:, sel, h].mean(1), color=CUE_COLORS[k], lw=1.5, label=f"cue {k}")
        axes[0, j].set_title(f"neuron {h}", fontsize=10)
        axes[1, j].set_xlabel(TIME_LABEL)
        axes[1, j].set_ylim(-0.03, 1.03)
    axes[0, 0].set_ylabel("gated current $c_t$ (a.u.)")
    axes[1, 0].set_ylabel("P(spike at t)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right upper", fontsize=8)  # off the data
    fig.suptitle(f"{title}\nline: mean over the sequences of a cue; band: 10th to 90th percentile of $c_t$",
                 fontsize=11)
    return fig


def plot_learned_parameters(beta, beta_init: float, forget_bias, forget_bias_init: float,
                            title: str = "What training did to the decays and the forget-gate biases") -> Figure:
    """Histograms of the learned per-neuron membrane decay (as used, clamped to [0, 1]) and forget-gate bias,
    each with its initial value marked.

    Args:
        beta: ``(H,)`` learned decay parameters (clamped here to [0, 1], as the neuron uses them).
        beta_init: the initial decay of every neuron.
        forget_bias: ``(H,)`` learned forget-gate biases :math:`b_F`.
        forget_bias_init: their initial value.
        title: the figure title.
    """
    beta_used = np.clip(_np(beta), 0, 1)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_b, ax_f = fig.subplots(1, 2)
    ax_b.hist(beta_used, bins=np.linspace(min(beta_used.min(), beta_init) - 0.01, 1.005, 25), color=GRSN_COLOR,
              label=f"learned ({len(beta_used)} neurons)")
    ax_b.axvline(beta_init, color="k", ls="--", lw=1.2, label=f"initial value {beta_init:g}")
    ax_b.set_xlabel(r"membrane decay $\beta$ per step (as used, clamped to [0, 1])")
    ax_b.set_ylabel("neurons")
    ax_b.set_title(r"membrane decay $\beta$", fontsize=10)
    ax_b.legend(fontsize=8, loc="upper left")
    fb = _np(forget_bias)
    ax_f.hist(fb, bins=20, color=GRSN_COLOR, label="learned")
    ax_f.axvline(forget_bias_init, color="k", ls="--", lw=1.2, label=f"initial value {forget_bias_init:g}")
    ax_f.set_xlabel("forget-gate bias $b_F$ (a.u.)")
    ax_f.set_ylabel("neurons")
    ax_f.set_title(r"forget-gate bias $b_F$ ($F = \sigma(b_F)$ when no spike arrives)", fontsize=10)
    ax_f.legend(fontsize=8)
    for ax in (ax_b, ax_f):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    return fig


# -- 04, section 1: what drives the gates -----------------------------------------------------------------------
#: line style, marker and colour of each ``gate_input`` in the figures of what drives the gates
GATE_INPUT_STYLES = {"spikes": ("-", "o", GRSN_COLOR), "input": ("--", "s", "#1f77b4"), "both": (":", "^", "#9467bd")}
GATE_INPUT_NAMES = {"spikes": "gates from spikes $o_{t-1}$", "input": "gates from input $x_t$",
                    "both": "gates from both $[x_t; o_{t-1}]$"}


def plot_gate_input_accuracy(results, reference=None, reference_label: str = "LIF (chapter 02 sweep)",
                             chance: float | None = None,
                             title: str = "Cue recall: what drives the GRSN gates") -> Figure:
    """Test accuracy against delay for each ``gate_input`` (mean over seeds, band min to max, dots single seeds),
    lines drawn slightly apart horizontally so that equal lines stay visible.

    Args:
        results: DataFrame with ``delay``, ``seed``, ``accuracy`` and ``options`` (``"gate_input=..."``), e.g.
            ``data/gate_input/results.csv`` through :func:`grsn_edu.experiments.memory.load_memory_results`.
        reference: optional DataFrame of another core's runs (``delay``, ``accuracy``), drawn in its core colour.
        reference_label: legend label of the reference.
        chance: if given, a dashed line at chance accuracy.
        title: the figure title.
    """
    fig = Figure(figsize=(8.5, 4.4), layout="constrained")
    ax = fig.subplots()
    delays = sorted(results["delay"].unique())
    shift = {"spikes": 0.96, "input": 1.0, "both": 1.04}
    seeds = results.groupby(["options", "delay"])["seed"].nunique()
    for gate_input, (ls, marker, color) in GATE_INPUT_STYLES.items():
        sub = results[results["options"] == f"gate_input={gate_input}"]
        if sub.empty:
            continue
        stats = sub.groupby("delay")["accuracy"].agg(["mean", "min", "max"])
        d = stats.index.to_numpy() * shift[gate_input]
        ax.fill_between(d, stats["min"], stats["max"], color=color, alpha=0.15, lw=0)
        ax.plot(d, stats["mean"], ls=ls, marker=marker, color=color, ms=5, lw=1.8, label=GATE_INPUT_NAMES[gate_input])
        ax.plot(sub["delay"] * shift[gate_input], sub["accuracy"], ".", color=color, ms=3, alpha=0.7)
    if reference is not None and len(reference):
        stats = reference.groupby("delay")["accuracy"].agg(["mean", "min", "max"])
        color = LIF_COLOR
        ax.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.12, lw=0)
        ax.plot(stats.index, stats["mean"], "-.", marker="d", color=color, ms=4, lw=1.2, label=reference_label)
    if chance is not None:
        ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax.set_xscale("log")
    ax.set_xticks(delays, [str(d) for d in delays])
    ax.minorticks_off()
    ax.set_ylim(0, 1.04)
    ax.set_xlabel("delay D between cue and decision (steps, log scale)")
    ax.set_ylabel("test accuracy (fraction correct)")
    n = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()} to {seeds.max()}"
    ax.set_title(f"{title}\nline: mean of {n} seeds, band: min to max, dots: single seeds", fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def _cost_groups(report) -> dict[str, float]:
    """pJ per decision by part; gate synapses are named by what drives them (their note), so that spike-driven
    and input-driven gates get their own colour."""
    out: dict[str, float] = {}
    for r in report.rows:
        name = r.layer
        if r.layer.startswith("gates"):
            driven = "spike-driven (AC)" if r.note == "spike-driven" else "input-driven (MAC)"
            name = f"gate synapses, {driven}"
        out[name] = out.get(name, 0.0) + r.energy_pj()
    return out


_PART_COLORS = {
    "encoder": "#8c8c8c",
    "gate synapses, spike-driven (AC)": GRSN_COLOR,
    "gate synapses, input-driven (MAC)": "#1f77b4",
    "gating": "#bcbd22",
    "membrane": "#d62728",
}


def plot_energy_by_layer(reports: Mapping[str, object], title: str = "Energy per decision, by layer") -> Figure:
    """Energy per decision, one stacked bar per setting (by part of the layer), with the totals written above.

    Gate synapses are coloured by what drives them (spike-driven: accumulates; input-driven: multiply-accumulates).

    Args:
        reports: ``{label: EnergyReport}`` (:func:`grsn_edu.snn.energy.count_core_ops`), per decision.
        title: the figure title.
    """
    labels = list(reports)
    groups = {lab: _cost_groups(reports[lab]) for lab in labels}
    parts = list(dict.fromkeys(p for g in groups.values() for p in g))
    fig = Figure(figsize=(8.5, 4.4), layout="constrained")
    ax = fig.subplots()
    bottom = np.zeros(len(labels))
    for i, part in enumerate(parts):
        heights = np.array([groups[lab].get(part, 0.0) for lab in labels])
        ax.bar(labels, heights, bottom=bottom, color=_PART_COLORS.get(part, f"C{i}"), label=part, width=0.6)
        bottom += heights
    for x, lab in enumerate(labels):
        r = reports[lab]
        ax.text(x, bottom[x], f"{r.energy_pj():,.0f} pJ\n{r.total_mac:,.0f} MAC, {r.total_ac:,.0f} AC",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, bottom.max() * 1.2)
    ax.set_xlabel("what drives the gates")
    ax.set_ylabel(f"energy per decision (pJ; MAC {E_MAC_PJ} pJ, AC {E_AC_PJ} pJ)")
    ax.legend(fontsize=8, title="part of the layer", title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title)
    return fig


def plot_gate_energy_vs_spikes(gate_energy: Callable[[str, float, int, int], float], input_size: int,
                               hidden_size: int, measured: Mapping[str, tuple[float, float]] | None = None,
                               title: str | None = None) -> Figure:
    """Energy of the gate synapses per decision against the number of spikes arriving at the gates, for the
    three choices of ``gate_input``, from a formula ``gate_energy(gate_input, spikes, input_size, hidden_size)``
    (pJ), with measured points of real networks if given.

    Args:
        gate_energy: the formula (e.g. the solution of the notebook's exercise).
        input_size: I.
        hidden_size: H (spikes range over 0 ... H).
        measured: ``{gate_input: (spikes per decision, gate energy in pJ per decision)}`` measured with
            :func:`grsn_edu.snn.energy.count_core_ops`, drawn as markers.
        title: the figure title.
    """
    spikes = np.linspace(0, hidden_size, 200)
    styles = {g: (ls, color) for g, (ls, _, color) in GATE_INPUT_STYLES.items()}
    names = GATE_INPUT_NAMES
    fig = Figure(figsize=(9, 5.6), layout="constrained")
    ax = fig.subplots()
    curves = {}
    for gate_input, (ls, color) in styles.items():
        curves[gate_input] = np.array([gate_energy(gate_input, float(n), input_size, hidden_size) for n in spikes])
        ax.plot(spikes, curves[gate_input], ls, color=color, lw=2, label=names[gate_input])
    crossing = np.flatnonzero(curves["spikes"] >= curves["input"])
    if len(crossing):
        n = spikes[crossing[0]]
        ax.axvline(n, color="0.4", lw=1, ls="-.",
                   label=f"break-even: {n:.1f} spikes ({n / hidden_size:.0%} of the layer)")
    if measured:
        for gate_input, (n, e) in measured.items():
            what = (f"{n:.1f} spikes in the layer, none reach the gates" if gate_input == "input"
                    else f"{n:.1f} spikes")
            ax.plot([n], [e], "o", color=styles[gate_input][1], ms=8, mec="k",
                    label=f"measured, trained net ({gate_input}): {what}, {e:,.0f} pJ")
    ax.set_xlabel(f"spikes arriving at the gates per decision (of H = {hidden_size} neurons)")
    ax.set_ylabel("gate synapses: energy per decision (pJ)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or f"Gate synapses of a GRSN layer, I = {input_size} inputs, H = {hidden_size} neurons")
    fig.legend(fontsize=8, loc="outside lower center", ncols=2)
    return fig
