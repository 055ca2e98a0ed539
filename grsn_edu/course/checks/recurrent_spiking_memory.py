"""Checks for the exercises of the chapter ``recurrent_spiking_memory`` (recurrent spiking memory).

Each ``check_*`` takes the reader's function, with the contract of :func:`grsn_edu.course.checks.run_check`: a
stub (it raises ``NotImplementedError``) is reported and not checked, a wrong answer raises ``AssertionError``
with a hint, a right one prints a confirmation; the check returns the function the notebook goes on with (while
the exercise is a stub: the reference solution, or a placeholder in the student copy).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from grsn_edu.course.checks import run_check
from grsn_edu.course.lif_demos import simulate_leaky
from grsn_edu.envs.cue_recall import CueRecallTask

__all__ = ["check_steps_to_forget", "check_leaky_integrator_decision", "check_forget_schedule"]


def check_steps_to_forget(steps_to_forget: Callable[[float, float], float]) -> Callable:
    """Exercise 1: ``steps_to_forget(beta, fraction)`` is the number of steps until beta^t <= fraction (inf for
    beta = 1), on 8 settings and beta = 1.

    Returns:
        ``steps_to_forget`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("steps_to_forget", steps_to_forget, _verify_steps_to_forget, "recurrent_spiking_memory")


def _verify_steps_to_forget(fn: Callable) -> str:
    cases = [(0.5, 0.1), (0.8, 0.1), (0.9, 0.1), (0.95, 0.1), (0.99, 0.1), (0.9, 0.5), (0.9, 0.01), (0.3, 0.2)]
    for beta, fraction in cases:
        got = fn(beta, fraction)
        call = f"steps_to_forget({beta}, {fraction}) returned {got!r}"
        assert isinstance(got, numbers.Real) and float(got).is_integer() and got >= 0, (
            f"{call}: the answer is a number of steps, a whole number t >= 0."
        )
        t = int(got)
        assert beta**t <= fraction, (
            f"{call}, but after {t} steps the membrane still holds beta**{t} = {beta**t:.4f} of the pulse, more than "
            f"{fraction}: too few steps. Hint: the membrane after t steps is A*beta**t."
        )
        assert t == 0 or beta ** (t - 1) > fraction, (
            f"{call}, but one step earlier the membrane holds beta**{t - 1} = {beta ** (t - 1):.4f} <= {fraction} "
            f"already: too many steps. Hint: the answer is the smallest whole t with beta**t <= fraction."
        )
    got = fn(1.0, 0.1)
    assert got == math.inf, (
        f"steps_to_forget(1.0, 0.1) returned {got!r}: with beta = 1 the membrane never decays, so return math.inf"
    )
    return (
        "Correct. A LIF neuron keeps more than 10 % of a pulse for "
        + ", ".join(f"{fn(b, 0.1)} steps at beta = {b}" for b in (0.5, 0.9, 0.99))
        + "."
    )


def check_leaky_integrator_decision(
    leaky_integrator_decision: Callable[[torch.Tensor, float, int], torch.Tensor],
) -> Callable:
    """Exercise 2: ``leaky_integrator_decision(x, beta, n_cues)`` is the argmax of the leaky sum of the cue
    channels at the last step, on 256 sequences for each of 3 delays and 3 decays.

    Returns:
        ``leaky_integrator_decision`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("leaky_integrator_decision", leaky_integrator_decision,
                     _verify_leaky_integrator_decision, "recurrent_spiking_memory")


