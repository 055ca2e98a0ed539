"""Checks for the exercises of the chapter ``energy_claims`` (when "about 50 %" holds).

Each ``check_*`` compares the reader's answer with the package's formulas (:func:`grsn_edu.snn.energy.analytic_ops`),
with the contract of :func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is
reported and not checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line
confirmation; the check returns the function the notebook goes on with (while the exercise is a stub: the
reference solution, or a placeholder in the student copy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from grsn_edu.course.checks import run_check
from grsn_edu.snn.energy import analytic_ops, rate_for_energy

__all__ = ["check_break_even_rate", "reference_break_even_rate"]


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def reference_break_even_rate(input_size: int, hidden_size: int, fraction: float = 1.0) -> float:
    """The firing rate at which :func:`grsn_edu.snn.energy.analytic_ops` gives a TAP GRSN core (spike-driven gates)
    ``fraction`` of a GRU core's energy per decision (cores only, no readout). May lie outside [0, 1]."""
    target = fraction * analytic_ops("gru", input_size, hidden_size).energy_pj()
    return rate_for_energy(target, "grsn", input_size, hidden_size)


def check_break_even_rate(break_even_rate: Callable) -> Callable:
    """Exercise 1: ``break_even_rate(I, H, fraction)`` must give the rate at which the formulas of
    :func:`grsn_edu.snn.energy.analytic_ops` make a GRSN core cost ``fraction`` of a GRU core (4 cases).

    Returns:
        ``break_even_rate`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("break_even_rate", break_even_rate, _verify_break_even_rate, "energy_claims")


def _verify_break_even_rate(fn: Callable) -> str:
    for I, H, fraction in [(2, 128, 0.1), (2, 128, 0.5), (26, 64, 0.2), (4, 16, 1.0)]:
        truth = reference_break_even_rate(I, H, fraction)
        got = float(fn(I, H, fraction))
        if not math.isclose(got, truth, rel_tol=1e-6, abs_tol=1e-9):
            check = analytic_ops("grsn", I, H, min(max(got, 0.0), 1.0)).energy_pj()
            hint = ("write GRSN's energy as a + b * r (a: what it pays with no spikes; b: the gate accumulates "
                    "2H per spike and the reset, per unit of rate) and solve a + b * r = fraction * E_GRU. "
                    "Rates above 1 are allowed: they mean no rate reaches the target.")
            raise AssertionError(f"I={I}, H={H}, fraction {fraction}: the rate is {truth:.4f}, yours {got:.4f} "
                                 f"(at your rate GRSN would cost {check / 1000:.2f} nJ). Hint: {hint}")
    return "Correct: your break-even rates agree with the operation counts (4 cases)."
