"""Checks for the exercises of the chapter ``value_decomposition`` (value decomposition on matrix games).

Each ``check_*`` tests the reader's answer against the code that trained the saved agents
(:class:`grsn_edu.rl.mixers.VDNMixer`, :class:`grsn_edu.rl.mixers.QMixer`) or against known answers, with the
contract of :func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (while the exercise is a stub: the reference solution, or
a placeholder in the student copy).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import run_check
from grsn_edu.course.matrix_games import MATRIX_GAMES
from grsn_edu.rl.mixers import QMixer, VDNMixer

__all__ = ["check_vdn_mix", "check_monotonic_mix", "check_representable", "hypernet_outputs", "EXTRA_TABLES"]


def _close(a, b, atol=1e-5) -> bool:
    return tuple(a.shape) == tuple(b.shape) and torch.allclose(a, b, atol=atol)


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def check_vdn_mix(vdn_mix: Callable) -> Callable:
    """Exercise 1: ``vdn_mix(agent_qs (..., N)) -> (...)`` must equal :class:`grsn_edu.rl.mixers.VDNMixer`.

    Checked on random utilities of shape (T, B, N) = (25, 4, 3) and (B, N) = (7, 2).

    Returns:
        ``vdn_mix`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("vdn_mix", vdn_mix, _verify_vdn_mix, "value_decomposition")


def _verify_vdn_mix(fn: Callable) -> str:
    generator = torch.Generator().manual_seed(0)
    for shape in ((25, 4, 3), (7, 2)):
        q = torch.randn(*shape, generator=generator)
        want = VDNMixer()(q, None)
        got = torch.as_tensor(fn(q))
        if _close(got, want):
            continue
        if tuple(got.shape) == tuple(want.shape) + (1,):
            hint = "drop the kept dimension: the result has one value per sample, shape (...), not (..., 1)."
        elif tuple(got.shape) != tuple(want.shape):
            hint = "sum over the LAST dimension (the agents), dim=-1; the leading dimensions are time and batch."
        elif _close(got, q.mean(-1)):
            hint = "VDN adds the utilities up; a mean divides them by N."
        else:
            hint = "Q_tot = Q_1 + ... + Q_N, a sum over the last dimension."
        raise AssertionError(f"for agent_qs of shape {shape} the answer should have shape {tuple(want.shape)} and "
                             f"equal the sum over agents; got shape {tuple(got.shape)}. Hint: {hint}")
    return "Correct: your vdn_mix equals the VDN mixer the saved agents were trained with."


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def hypernet_outputs(mixer: QMixer, state: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The raw (signed) hypernetwork outputs of a :class:`grsn_edu.rl.mixers.QMixer` for states ``(B, S)``:
    ``w1 (B, N, E)``, ``b1 (B, E)``, ``w2 (B, E)``, ``b2 (B,)``."""
    B = state.shape[0]
    return (mixer.hyper_w1(state).view(B, mixer.n_agents, mixer.embed_dim), mixer.hyper_b1(state),
            mixer.hyper_w2(state), mixer.hyper_b2(state).view(B))


def check_monotonic_mix(monotonic_mix: Callable) -> Callable:
    """Exercise 2: ``monotonic_mix(agent_qs, w1, b1, w2, b2)`` must equal :class:`grsn_edu.rl.mixers.QMixer` and be
    monotonic: dQ_tot/dQ_i >= 0 for every agent, whatever the signs of the raw hypernetwork weights.

    Checked with a QMixer of 3 agents, 8 mixing units and random states (B = 64), and with raw weights drawn at
    random (half of them negative).

    Returns:
        ``monotonic_mix`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("monotonic_mix", monotonic_mix, _verify_monotonic_mix, "value_decomposition")


def _verify_monotonic_mix(fn: Callable) -> str:
    torch.manual_seed(0)
    mixer = QMixer(n_agents=3, state_size=6, embed_dim=8, hypernet_hidden=16)
    generator = torch.Generator().manual_seed(1)
    state = torch.randn(64, 6, generator=generator)
    q = (3 * torch.randn(64, 3, generator=generator)).requires_grad_(True)
    with torch.no_grad():
        raw = hypernet_outputs(mixer, state)
        want = mixer(q, state)
    got = fn(q, *raw)
    assert got is not None and tuple(torch.as_tensor(got).shape) == (64,), (
        f"for agent_qs of shape (64, 3) the answer should have shape (64,), got "
        f"{None if got is None else tuple(torch.as_tensor(got).shape)}. Hint: one Q_tot per sample; sum the "
        "second layer over the E mixing units."
    )
    grad = torch.autograd.grad(got.sum(), q, allow_unused=True)[0]
    assert grad is not None, "Q_tot does not depend on agent_qs: use them (and keep them in the autograd graph)."
    if (grad < -1e-6).any():
        raise AssertionError(
            f"dQ_tot/dQ_i is negative for {int((grad < -1e-6).sum())} of {grad.numel()} (sample, agent) pairs, so "
            "an agent raising its own Q_i could lower the team's value, and its own argmax would no longer be the "
            "team's. Hint: make both weight tensors non-negative with .abs() (w1 and w2; the biases may keep "
            "their signs)."
        )
    if not _close(got.detach(), want, atol=1e-4):
        w1, b1, w2, b2 = raw
        linear = torch.einsum("bn,bne->be", q, w1.abs()) + b1
        relu = (torch.relu(linear) * w2.abs()).sum(-1) + b2
        plain = (linear * w2.abs()).sum(-1) + b2
        if _close(got.detach(), relu.detach(), atol=1e-4):
            hint = "QMIX uses ELU between the layers, not ReLU (torch.nn.functional.elu)."
        elif _close(got.detach(), plain.detach(), atol=1e-4):
            hint = "apply ELU to the hidden layer: without it the mix is linear (a weighted VDN)."
        else:
            hint = "hidden = ELU(q @ |W1| + b1), shape (B, E); Q_tot = hidden . |w2| + b2, shape (B,)."
        i = int((got.detach() - want).abs().argmax())
        raise AssertionError(f"sample {i}: QMixer gives Q_tot = {want[i]:.4f}, yours {float(got.detach()[i]):.4f}. "
                             f"Hint: {hint}")
    # monotonic whatever the raw weights are, not only for this mixer's
    w1 = torch.randn(64, 3, 8, generator=generator)
    w2 = torch.randn(64, 8, generator=generator)
    q2 = torch.randn(64, 3, generator=generator).requires_grad_(True)
    out = fn(q2, w1, torch.randn(64, 8, generator=generator), w2, torch.randn(64, generator=generator))
    grad = torch.autograd.grad(out.sum(), q2)[0]
    assert (grad >= -1e-6).all(), (
        "with raw weights of both signs, dQ_tot/dQ_i becomes negative: take .abs() of w1 and w2 inside the mix."
    )
    return "Correct: your monotonic_mix equals QMIX's mixer and dQ_tot/dQ_i >= 0 for every agent."


