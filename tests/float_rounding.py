"""How far apart two float32 results of one formula may be when they come from different kernels.

Acting (one environment step per call) and the replay of a stored sequence (one call per sequence) compute the same
numbers in exact arithmetic, but they multiply matrices of different shapes, and a BLAS such as MKL picks its kernel
by shape and by CPU: the products are summed in another order and round differently. Two such results agree to the
float32 rounding of the quantity, not bit for bit; a test that wants them bit-equal passes on one CPU and fails on
another. Bit-equality stays right for the same computation run twice (same shapes, same machine and versions).

The bound. float32 rounds every operation to within the unit roundoff u = 2^-24 (about 6e-8) of its exact result,
relatively. A value that accumulates ``terms`` rounded operations (a dot product of n terms has n; a recurrent
core adds one such sum per step, and its errors are carried, not amplified, by a state that decays or is gated) is
at worst ``terms * u`` from the exact value, relative to the sum of the magnitudes it adds up (Higham, *Accuracy
and Stability of Numerical Algorithms*, 2002, section 3.1). Rounding errors have random signs, though, and grow
like ``sqrt(terms) * u``: with independent errors of mean zero the error stays below ``lam * sqrt(terms) * u`` times
that magnitude with probability at least ``1 - 2 * terms * exp(-lam**2 / 2)`` (Higham and Mary, SIAM J. Sci.
Comput. 41, 2019, theorem 2.4); ``lam = 6`` makes that 1 - 3e-5 for a thousand terms. Each of the two kernels is
that close to the exact value, so they are twice that close to each other: :func:`rounding_tolerance`.

Spikes are a threshold of such values, so two kernels give the same spikes unless a membrane lies within that
distance of the threshold (:func:`assert_spikes_cannot_flip` checks a test's input keeps it away).
"""

from __future__ import annotations

import math

import torch

#: float32's unit roundoff u: a rounded result is within u of the exact one, relatively.
UNIT_ROUNDOFF = 2.0**-24
#: The gap between 1 and the next float32 above it: how coarsely a probability ratio near 1 is stored.
ONE_ULP_ABOVE_ONE = 2.0**-23
#: lam of the probabilistic bound (see the module's docstring).
CONFIDENCE = 6.0


def rounding_tolerance(terms: int, scale: float = 1.0) -> float:
    """How far two float32 evaluations of one value by different kernels may be apart.

    Args:
        terms: rounded operations accumulated along the longest chain that computes the value.
        scale: a bound on the magnitudes that chain adds up (1 for inputs, weights and units of order one).

    Returns:
        ``2 * CONFIDENCE * sqrt(terms) * UNIT_ROUNDOFF * scale``.
    """
    return 2 * CONFIDENCE * math.sqrt(terms) * UNIT_ROUNDOFF * scale


def replay_terms(agent, steps: int) -> int:
    """The rounded operations behind one log-probability (or value) of a :class:`RecurrentActorCritic` replayed over
    ``steps`` steps: each step's (sub-)updates sum ``input + hidden + 1`` products into the state, then the head sums
    ``output + 1`` and the log-softmax ``n_actions``."""
    core = agent.core
    per_update = core.input_size + core.hidden_size + 1
    return steps * core.substeps * per_update + core.output_size + 1 + agent.n_actions


def approx_kl_tolerance(logratio_tolerance: float) -> float:
    """How far from 0 PPO's ``approx_kl`` may be when the policy did not change, only the kernels did.

    ``approx_kl`` is the mean of ``(r - 1) - log r`` with ``r = exp(log r)``: in exact arithmetic 0 for
    ``log r = 0`` and ``(log r)^2 / 2 + O((log r)^3)`` for a small log-ratio, so second order in a rounding
    difference ``d`` of the log-probabilities. In float32, though, ``r = exp(d)`` is stored as a float next to 1, and
    floats next to 1 are ``ONE_ULP_ABOVE_ONE`` apart (half that below 1): ``r - 1`` is off ``d`` by up to one such
    step whatever the size of ``d`` (exp is accurate to within an ulp), so each term, and their mean, lies within
    ``ONE_ULP_ABOVE_ONE + d^2`` of 0, of either sign. First order in the rounding of the ratio, not second.
    """
    return ONE_ULP_ABOVE_ONE + logratio_tolerance**2


def assert_agree_to_rounding(a: torch.Tensor, b: torch.Tensor, terms: int, what: str = "values") -> float:
    """Assert ``a`` and ``b`` (two kernels' results of one formula) are within :func:`rounding_tolerance` of each
    other, at the scale of their largest magnitude (at least 1); return the tolerance used."""
    a, b = a.detach(), b.detach()
    scale = max(1.0, float(b.abs().max()))
    tolerance = rounding_tolerance(terms, scale)
    gap = float((a - b).abs().max())
    assert gap <= tolerance, f"{what} differ by {gap:.2e}, more than float32 rounding ({tolerance:.2e})"
    return tolerance


def assert_spikes_cannot_flip(potential: torch.Tensor, threshold: float, terms: int) -> None:
    """Assert no ``potential`` lies within rounding of ``threshold``, so spikes computed from it by two kernels are
    equal (then an exact comparison of the spikes holds on any CPU).

    Args:
        potential: the values the spike function compared with ``threshold`` (a membrane before its reset).
        threshold: the firing threshold.
        terms: rounded operations behind each potential (see :func:`rounding_tolerance`).
    """
    potential = potential.detach()
    tolerance = rounding_tolerance(terms, max(1.0, float(potential.abs().max())))
    margin = float((potential - threshold).abs().min())
    assert margin > tolerance, (
        f"a membrane lies {margin:.1e} from the threshold, within float32 rounding ({tolerance:.1e}): its spike may "
        "differ between kernels; take another input"
    )
