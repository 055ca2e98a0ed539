"""Energy per decision of a core: its operations counted on a real forward pass, or from formulas.

:func:`count_core_ops` runs a core and counts its synaptic operations per decision, layer by layer, with the
convention of :mod:`grsn_edu.snn.ops` (a spike-driven synapse costs an accumulate, a real-valued one a
multiply-accumulate). :func:`analytic_ops` gives the same counts from formulas at a chosen firing rate, for sweeps
over sizes and rates; :func:`rate_for_energy` inverts it. Whole trained agents on real episodes are counted by
:mod:`grsn_edu.rl.agent_energy`.

Example:
    >>> import torch
    >>> from grsn_edu import make_core, count_core_ops
    >>> core = make_core("mlp", input_size=4, hidden_size=8)
    >>> report = count_core_ops(core, torch.randn(10, 2, 4))
    >>> report.total_mac, report.total_ac     # 4*8 MACs and 8 bias adds per decision
    (32.0, 8.0)
"""

from __future__ import annotations

import torch

from grsn_edu.snn.cores import READOUTS, core_class
from grsn_edu.snn.neurons import GATE_INPUTS
from grsn_edu.snn.ops import EnergyReport, OpCount, Synapse, linear_ops
from grsn_edu.snn.trace import Trace
from grsn_edu.util.validation import check_int

__all__ = ["count_core_ops", "ops_from_trace", "input_layer_widths", "core_ops_with_binary_inputs", "analytic_ops",
           "rate_for_energy"]


def count_core_ops(core, x: torch.Tensor, state=None, episode_start=None) -> EnergyReport:
    """Run ``core`` on ``x`` ``(T, B, I)`` (no gradients) and count its operations per decision.

    The spikes that drive the spike-driven synapses are the ones measured in this forward pass, so the count
    depends on the input and the weights, as the real cost would. For an agent, add the report of its readout
    (:func:`linear_ops` on the core's measured outputs).

    Returns:
        An :class:`EnergyReport` with one row per layer of the core (``core.op_counts`` gives the formulas).
    """
    trace = Trace()
    with torch.no_grad():
        core(x, state, episode_start=episode_start, trace=trace)
    return ops_from_trace(core, trace, decisions=x.shape[0] * x.shape[1])


def ops_from_trace(core, trace, decisions: int) -> EnergyReport:
    """Per-decision operation counts of ``core`` from a :class:`~grsn_edu.snn.trace.Trace` of ``decisions`` decisions.

    Use this when the trace was recorded over many calls (e.g. an agent acting with T=1 for a whole episode).
    """
    decisions = check_int("decisions", decisions)
    totals = core.op_counts(trace)
    return EnergyReport([r.scaled(1.0 / decisions) for r in totals], decisions)


def _input_synapses(core) -> dict[str, Synapse]:
    return {syn.layer: syn for syn in core.synapses if syn.reads == "x"}


def input_layer_widths(core) -> dict[str, int]:
    """The rows of ``core.op_counts`` that are linear layers reading the core's input ``x``, with their widths.

    ``{row name: out_features}`` from the core's declared synapse layers (``core.synapses``); e.g.
    ``{"input weights": 3 * H}`` for a GRU, ``{"encoder": H}`` for a LIF layer, ``{"encoder": H, "gates": 2 * H}``
    for a GRSN whose gates read the input. A non-TAP core (:class:`~grsn_edu.snn.cores.SubstepCore`) has its
    inner core's layers.
    """
    return {layer: syn.out_features for layer, syn in _input_synapses(core).items()}


def core_ops_with_binary_inputs(core, trace, binary_features: slice | None) -> list[OpCount]:
    """``core.op_counts(trace)`` (totals), with the layers that read the input counted feature by feature.

    The features in ``binary_features`` (one-hot codes, spikes) cost one AC per nonzero entry per target; the
    others dense MACs (:func:`linear_ops` with ``binary_features``). ``None`` gives ``core.op_counts(trace)``.
    """
    rows = core.op_counts(trace)
    if binary_features is None:
        return rows
    inputs = _input_synapses(core)
    x = trace["x"]
    return [linear_ops(r.layer, x, inputs[r.layer].out_features, bias=inputs[r.layer].bias,
                       binary_features=binary_features) if r.layer in inputs else r
            for r in rows]


def _synapse_formula(syn: Synapse, spikes: float, input_spikes: float | None, event_driven: bool) -> OpCount:
    """Operations per update of one synapse layer: ``spikes`` previous spikes of the core, ``input_spikes`` input
    spikes (None: a real-valued input)."""
    width = syn.out_features
    bias = float(width) if syn.bias else 0.0
    if syn.reads == "state":
        return OpCount(syn.layer, float(syn.in_features * width), bias)
    if syn.reads == "x":
        if input_spikes is None or not event_driven:
            return OpCount(syn.layer, float(syn.in_features * width), bias,
                           "real-valued" if input_spikes is None else "dense")
        return OpCount(syn.layer, 0.0, input_spikes * width + bias, "spike-driven")
    if not event_driven:
        return OpCount(syn.layer, float(syn.in_features * width), bias, "dense")
    return OpCount(syn.layer, 0.0, spikes * width + bias, "spike-driven")