# -- Exercise 3 --------------------------------------------------------------------------------------------------
#: Test tables for exercise 3 beyond :data:`grsn_edu.course.matrix_games.MATRIX_GAMES`: ``name -> (payoff, answer,
#: hint for a wrong answer)``.
EXTRA_TABLES = {
    "a table that grows along each row but in no order down the columns": (
        np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 4.0], [6.0, 7.0, 8.0]]), False,
        "the table must grow down every column too, not only along the rows: check both axes."),
    "a table that grows down each column but in no order along the rows": (
        np.array([[0.0, 2.0, 6.0], [1.0, 3.0, 7.0], [5.0, 4.0, 8.0]]), False,
        "the table must grow along every row too, not only down the columns: check both axes."),
    "a table that grows both ways in reverse order": (
        np.array([[9.0, 5.0, 4.0], [6.0, 3.0, 2.0], [5.0, 1.0, 0.0]]), True,
        "read from the last row and column it grows both ways: try every order of the rows and of the columns."),
    "a 2 x 2 table with a tie": (
        np.array([[1.0, 1.0], [0.0, 1.0]]), True,
        "equal neighbours are allowed: the table must not decrease (differences >= 0), it need not strictly grow."),
    "a 4 x 4 table in shuffled order": (
        np.array([[3.0, 1.0, 0.0, 2.0], [7.0, 5.0, 1.0, 6.0], [4.0, 2.0, 0.0, 3.0], [9.0, 8.0, 2.0, 8.0]]), True,
        "it grows both ways in some order of its 4 rows and 4 columns: try every order, for any number of actions."),
}
_GAME_HINTS = {
    "additive": ("its rows and columns grow once the actions are put in another order (an action's number is only "
                 "a label): try every order of the rows and of the columns (itertools.permutations)."),
    "coordination": ("it already grows down every column and along every row in the order given, with ties: the "
                     "table must not decrease (differences >= 0), it need not strictly grow."),
    "penalty": ("no order makes it grow both ways: whichever row comes last, some cell gets smaller along it "
                "(8 next to -12, or -12 next to 0)."),
    "climb": "no order makes it grow both ways: action 0 pays 11 or -30 depending on the partner.",
}


def check_representable(representable_by_monotonic_mix: Callable) -> Callable:
    """Exercise 3: ``representable_by_monotonic_mix(payoff (A, A)) -> bool`` must say whether some order of the
    rows and of the columns makes the table non-decreasing along both (then, and only then, a mix monotonic in
    each agent's utility reproduces it exactly).

    Checked on the four games of :data:`grsn_edu.course.matrix_games.MATRIX_GAMES` and on :data:`EXTRA_TABLES`.

    Returns:
        ``representable_by_monotonic_mix`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("representable_by_monotonic_mix", representable_by_monotonic_mix, _verify_representable,
                     "value_decomposition")


def _verify_representable(fn: Callable) -> str:
    cases = {f"the {name} game": (table, name in ("additive", "coordination"), _GAME_HINTS[name])
             for name, table in MATRIX_GAMES.items()}
    cases.update(EXTRA_TABLES)
    for name, (table, want, hint) in cases.items():
        got = fn(table.copy())
        if not isinstance(got, (bool, np.bool_)):
            raise AssertionError(f"for {name} the answer should be True or False, got {type(got).__name__} "
                                 f"{got!r:.60}. Hint: return one bool for the whole table.")
        if bool(got) != want:
            raise AssertionError(f"for {name},\n{table}\nthe answer is {want}, yours {bool(got)}. Hint: {hint}")
    return (f"Correct: your representable_by_monotonic_mix agrees on all {len(cases)} tables (the four games and "
            f"{len(EXTRA_TABLES)} more).")
