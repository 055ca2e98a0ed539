"""Checks for the exercises of the chapter ``lif_basics`` (the LIF neuron).

Each ``check_*`` takes the reader's function and tests it against snnTorch itself, with the contract of
:func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (while the exercise is a stub: the reference solution, or
a placeholder in the student copy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import snntorch as snn
import torch
from snntorch import surrogate

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.course.lif_demos import simulate_leaky, spike_function_curves
from grsn_edu.snn.cores import unregister_neuron

__all__ = ["check_lif_step", "check_min_firing_current", "check_atan_surrogate_grad"]


def _as_tensor(value, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(value, dtype=torch.float32)
    except Exception as err:  # noqa: BLE001 - any failure here means the answer has the wrong type
        raise AssertionError(f"{name} should be a tensor (or numbers), got {type(value).__name__}: {err}") from None


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def _verify_lif_step(lif_step: Callable) -> str:
    generator = torch.Generator().manual_seed(1)
    for beta, threshold in ((0.9, 1.0), (0.5, 1.0), (0.8, 0.6)):
        neuron = snn.Leaky(beta=beta, threshold=threshold)
        unregister_neuron(neuron)
        mem = torch.zeros(3, 4)
        for t in range(40):
            cur = 0.15 + 0.6 * torch.rand(3, 4, generator=generator)
            want_spk, want_mem = neuron(cur, mem.clone())
            out = lif_step(cur.clone(), mem.clone(), beta, threshold)
            assert isinstance(out, tuple) and len(out) == 2, (
                f"lif_step should return a pair (spk, mem), got {type(out).__name__}"
            )
            spk, new_mem = (_as_tensor(v, name) for v, name in zip(out, ("spk", "mem")))
            assert new_mem.shape == want_mem.shape, (
                f"mem should keep the shape {tuple(mem.shape)}, got {tuple(new_mem.shape)}"
            )
            if not torch.allclose(new_mem, want_mem, atol=1e-5):
                _explain_mem(new_mem, want_mem, cur, mem, beta, threshold, t)
            assert torch.equal(spk, want_spk), (
                f"the membrane is right but the spikes are not (beta={beta}, threshold={threshold}, step {t}). "
                "A spike is 1.0 exactly when the NEW membrane is strictly above the threshold, U_t > U_thr, else 0.0."
            )
            mem = want_mem
    return "Correct: your lif_step matches snn.Leaky (subtract reset, one step late) on 360 steps."


def _explain_mem(got, want, cur, mem, beta, threshold, t) -> None:
    i = (got - want).abs().argmax()
    where = f"beta={beta}, threshold={threshold}, step {t}: U_t-1={mem.flatten()[i]:.3f}, I_t={cur.flatten()[i]:.3f}"
    expected = f"expected U_t={want.flatten()[i]:.4f}, got {got.flatten()[i]:.4f}"
    leaky = beta * mem + cur
    if torch.allclose(got, leaky, atol=1e-5):
        hint = (
            "you never reset: when the previous membrane was above threshold (the neuron spiked on the previous "
            "step), subtract the threshold: U_t = beta U_t-1 + I_t - R_t U_thr with R_t = 1 if U_t-1 > U_thr."
        )
    elif torch.allclose(got, leaky - (leaky > threshold).float() * threshold, atol=1e-5):
        hint = (
            "you reset on the step of the spike. snnTorch's Leaky resets one step later: the reset R_t is "
            "decided by the PREVIOUS membrane, R_t = 1 if U_t-1 > U_thr."
        )
    elif torch.allclose(got, (1 - (mem > threshold).float()) * leaky, atol=1e-5) or torch.allclose(
        got, (1 - (mem > threshold).float()) * beta * mem + cur, atol=1e-5
    ):
        hint = "that is a reset to zero; this exercise uses snnTorch's default, reset by subtraction of the threshold."
    elif torch.allclose(got, mem + cur - (mem > threshold).float() * threshold, atol=1e-5):
        hint = "the old membrane must decay first: multiply U_t-1 by beta."
    else:
        hint = mode_hint("U_t = beta * U_t-1 + I_t - R_t * U_thr, where R_t = 1 if U_t-1 > U_thr else 0.",
                         "follow the update of section 1 term by term: the reset, the membrane, then the spike.")
    raise AssertionError(f"wrong membrane ({where}): {expected}. Hint: {hint}")


def check_lif_step(lif_step: Callable) -> Callable:
    """Exercise 1: ``lif_step(cur, mem, beta, threshold) -> (spk, mem)`` must match ``snn.Leaky`` step by step.

    Tested on random currents for three (beta, threshold) settings, 40 steps each, from the same previous
    membrane as snnTorch's, so a mistake is reported at the first step where it shows.

    Returns:
        ``lif_step`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("lif_step", lif_step, _verify_lif_step, "lif_basics")


# -- Exercise 2 --------------------------------------------------------------------------------------------------
_SETTINGS = ((0.9, 1.0), (0.5, 1.0), (0.95, 0.5), (0.99, 2.0))  # (beta, threshold)
#: The exact firing onset of each setting (the simulation below brackets it to 3 %); values, not the formula, so
#: that the check can be read without giving the exercise away. tests/test_lif_basics.py keeps them equal to the
#: solution.
_EXACT_ONSETS = (0.1, 0.5, 0.025, 0.02)
_STEPS = 1000


def _verify_min_firing_current(min_firing_current: Callable) -> str:
    answers = []
    for beta, threshold in _SETTINGS:
        answer = float(_as_tensor(min_firing_current(beta, threshold), "the answer"))
        assert answer > 0, (
            f"beta={beta}, threshold={threshold}: your answer {answer:.4g} is not positive; "
            "a current of zero or less never fires."
        )
        answers.append(answer)
    # all settings in one simulation: per setting, one neuron just below and one just above the answer
    currents = torch.tensor([f * a for a in answers for f in (0.97, 1.03)]).expand(_STEPS, -1)
    betas = torch.tensor([beta for beta, _ in _SETTINGS for _ in (0, 1)])
    thresholds = torch.tensor([threshold for _, threshold in _SETTINGS for _ in (0, 1)])
    spk, _ = simulate_leaky(currents, beta=betas, threshold=thresholds)
    fired = (spk.sum(0) > 0).tolist()
    for i, ((beta, threshold), answer, want) in enumerate(zip(_SETTINGS, answers, _EXACT_ONSETS)):
        setting = f"beta={beta}, threshold={threshold}"
        assert not fired[2 * i], (
            f"{setting}: a current of 0.97 x your answer ({0.97 * answer:.4g}) already fires, so your answer is "
            "too large. The membrane need not reach the threshold in one step: it adds up the input. Where "
            "does it settle under a constant current I? (Solve U* = beta U* + I.)"
        )
        assert fired[2 * i + 1], (
            f"{setting}: a current of 1.03 x your answer ({1.03 * answer:.4g}) never fires in {_STEPS} steps, so "
            "your answer is too small. The leak takes (1 - beta) of the membrane away every step."
        )
        assert math.isclose(answer, want, rel_tol=1e-5), (
            f"{setting}: close - the true value is within 3% of your {answer:.6g} - but not exact; "
            "derive it from the fixed point U* = beta U* + I."
        )
    return "Correct: below your current the neuron never fires, just above it always does (4 settings)."


def check_min_firing_current(min_firing_current: Callable) -> Callable:
    """Exercise 2: ``min_firing_current(beta, threshold)`` must bracket the simulated firing onset exactly.

    For four settings, a neuron driven at 0.97 x the answer must never fire and one at 1.03 x must fire
    (``snn.Leaky``, 1000 steps), and the answer must equal the exact value.

    Returns:
        ``min_firing_current`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("min_firing_current", min_firing_current,
                     _verify_min_firing_current, "lif_basics")


