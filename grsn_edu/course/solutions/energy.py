"""Solutions to the exercises of the chapter ``energy`` (energy per decision). Try the exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s gru_ops ../grsn_edu/course/solutions/energy.py``.
"""

from __future__ import annotations

__all__ = ["gru_ops", "layer_energy_pj", "E_MAC_PJ", "E_AC_PJ"]

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
    import numpy as np  # here, so that the function runs when pasted into a notebook on its own

    spikes = np.asarray(spikes)
    T = spikes.shape[0]
    acs = np.count_nonzero(spikes) * out_features + T * out_features
    return float(acs * E_AC_PJ / T)
