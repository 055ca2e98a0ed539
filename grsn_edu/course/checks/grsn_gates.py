"""Checks for the exercises of the chapter ``grsn_gates`` (what drives GRSN's gates).

Each ``check_*`` compares the reader's answer with the package (``count_core_ops`` on real ``GRSNCore`` layers),
with the contract of :func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is
reported and not checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line
confirmation; the check returns the function the notebook goes on with (while the exercise is a stub: the
reference solution, or a placeholder in the student copy).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch

from grsn_edu.course.checks import run_check
from grsn_edu.snn.cores import make_core
from grsn_edu.snn.energy import count_core_ops
from grsn_edu.snn.neurons import GATE_INPUTS
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ
from grsn_edu.snn.trace import Trace

__all__ = ["check_gate_energy", "measured_gate_energy"]


def _number(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}: {value!r}") from None


# -- Exercise 1 --------------------------------------------------------------------------------------------------
@functools.cache  # deterministic: each (gate_input, size, seed) is measured once per kernel
def measured_gate_energy(gate_input: str, hidden_size: int, input_size: int, seed: int) -> tuple[float, float]:
    """Run a fresh GRSN core on 20 steps of real-valued input and measure its gate synapses.

    Returns:
        ``(spikes, energy_pj)``: the mean number of spikes arriving at the gates per decision (``o_{t-1}``), and
        the energy of the gate rows of :func:`grsn_edu.snn.energy.count_core_ops` per decision, in pJ.
    """
    torch.manual_seed(seed)
    core = make_core("grsn", input_size, hidden_size, gate_input=gate_input, beta=0.8, threshold=0.5)
    x = 2 * torch.randn(20, 4, input_size, generator=torch.Generator().manual_seed(seed))
    trace = Trace()
    with torch.no_grad():
        core(x, trace=trace)
    spikes = float(trace["spk_prev"].sum()) / (20 * 4)
    report = count_core_ops(core, x)
    return spikes, sum(r.energy_pj() for r in report.rows if r.layer.startswith("gates"))


def check_gate_energy(gate_energy_pj: Callable) -> Callable:
    """Exercise 1: ``gate_energy_pj(gate_input, spikes, input_size, hidden_size)`` must equal the gate energy
    that ``count_core_ops`` measures on real GRSN cores, for every ``gate_input`` and several sizes.

    Returns:
        ``gate_energy_pj`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("gate_energy_pj", gate_energy_pj, _verify_gate_energy, "grsn_gates")


def _verify_gate_energy(fn: Callable) -> str:
    for gate_input in GATE_INPUTS:
        for H, I, seed in ((8, 3, 0), (32, 5, 1), (64, 2, 2)):
            spikes, want = measured_gate_energy(gate_input, H, I, seed)
            got = _number(fn(gate_input, spikes, I, H), "gate_energy_pj(...)")
            if math.isclose(got, want, rel_tol=1e-6):
                continue
            n, T = spikes, 2 * H
            guesses = {
                "the bias is missing: it adds one AC per target (2H of them) at every update.":
                    want - E_AC_PJ * T,
                "the gate layer has 2H targets: H for the forget gate F and H for the candidate current.":
                    want / 2,
                "a spike reaching a synapse only has to be added (one AC, 0.9 pJ), not multiplied.":
                    {"spikes": E_MAC_PJ * T * n + E_AC_PJ * T,
                     "both": E_MAC_PJ * T * (I + n) + E_AC_PJ * T}.get(gate_input),
                "a real-valued input must be multiplied by its weight: I * 2H MACs (4.6 pJ each), spike or not.":
                    {"input": E_AC_PJ * T * I + E_AC_PJ * T, "both": E_AC_PJ * T * (I + n + 1)}.get(gate_input),
                "with gate_input='both' there is one bias, not two.":
                    want + E_AC_PJ * T if gate_input == "both" else None,
                "with gate_input='input' no spikes reach the gates; with 'both' the spike synapses come on top of "
                "the input ones.": {"input": E_AC_PJ * T * (n + 1), "both": E_AC_PJ * T * (n + 1)}.get(gate_input),
            }
            hint = next((h for h, v in guesses.items() if v is not None and math.isclose(got, v, rel_tol=1e-6)),
                        "count the synapses into the 2H gate pre-activations: real inputs cost a MAC each, spikes "
                        "an AC each, plus 2H bias ACs.")
            raise AssertionError(
                f"gate_input={gate_input!r}, H={H}, I={I}, {spikes:.3f} spikes per decision: count_core_ops measures "
                f"{want:.2f} pJ, your function gives {got:.2f} pJ. Hint: {hint}"
            )
    return "Correct: your gate_energy_pj matches count_core_ops on 9 real GRSN cores (3 gate inputs x 3 sizes)."