def _verify_leaky_integrator_decision(fn: Callable) -> str:
    for delay in (0, 3, 12):
        task = CueRecallTask(n_cues=4, delay=delay, noise=0.5)
        x, _ = task.sample(256, torch.Generator().manual_seed(7 + delay))
        for beta in (0.5, 0.9, 1.0):
            got = fn(x.clone(), beta, task.n_cues)
            got = torch.as_tensor(got)
            assert got.shape == (256,), (
                f"for x of shape {tuple(x.shape)} (T, B, I) the decision must have shape (B,) = (256,), got "
                f"{tuple(got.shape)}. Hint: take the argmax over the cue dimension of the memory at the last step."
            )
            expected = _leaky_integrator_decision(x, beta, task.n_cues)
            wrong = int((got.long() != expected).sum())
            assert wrong == 0, (
                f"delay {delay}, beta {beta}: {wrong} of 256 decisions differ from the leaky integrator "
                f"m_t = beta * m_(t-1) + x_t[:, :n_cues]. Hints: start from m = 0; decay before adding; use only the "
                f"first n_cues channels (the last channel is the go signal, not a cue); decide at the last step."
            )
    return "Correct: your leaky integrator makes the same decision as the reference on every test sequence."


def _leaky_integrator_decision(x: torch.Tensor, beta: float, n_cues: int) -> torch.Tensor:
    """``(B,)`` the decision of snnTorch's ``Leaky`` without reset (a leaky integrator) fed the cue channels of
    ``x`` ``(T, B, I)``: the argmax of its membranes after the last step."""
    _, mem = simulate_leaky(x[:, :, :n_cues], beta=beta, reset_mechanism="none")
    return mem[-1].argmax(-1)


def _gated_memory_accuracy(schedule: torch.Tensor, task: CueRecallTask, batch_size: int, seed: int) -> float:
    """Accuracy of c_t = F_t c_(t-1) + (1 - F_t) x_t (cue channels), deciding argmax c at the last step."""
    x, labels = task.sample(batch_size, torch.Generator().manual_seed(seed))
    memory = torch.zeros(batch_size, task.n_cues)
    for forget, x_t in zip(schedule, x):
        memory = forget * memory + (1 - forget) * x_t[:, : task.n_cues]
    return float((memory.argmax(-1) == labels).float().mean())


def check_forget_schedule(forget_schedule: Callable[[int], torch.Tensor]) -> Callable:
    """Exercise 3: ``forget_schedule(T)`` is a ``(T,)`` forget-gate schedule with which the gated current recalls
    the cue (at least 99 % at delays 1, 5 and 40).

    Returns:
        ``forget_schedule`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("forget_schedule", forget_schedule, _verify_forget_schedule, "recurrent_spiking_memory")


def _verify_forget_schedule(fn: Callable) -> str:
    accuracies = {}
    for delay in (1, 5, 40):
        task = CueRecallTask(n_cues=4, delay=delay, noise=0.5)
        schedule = torch.as_tensor(fn(task.seq_len), dtype=torch.float32)
        assert schedule.shape == (task.seq_len,), (
            f"forget_schedule({task.seq_len}) must return one gate value per step, shape ({task.seq_len},), "
            f"got {tuple(schedule.shape)}"
        )
        assert bool(((schedule >= 0) & (schedule <= 1)).all()), (
            f"a forget gate is a fraction in [0, 1] (a sigmoid's output); got values from {schedule.min():.3g} "
            f"to {schedule.max():.3g}"
        )
        accuracies[delay] = _gated_memory_accuracy(schedule, task, 2000, seed=100 + delay)
    failed = {d: a for d, a in accuracies.items() if a < 0.99}
    assert not failed, (
        "with your schedule the gated current recalls the cue with accuracy "
        + ", ".join(f"{a:.1%} at delay {d}" for d, a in accuracies.items())
        + " (needed: >= 99 % at every delay). Hint: c_t = F_t c_(t-1) + (1 - F_t) x_t. To store the cue the gate "
        "must let the input in at t = 0 (F small); to hold it, it must keep c unchanged afterwards (F = 1). "
        "A constant F < 1 is a leaky integrator again."
    )
    return (
        "Correct: the gated current recalls the cue with accuracy "
        + ", ".join(f"{a:.1%} at delay {d}" for d, a in accuracies.items())
        + ", whatever the distractors. No fixed beta can do that."
    )