def analytic_ops(core: str, input_size: int, hidden_size: int, firing_rate: float = 0.0, *,
                 gate_input: str = "spikes", substeps: int = 1, head_outputs: int = 0, readout: str = "spikes",
                 input_spikes: float | None = None, event_driven: bool = True) -> EnergyReport:
    """Operations per decision of a core (and optionally its readout head) from formulas, at a firing rate.

    The same convention and the same layers as the counts on a real forward pass (the core class's
    ``synapse_layers`` and ``elementwise_ops``): with ``firing_rate`` set to the measured fraction of units
    that spiked at the previous update, the result equals :func:`count_core_ops` exactly
    (``tests/test_energy.py`` checks it). Use it to sweep sizes and rates without running anything.

    Args:
        core: ``mlp``, ``gru``, ``lif``, ``grsn``, ``rleaky``, ``slstm`` or ``grsn-first-release``.
        input_size, hidden_size: I and H.
        firing_rate: r, spikes per unit per spiking update, in [0, 1] (ignored by non-spiking cores); for
            ``grsn-first-release``, whose reset follows the spike within the step, the fraction of units that spike.
        gate_input: GRSN only: ``spikes``, ``input`` or ``both``.
        substeps: S spiking updates per decision (non-TAP); every core row is paid S times.
        head_outputs: A, outputs of a linear readout head on the core (0: no head).
        readout: what the head reads from a spiking core: ``spikes``, ``membrane`` or ``both``.
        input_spikes: None for a real-valued input (MACs); a number of input spikes per update for a
            spike-encoded input (ACs).
        event_driven: True (the convention): a spike-driven synapse costs one AC per spike. False: hardware
            that does not exploit spikes (a GPU running the dense matrix product) pays one MAC per input per
            target for those layers too, spike or not.

    Example:
        >>> analytic_ops("gru", 2, 4).total_mac      # 3H*I + 3H*H + 3H
        84.0
    """
    cls = core_class(core)
    if gate_input not in GATE_INPUTS:
        raise ValueError(f"gate_input must be one of {GATE_INPUTS}, got {gate_input!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if not 0.0 <= float(firing_rate) <= 1.0:
        raise ValueError(f"firing_rate is a fraction of units per update, in [0, 1]; got {firing_rate}")
    I, H = check_int("input_size", input_size), check_int("hidden_size", hidden_size)
    substeps = check_int("substeps", substeps)
    A, r = check_int("head_outputs", head_outputs, minimum=0), float(firing_rate)
    s = r * H  # spikes per update
    options = {name: value for name, value in {"gate_input": gate_input}.items() if name in cls.layer_options}
    rows = [_synapse_formula(syn, s, input_spikes, event_driven) for syn in cls.synapse_layers(I, H, **options)]
    rows += [OpCount(row.layer, row.mac, row.ac) for row in cls.elementwise_ops(H, 1, s, **options)]
    rows = [row.scaled(substeps) for row in rows]
    if A:
        if not cls.spiking or readout == "membrane":
            rows.append(OpCount("readout", float(H * A), float(A)))
        else:
            dense = substeps > 1 or not event_driven  # non-TAP reads rates; dense hardware ignores sparsity
            spike_mac, spike_ac = (float(H * A), 0.0) if dense else (0.0, s * A)
            mem_mac = float(H * A) if readout == "both" else 0.0
            rows.append(OpCount("readout", spike_mac + mem_mac, spike_ac + A))
    return EnergyReport(rows, 1)


def rate_for_energy(target_pj: float, core: str, input_size: int, hidden_size: int, **options) -> float:
    """The firing rate at which :func:`analytic_ops` gives ``target_pj`` per decision (energy is linear in it).

    May lie outside [0, 1]: then no firing rate reaches the target (above 1: the core is cheaper than the target
    even with every unit firing at every update). ``options`` go to :func:`analytic_ops`.

    Example:
        >>> gru = analytic_ops("gru", 2, 128).energy_pj()
        >>> rate_for_energy(0.5 * gru, "grsn", 2, 128) > 1      # GRSN never costs half a GRU here
        True
    """
    e0 = analytic_ops(core, input_size, hidden_size, 0.0, **options).energy_pj()
    e1 = analytic_ops(core, input_size, hidden_size, 1.0, **options).energy_pj()
    if e1 == e0:
        raise ValueError(f"the energy of {core!r} with these options does not depend on the firing rate")
    return (float(target_pj) - e0) / (e1 - e0)