# -- Exercise 3 --------------------------------------------------------------------------------------------------
def _verify_atan_surrogate_grad(atan_surrogate_grad: Callable) -> str:
    u = torch.linspace(-3, 3, 601)
    for alpha in (2.0, 5.0, 0.5):
        _, want = spike_function_curves(surrogate.atan(alpha=alpha), u)
        got = _as_tensor(atan_surrogate_grad(u.clone(), alpha), "the derivative")
        assert got.shape == u.shape, (
            f"the derivative should have the shape of u {tuple(u.shape)}, got {tuple(got.shape)}"
        )
        if torch.allclose(got, want, rtol=1e-4, atol=1e-6):
            continue
        docstring_form = 1 / math.pi / (1 + (math.pi * u * alpha / 2) ** 2)
        if torch.allclose(got, docstring_form, rtol=1e-4, atol=1e-6):
            hint = (
                "that is the formula printed in snnTorch's ATan docstring, but it is not the derivative of "
                "(1/pi) arctan(pi alpha u / 2): apply the chain rule once more. The code snnTorch runs has it right."
            )
        elif not math.isclose(float(got[300]), alpha / 2, rel_tol=1e-4):
            hint = f"at u = 0 the derivative is alpha / 2 = {alpha / 2:g}; yours is {float(got[300]):.4g}."
        else:
            hint = "differentiate 1/2 + (1/pi) arctan(pi alpha u / 2) with respect to u."
        i = int((got - want).abs().argmax())
        raise AssertionError(
            f"alpha={alpha}: at u={float(u[i]):.2f} snnTorch's backward pass gives {float(want[i]):.4f}, "
            f"yours {float(got[i]):.4f}. Hint: {hint}"
        )
    return "Correct: your formula equals snnTorch's backward pass for alpha = 2, 5 and 0.5."


def check_atan_surrogate_grad(atan_surrogate_grad: Callable) -> Callable:
    """Exercise 3: ``atan_surrogate_grad(u, alpha)`` must equal the gradient snnTorch's atan surrogate backpropagates.

    Compared with autograd through ``snntorch.surrogate.atan(alpha)`` on 601 points in [-3, 3], for alpha = 2, 5,
    0.5.

    Returns:
        ``atan_surrogate_grad`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("atan_surrogate_grad", atan_surrogate_grad,
                     _verify_atan_surrogate_grad, "lif_basics")
