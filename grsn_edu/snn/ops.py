r"""Synaptic operations and their energy: the counting convention, and the counts of one layer.

The convention (the one the GRSN paper and most SNN papers use, made explicit here):

* A synapse whose input is **binary** (a spike) costs one **accumulate** (AC) per spike per target: a spiking
  layer with ``n`` input spikes and ``m`` targets performs ``n * m`` ACs; silent inputs cost nothing.
* A synapse whose input is **real-valued** costs one **multiply-accumulate** (MAC) per input per target, spike
  or not: a dense layer ``in -> out`` performs ``in * out`` MACs per input vector.
* Whether an input is binary is read off the measured tensor (every entry exactly 0 or 1), not assumed.
* Inside a neuron: every element-wise multiplication with a real operand (``beta * U``, ``F * c``) is a MAC;
  every addition or subtraction that is not part of a MAC (adding the input current, a bias, the reset) is an
  AC; the reset subtraction is counted only when it happens (a spike on the previous step).
* Not counted: non-linearities (sigmoid, tanh, ReLU), the threshold comparison, memory access and data movement,
  and anything outside the network. Energies are 45 nm figures: E_MAC = 4.6 pJ and E_AC = 0.9 pJ for 32-bit
  floating point (Horowitz, "Computing's energy problem", ISSCC 2014), overridable.

Counts are totals over the forward pass divided by the number of decisions (``T * B``: one per input step and
batch entry; a non-TAP core pays all its sub-steps within one decision). Operations are counted *as executed*:
the non-TAP form presents its input for S sub-steps and recomputes the input layer each time, so that layer's
MACs are counted S times; an implementation that cached the constant input current would pay them once (notebook
08 shows both).

Where the counts are made: a core's, on a forward pass or from formulas, in :mod:`grsn_edu.snn.energy`; a whole
trained agent's on real greedy episodes (only what runs at deployment) in :mod:`grsn_edu.rl.agent_energy`.

Example:
    >>> import torch
    >>> dense = linear_ops("encoder", torch.randn(10, 4), out_features=8)   # 10 real vectors of 4 -> 8
    >>> spikes = linear_ops("readout", torch.tensor([[1., 0., 1.]] * 10), out_features=2)
    >>> report = EnergyReport([dense.scaled(1 / 10), spikes.scaled(1 / 10)], decisions=10)
    >>> report.total_mac, report.total_ac     # 4*8 MACs; 8 bias adds + 2 spikes x 2 targets + 2 bias adds
    (32.0, 14.0)
    >>> round(report.energy_pj(), 1)          # 32 * 4.6 + 14 * 0.9
    159.8
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["E_MAC_PJ", "E_AC_PJ", "OpCount", "EnergyReport", "SYNAPSE_INPUTS", "Synapse", "is_binary", "linear_ops"]


#: Energy of one 32-bit floating-point multiply-accumulate at 45 nm (Horowitz 2014), picojoules.
E_MAC_PJ = 4.6

#: Energy of one 32-bit floating-point accumulate (add) at 45 nm (Horowitz 2014), picojoules.
E_AC_PJ = 0.9

@dataclass(frozen=True)
class OpCount:
    """Operations of one layer (or one part of a neuron): totals or per decision, as the owner says."""

    layer: str
    mac: float = 0.0
    ac: float = 0.0
    note: str = ""

    def scaled(self, factor: float) -> OpCount:
        return OpCount(self.layer, self.mac * factor, self.ac * factor, self.note)

    def energy_pj(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> float:
        return self.mac * e_mac + self.ac * e_ac

#: What a synapse layer may read: the core's input x_t, the core's previous spikes o_{t-1}, or a real-valued
#: recurrent state (a GRU's h_{t-1}, an SLSTM's membrane U_{t-1}).
SYNAPSE_INPUTS = ("x", "spikes", "state")


@dataclass(frozen=True)
class Synapse:
    """A synapse (linear) layer of a core, as a core declares it for counting its operations.

    Each of ``out_features`` targets reads ``in_features`` inputs, plus a bias when ``bias``. What it reads
    (``reads``, one of :data:`SYNAPSE_INPUTS`) decides the cost: ``"x"`` the core's input and ``"spikes"`` the
    core's previous spikes are counted on the measured tensor (:func:`linear_ops`: one AC per spike per target,
    dense MACs for real values); ``"state"``, a real-valued recurrent state, always costs dense MACs.
    ``layer`` names the row in the operation counts; ``note`` is that row's note (empty: :func:`linear_ops`'s).
    """

    layer: str
    reads: str
    in_features: int
    out_features: int
    bias: bool = True
    note: str = ""

    def __post_init__(self):
        if self.reads not in SYNAPSE_INPUTS:
            raise ValueError(f"{self.layer}: reads must be one of {SYNAPSE_INPUTS}, got {self.reads!r}")


@dataclass
class EnergyReport:
    """Per-decision operation counts, by layer, with energy at chosen per-operation costs.

    ``rows`` holds one :class:`OpCount` per layer, already divided by ``decisions``.
    Reports add: ``core_report + head_report`` is the whole agent.
    """

    rows: list[OpCount] = field(default_factory=list)
    decisions: int = 0

    @property
    def total_mac(self) -> float:
        return float(sum(r.mac for r in self.rows))

    @property
    def total_ac(self) -> float:
        return float(sum(r.ac for r in self.rows))

    def energy_pj(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> float:
        """Energy per decision in picojoules."""
        return float(sum(r.energy_pj(e_mac, e_ac) for r in self.rows))

    def by_layer(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> dict[str, float]:
        """``{layer: pJ per decision}``, layers with the same name summed."""
        out: dict[str, float] = {}
        for r in self.rows:
            out[r.layer] = out.get(r.layer, 0.0) + r.energy_pj(e_mac, e_ac)
        return out

    def to_frame(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ):
        """A pandas DataFrame: one row per layer with MAC, AC and energy (pJ) per decision, plus a total row."""
        import pandas as pd

        records = [
            {"layer": r.layer, "MAC": r.mac, "AC": r.ac, "energy_pJ": r.energy_pj(e_mac, e_ac), "note": r.note}
            for r in self.rows
        ]
        records.append(
            {"layer": "total", "MAC": self.total_mac, "AC": self.total_ac, "energy_pJ": self.energy_pj(e_mac, e_ac),
             "note": ""}
        )
        return pd.DataFrame.from_records(records)

    def __add__(self, other: EnergyReport) -> EnergyReport:
        if not isinstance(other, EnergyReport):
            return NotImplemented
        return EnergyReport(self.rows + other.rows, max(self.decisions, other.decisions))

def is_binary(t: torch.Tensor) -> bool:
    """True when every entry of ``t`` is exactly 0 or 1 (a spike tensor)."""
    return bool(((t == 0) | (t == 1)).all())

def linear_ops(layer: str, inputs: torch.Tensor, out_features: int, bias: bool = True, note: str = "",
               binary_features: slice | None = None, event_driven: bool = True) -> OpCount:
    """Total operations of a linear layer applied to every input vector in ``inputs`` ``(..., in_features)``.

    Binary inputs: ``nnz(inputs) * out_features`` ACs (event-driven). Real inputs: ``n * in * out`` MACs
    (dense). A bias adds ``n * out_features`` ACs either way, where ``n`` is the number of input vectors.
    ``event_driven=False`` counts hardware that does not exploit spikes (a GPU's dense matrix product): every
    input costs a MAC per target, binary or not.

    ``binary_features`` (a slice of the feature axis, e.g. ``slice(18, None)``) declares a *mixed* input: those
    features are spikes or one-hot codes (checked: every entry 0 or 1) and cost one AC per nonzero entry per
    target; the other features are real-valued and cost dense MACs. Use it for an input that concatenates
    real observations with one-hot codes, or for a readout of spikes and membrane (``readout="both"``).

    Example:
        >>> import torch
        >>> linear_ops("readout", torch.tensor([[1., 0., 1.]]), out_features=2)   # 2 spikes x 2 targets + 2 bias adds
        OpCount(layer='readout', mac=0.0, ac=6.0, note='spike-driven')
        >>> linear_ops("encoder", torch.tensor([[0.5, -1., 2.]]), out_features=2, bias=False)
        OpCount(layer='encoder', mac=6.0, ac=0.0, note='real-valued')
        >>> linear_ops("encoder", torch.tensor([[0.5, 0., 1.]]), 2, bias=False, binary_features=slice(1, None))
        OpCount(layer='encoder', mac=2.0, ac=2.0, note='1 real + 2 binary features')
        >>> linear_ops("readout", torch.tensor([[1., 0., 1.]]), out_features=2, event_driven=False)
        OpCount(layer='readout', mac=6.0, ac=2.0, note='dense')
    """
    if inputs.dim() < 1:
        raise ValueError("inputs must have shape (..., in_features), got a scalar")
    in_features = inputs.shape[-1]
    n = inputs.numel() // max(in_features, 1)
    bias_ac = float(n * out_features) if bias else 0.0
    if not event_driven:
        return OpCount(layer, float(n * in_features * out_features), bias_ac, note or "dense")
    if binary_features is not None:
        if not isinstance(binary_features, slice):
            raise ValueError(
                f"binary_features must be a slice of the feature axis, e.g. slice(18, None), got {binary_features!r}"
            )
        index = torch.arange(in_features)[binary_features]
        binary = inputs[..., index]
        if not is_binary(binary):
            raise ValueError(
                f"{layer}: the features {binary_features} were declared binary (spikes or one-hot) but hold values "
                "other than 0 and 1; declare only the spike / one-hot features"
            )
        n_real = in_features - len(index)
        acs = float(torch.count_nonzero(binary)) * out_features
        return OpCount(layer, float(n * n_real * out_features), acs + bias_ac,
                       note or f"{n_real} real + {len(index)} binary features")
    if is_binary(inputs):
        spikes = float(torch.count_nonzero(inputs))
        return OpCount(layer, 0.0, spikes * out_features + bias_ac, note or "spike-driven")
    return OpCount(layer, float(n * in_features * out_features), bias_ac, note or "real-valued")
