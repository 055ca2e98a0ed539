"""Checks for the exercises of the chapter ``energy`` (energy per decision).

Each ``check_*`` compares the reader's answer with the package's counts (:func:`grsn_edu.count_core_ops`,
:func:`grsn_edu.linear_ops`), with the contract of
:func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (while the exercise is a stub: the reference solution, or
a placeholder in the student copy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.snn.cores import make_core
from grsn_edu.snn.energy import count_core_ops
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ, linear_ops

__all__ = ["check_gru_ops", "check_layer_energy"]

_SIZES = [(2, 8), (4, 128), (26, 64)]


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def check_gru_ops(gru_ops: Callable) -> Callable:
    """Exercise 1: ``gru_ops(I, H)`` must return (MAC, AC) per decision equal to what ``count_core_ops`` counts
    on a real ``torch.nn.GRU`` forward pass, for three sizes.

    Returns:
        ``gru_ops`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("gru_ops", gru_ops, _verify_gru_ops, "energy")


def _verify_gru_ops(fn: Callable) -> str:
    for I, H in _SIZES:
        torch.manual_seed(0)
        counted = count_core_ops(make_core("gru", I, H), torch.randn(3, 1, I))
        got = fn(I, H)
        assert isinstance(got, (tuple, list)) and len(got) == 2, f"return a pair (MAC, AC), got {got!r}"
        mac, ac = float(got[0]), float(got[1])
        if mac != counted.total_mac:
            if mac == 3 * H * I + 3 * H * H:
                hint = "the weights are right; add the element-wise products r*(...), z*h and (1-z)*n: 3 per unit."
            elif mac == H * I + H * H or mac == H * I + H * H + 3 * H:
                hint = "a GRU has three gate blocks (r, z, n), each with its own input and recurrent weights."
            elif mac == 3 * H * I + 3 * H:
                hint = "the recurrent weights read h_{t-1}, a real number: 3H x H MACs, not accumulates."
            else:
                hint = mode_hint("count 3H x I input weights, 3H x H recurrent weights and 3 element-wise products "
                                 "per unit.", "count the input and the recurrent weights of each of the GRU's blocks, "
                                 "and the element-wise products per unit.")
            raise AssertionError(f"I={I}, H={H}: the GRU performs {counted.total_mac:.0f} MACs per decision, you "
                                 f"counted {mac:.0f}. Hint: {hint}")
        if ac != counted.total_ac:
            hint = mode_hint("the biases: 3H on the input side and 3H on the recurrent side (PyTorch has both), "
                             "plus 5 element-wise additions per unit (three gate sums, 1 - z, the final sum).",
                             "the biases (PyTorch has them on the input side and on the recurrent side) and the "
                             "element-wise additions per unit.")
            raise AssertionError(f"I={I}, H={H}: the GRU performs {counted.total_ac:.0f} ACs per decision, you "
                                 f"counted {ac:.0f}. Hint: {hint}")
    return "Correct: your counts equal the operations of torch.nn.GRU counted on a forward pass (3 sizes)."


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def check_layer_energy(layer_energy_pj: Callable) -> Callable:
    """Exercise 2: ``layer_energy_pj(spikes, out_features)`` must equal ``linear_ops`` (with a bias) on the same
    spike train, in pJ per step, for three random spike trains.

    Returns:
        ``layer_energy_pj`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("layer_energy_pj", layer_energy_pj, _verify_layer_energy, "energy")


def _verify_layer_energy(fn: Callable) -> str:
    rng = np.random.default_rng(7)
    for T, n_in, n_out, rate in [(10, 16, 8, 0.2), (50, 128, 256, 0.05), (3, 4, 2, 0.5)]:
        spikes = (rng.random((T, n_in)) < rate).astype(np.float32)
        spikes[0, 0] = 1.0  # at least one spike
        truth = linear_ops("layer", torch.as_tensor(spikes), n_out).energy_pj() / T
        got = float(fn(spikes, n_out))
        if not math.isclose(got, truth, rel_tol=1e-6):
            nnz = np.count_nonzero(spikes)
            if math.isclose(got, (T * n_in * n_out * E_MAC_PJ + T * n_out * E_AC_PJ) / T, rel_tol=1e-6):
                hint = ("you charged every synapse a MAC; a binary input costs one AC per spike per target, and a "
                        "silent input nothing.")
            elif math.isclose(got, nnz * n_out * E_AC_PJ / T, rel_tol=1e-6):
                hint = "add the bias: one AC per target at every step."
            elif math.isclose(got, truth * T, rel_tol=1e-6):
                hint = "that is the whole spike train; divide by the number of steps T for the energy per step."
            elif math.isclose(got, (nnz * n_out + T * n_out) * E_MAC_PJ / T, rel_tol=1e-6):
                hint = "an accumulate costs E_AC = 0.9 pJ, not E_MAC."
            else:
                hint = mode_hint("(spikes x targets + steps x targets) accumulates, times 0.9 pJ, divided by the "
                                 "steps.",
                                 "what does a spike cost at each target, what does the bias cost, and per what?")
            raise AssertionError(f"a {T}-step train of {nnz} spikes into {n_out} targets costs {truth:.2f} pJ per "
                                 f"step, you found {got:.2f}. Hint: {hint}")
    return "Correct: your energies equal linear_ops on three spike trains."
