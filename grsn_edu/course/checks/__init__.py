"""Self-check functions for the notebooks' exercises, one module per chapter (``grsn_edu.course.checks.ch01``).

Every exercise follows one convention (Neuromatch Academy's): the notebook holds a stub that raises
``NotImplementedError`` with a hint, the cell after it calls a check, and the solution is one click away in a
collapsed *Solution* block. Every ``check_*`` function keeps the same contract, written once in
:func:`run_check`:

* the answer is still the stub (calling it raises ``NotImplementedError``): the check says so and checks
  nothing;
* the answer is wrong: ``AssertionError`` with a hint (a function that returns None is told it forgot to
  ``return``);
* the answer is right: a one-line confirmation.

A check returns the function the rest of the notebook should use: the reader's own once it passes, the reference
solution while the exercise is still a stub (and the message says so), so that a notebook written as
``lif_step = checks.check_lif_step(lif_step)`` runs top to bottom in a fresh kernel either way. ``tests/`` runs
each check on its solution, on a stub and on typical wrong answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_check", "stub_message", "handed_back_message"]

F = TypeVar("F")


def stub_message(name: str, error: NotImplementedError) -> str:
    """What a check says when ``name`` is still the notebook's stub (``error`` is what the stub raised)."""
    hint = f' ("{error}")' if str(error) else ""
    return (f"Not checked yet: `{name}` is still the stub, it raises NotImplementedError{hint}. Write it in the "
            f"exercise cell, run that cell, then this one again. Until then the cells below use the reference "
            f"solution (the Solution block under this cell shows it).")


def handed_back_message(name: str) -> str:
    """What a check says when it is given the reference solution it handed back earlier."""
    return (f"Not checked: `{name}` is the reference solution, which this check handed back while your exercise "
            f"was still a stub. Write your own in the exercise cell, run that cell, then this one again.")


def run_check(name: str, answer: F, reference: F, verify: Callable[[F], str]) -> F:
    """Check the reader's ``answer`` with ``verify`` and return what the rest of the notebook should use.

    Args:
        name: the exercise's function (or class) name, as the notebook spells it.
        answer: what the reader wrote: a function, or a class for a wrapper exercise.
        reference: the reference solution, returned while ``answer`` is still a stub.
        verify: runs the tests on a function or class; raises ``AssertionError`` with a hint when it is wrong,
            returns the confirmation to print when it is right. If calling the answer raises
            ``NotImplementedError`` anywhere in ``verify``, the answer counts as (still partly) a stub.

    Returns:
        ``answer`` when it passes; ``reference`` when ``answer`` is still the stub (or is ``reference`` itself).

    Raises:
        AssertionError: when ``answer`` is wrong, or is not a function or class at all (a common slip is to pass
            the result of calling it).
    """
    if not callable(answer):
        raise AssertionError(f"pass your function itself, e.g. check_{name}({name}), not {type(answer).__name__} "
                             f"{answer!r:.60}")
    if answer is reference:
        print(handed_back_message(name))
        return reference
    try:
        confirmation = verify(answer if isinstance(answer, type) else _must_return(answer, name))
    except NotImplementedError as error:
        print(stub_message(name, error))
        return reference
    print(confirmation)
    return answer


def _must_return(answer: Callable, name: str) -> Callable:
    """``answer``, turning a result of None (a forgotten ``return``) into an ``AssertionError`` that says so."""

    @functools.wraps(answer)
    def checked(*args, **kwargs):
        result = answer(*args, **kwargs)
        if result is None:
            raise AssertionError(f"`{name}` returned None: did you forget the `return` statement?")
        return result

    return checked
