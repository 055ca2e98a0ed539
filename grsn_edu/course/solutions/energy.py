"""Solutions to the exercises of the chapter ``energy`` (energy per decision). Try the exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s gru_ops ../grsn_edu/course/solutions/energy.py``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gru_ops", "layer_energy_pj", "break_even_rate", "E_MAC_PJ", "E_AC_PJ"]

E_MAC_PJ = 4.6  # one 32-bit float multiply-accumulate at 45 nm (Horowitz 2014), picojoules
E_AC_PJ = 0.9  # one 32-bit float add


def gru_ops(input_size: int, hidden_size: int) -> tuple[float, float]:
    """Exercise 1: (MAC, AC) per decision of one GRU layer (``torch.nn.GRU``), input I, hidden H.

    Three gate blocks (reset r, update z, candidate n), each with an input weight matrix (H x I) and a recurrent
    one (H x H), both with a bias. The input x_t and the state h_{t-1} are real-valued, so every weight costs a
    MAC. Element-wise: r * (W_hn h + b_hn), z * h, (1 - z) * n are 3 multiplies per unit; the three gate sums,
    1 - z and the final sum are 5 additions per unit.
    """
    I, H = input_size, hidden_size
    mac = 3 * H * I + 3 * H * H + 3 * H  # input weights, recurrent weights, element-wise products
    ac = 3 * H + 3 * H + 5 * H  # input biases, recurrent biases, element-wise additions
    return float(mac), float(ac)


def layer_energy_pj(spikes, out_features: int) -> float:
    """Exercise 2: energy per step (pJ) of a linear layer with a bias, driven by the spike train ``spikes``.

    ``spikes`` ``(T, in_features)`` holds 0 or 1. Each spike adds its weights to the ``out_features`` targets
    (one AC each); each step adds the bias to every target (one AC each). No multiplications.
    """
    spikes = np.asarray(spikes)
    T = spikes.shape[0]
    acs = np.count_nonzero(spikes) * out_features + T * out_features
    return float(acs * E_AC_PJ / T)


def break_even_rate(input_size: int, hidden_size: int, fraction: float = 1.0) -> float:
    """Exercise 3: the firing rate at which a TAP GRSN core (gates driven by spikes) costs ``fraction`` of a GRU.

    Per decision, at firing rate r (s = r * H spikes per update):
    GRSN: encoder I*H MAC + H AC; gates 2H*s + 2H AC; gating 2H MAC + 2H AC; membrane H MAC + 2H + s AC.
    GRU: see :func:`gru_ops`. GRSN's energy is a + b r; solve a + b r = fraction * E_GRU for r.
    """
    I, H = input_size, hidden_size
    e_mac, e_ac = 4.6, 0.9  # pJ per MAC and per AC (written out so that this function loads on its own)
    e_gru = (3 * H * I + 3 * H * H + 3 * H) * e_mac + 11 * H * e_ac  # as in gru_ops
    a = (I * H + 3 * H) * e_mac + 7 * H * e_ac  # what GRSN pays with no spikes at all
    b = (2 * H * H + H) * e_ac  # per unit of firing rate: gate accumulates and resets
    return (fraction * e_gru - a) / b
