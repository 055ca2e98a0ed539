"""Checks for the exercises of the chapter ``grsn`` (the GRSN neuron).

Each ``check_*`` compares the reader's answer with the package (``gated_current_step``, a real ``GRSNCore``),
with the contract of :func:`grsn_edu.course.checks.run_check`: a stub (it raises
``NotImplementedError``) is reported and not checked, a wrong answer raises ``AssertionError`` with a hint, a
right one prints a one-line confirmation; the check returns the function the notebook goes on with (while the
exercise is a stub: the reference solution, or a placeholder in the student copy).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.snn.cores import make_core
from grsn_edu.snn.neurons import gated_current_step
from grsn_edu.snn.trace import Trace

__all__ = ["check_gated_current", "check_plain_leaky"]


def _tensor(value, what: str) -> torch.Tensor:
    try:
        return torch.as_tensor(value, dtype=torch.float32)
    except Exception as err:  # noqa: BLE001 - any failure here means the answer has the wrong type
        raise AssertionError(f"{what} should be a tensor (or numbers), got {type(value).__name__}: {err}") from None


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def check_gated_current(gated_current: Callable) -> Callable:
    """Exercise 1: ``gated_current(forget, candidate, cur_prev)`` must equal the package's GRSN current.

    Compared with :func:`grsn_edu.snn.neurons.gated_current_step` on a worked example and on 1000 random
    (F, candidate, c_{t-1}) triples, F in (0, 1), candidate in (-1, 1).

    Returns:
        ``gated_current`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("gated_current", gated_current, _verify_gated_current, "grsn")


def _verify_gated_current(fn: Callable) -> str:
    generator = torch.Generator().manual_seed(3)
    forget_pre = 3 * torch.randn(1000, generator=generator)
    cand_pre = 2 * torch.randn(1000, generator=generator)
    cur_prev = torch.randn(1000, generator=generator)
    cases = [(torch.logit(torch.tensor([0.8])), torch.atanh(torch.tensor([0.5])), torch.tensor([2.0])),
             (forget_pre, cand_pre, cur_prev)]
    for f_pre, i_pre, c_prev in cases:
        want, forget, cand = gated_current_step(torch.cat([f_pre, i_pre]).view(2, -1).T, c_prev.view(-1, 1))
        want, forget, cand = want.flatten(), forget.flatten(), cand.flatten()
        got = _tensor(fn(forget.clone(), cand.clone(), c_prev.clone()), "the gated current")
        assert got.shape == want.shape, f"c_t should have the shape of F ({tuple(want.shape)}), got {tuple(got.shape)}"
        if torch.allclose(got, want, atol=1e-6):
            continue
        i = int((got - want).abs().argmax())
        f, ca, cp = float(forget[i]), float(cand[i]), float(c_prev[i])
        if torch.allclose(got, forget * cand + (1 - forget) * c_prev, atol=1e-6):
            hint = "F and 1 - F are swapped: the forget gate says how much of the OLD current c_{t-1} is kept."
        elif torch.allclose(got, forget * c_prev + cand, atol=1e-6):
            hint = "the candidate enters weighted by (1 - F), so that c stays a mixture of old and new."
        elif torch.allclose(got, forget * c_prev, atol=1e-6):
            hint = "the new candidate current is missing: it fills the part (1 - F) that was forgotten."
        else:
            hint = mode_hint("c_t = F * c_prev + (1 - F) * candidate, element by element.",
                             "write the gated current's equation of the text term by term, element by element.")
        raise AssertionError(
            f"with F = {f:.4f}, candidate = {ca:.4f}, c_prev = {cp:.4f} the gated current is {float(want[i]):.4f}, "
            f"your function gives {float(got[i]):.4f}. Hint: {hint}"
        )
    return "Correct: your gated_current matches grsn_edu.snn.neurons.gated_current_step on 1001 cases."


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def _gateless_core(seed: int, hidden_size: int, input_size: int = 3):
    torch.manual_seed(seed)
    core = make_core("grsn", input_size, hidden_size, gates=False, beta=0.8, threshold=1.0)
    with torch.no_grad():  # per-neuron decays, as after training, so that a single shared beta is caught
        core.beta.copy_(torch.linspace(0.5, 1.0, hidden_size))
    return core


def check_plain_leaky(plain_leaky: Callable) -> Callable:
    """Exercise 2: ``plain_leaky(encoder, beta, threshold, x)`` must reproduce a ``gates=False`` GRSN core.

    For three cores (H = 4, 16, 32; per-neuron decays from 0.5 to 1) the reader's function gets the core's own
    encoder and decays and 25 steps of random input; spikes must be identical and membranes equal to 1e-5.

    Returns:
        ``plain_leaky`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("plain_leaky", plain_leaky, _verify_plain_leaky, "grsn")


def _verify_plain_leaky(fn: Callable) -> str:
    for seed, H in ((0, 4), (1, 16), (2, 32)):
        core = _gateless_core(seed, H)
        x = 1.5 * torch.randn(25, 3, 3, generator=torch.Generator().manual_seed(seed))
        trace = Trace()
        with torch.no_grad():
            core(x, trace=trace)
            out = fn(core.encoder, core.beta.detach().clone(), core.threshold, x.clone())
        assert isinstance(out, tuple) and len(out) == 2, f"return a pair (spk, mem), got {type(out).__name__}"
        spk, mem = (_tensor(v.detach() if isinstance(v, torch.Tensor) else v, n) for v, n in zip(out, ("spk", "mem")))
        want_spk, want_mem = trace["spk"], trace["mem"]
        assert mem.shape == want_mem.shape, (
            f"mem should have shape (T, B, H) = {tuple(want_mem.shape)}, got {tuple(mem.shape)}: stack the steps"
        )
        if not torch.allclose(mem, want_mem, atol=1e-5):
            t = int((mem - want_mem).abs().amax(dim=(1, 2)).gt(1e-5).nonzero()[0])
            uniform = any(torch.allclose(mem, _uniform_beta_membranes(core, x, b), atol=1e-5) for b in (0.8, 0.9, 0.5))
            if uniform:
                hint = "every neuron has its own beta (a tensor of shape (H,)): pass the whole tensor to snn.Leaky."
            elif t == 0:
                hint = ("already the first step differs: the current is encoder(x_t), and the membrane starts at "
                        "zero.")
            else:
                hint = ("the layer is encoder + snn.Leaky(beta=beta, threshold=threshold) with snnTorch's default "
                        "subtract reset; pass the membrane from one step to the next.")
            raise AssertionError(
                f"H={H}: the membranes differ from the gates=False core first at step {t}. Hint: {hint}"
            )
        assert torch.equal(spk, want_spk), (
            f"H={H}: the membranes match but the spikes do not; return the spikes snn.Leaky gives (0.0 or 1.0)."
        )
    return ("Correct: Linear + snn.Leaky reproduces the gates=False GRSN core: the same spikes, the membranes to "
            "1e-5 (3 layers, 25 steps each).")


def _uniform_beta_membranes(core, x: torch.Tensor, beta: float) -> torch.Tensor:
    """``(T, B, H)`` membranes of a copy of the ``gates=False`` ``core`` whose neurons all share the decay ``beta``."""
    uniform = copy.deepcopy(core)
    trace = Trace()
    with torch.no_grad():
        uniform.beta.fill_(beta)
        uniform(x, trace=trace)
    return trace["mem"]
