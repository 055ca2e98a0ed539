"""Solutions to the exercises of the chapter ``grsn_gates`` (what drives GRSN's gates). Try the exercise before
reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s gate_energy_pj ../grsn_edu/course/solutions/grsn_gates.py``.
"""

from __future__ import annotations

from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ

__all__ = ["gate_energy_pj"]


def gate_energy_pj(gate_input: str, spikes: float, input_size: int, hidden_size: int) -> float:
    r"""Exercise 1: energy of the gate synapses of one GRSN layer in one decision (TAP: one update), in pJ.

    The gate layer has 2H targets (H forget-gate and H candidate pre-activations).

    * ``"spikes"``: each of the ``spikes`` arriving spikes costs one accumulate per target, and the bias adds
      2H accumulates: :math:`E = E_{AC}\,2H\,(n + 1)`.
    * ``"input"``: the input is real-valued, so every input costs one multiply-accumulate per target, plus the
      bias: :math:`E = E_{MAC}\,2HI + E_{AC}\,2H`.
    * ``"both"``: both synapse sets, one bias: :math:`E = E_{MAC}\,2HI + E_{AC}\,2H\,(n + 1)`.
    """
    targets = 2 * hidden_size
    spike_part = E_AC_PJ * targets * spikes
    dense_part = E_MAC_PJ * targets * input_size
    bias = E_AC_PJ * targets
    energy = {"spikes": spike_part + bias, "input": dense_part + bias, "both": dense_part + spike_part + bias}
    return float(energy[gate_input])
