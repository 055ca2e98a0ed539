"""Self-check functions for the notebooks' exercises, one module per chapter, named as the chapter's notebook
without its number (:func:`grsn_edu.course.exercises.chapter_module`: ``grsn_edu.course.checks.lif_basics`` for
``notebooks/01_lif_basics.ipynb``): a chapter keeps its modules whatever its number.

Every exercise follows one convention (Neuromatch Academy's): the notebook holds a stub that raises
``NotImplementedError`` with a hint, the cell after it calls a check, and the solution is one click away in a
collapsed *Solution* block. Every ``check_*`` function keeps the same contract, written once in
:func:`run_check`:

* the answer is still the stub (calling it raises ``NotImplementedError``): the check says so and checks
  nothing;
* the answer is wrong: ``AssertionError`` with a hint (a function that returns None is told it forgot to
  ``return``);
* the answer is right: a one-line confirmation.

A check never needs a solution to test an answer: it compares it with the package's own code (snnTorch's neuron,
the cores, the mixers, the operation counts), with the environment's true state, or with expected values and
properties written into the check. What it returns is the function the rest of the notebook should use: the
reader's own once it passes. While the exercise is still a stub, that depends on the mode:

* the instructor's copy (the repository's notebooks): the check hands back the reference solution from
  :mod:`grsn_edu.course.solutions`, and the message says so, so that a notebook written as
  ``lif_step = checks.check_lif_step(lif_step)`` runs top to bottom in a fresh kernel either way;
* the student copy (:func:`student_mode`: the solutions package is not installed, or ``GRSN_EDU_STUDENT=1``): the
  check hands back a placeholder that raises :class:`ExerciseNotDone` when a later cell calls it, so the cells
  that do not need the exercise still run and the ones that do say which exercise to finish. Nothing of the
  solution is reachable from the placeholder (its source, ``__wrapped__`` or ``__code__`` are its own). It hands on
  nothing rather than precomputed results: the reference's results at the notebook's inputs would show the
  answer's values, and most exercises' functions are used by no later cell.

``tests/`` runs each check on its solution, on a stub and on typical wrong answers, in both modes.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_check", "student_mode", "mode_hint", "reference_solution", "ExerciseNotDone", "stub_message",
           "student_stub_message", "handed_back_message", "STUDENT_MODE_VARIABLE"]

F = TypeVar("F")

#: The environment variable that turns on student mode where the solutions are installed (``1``: on).
STUDENT_MODE_VARIABLE = "GRSN_EDU_STUDENT"
_SOLUTIONS = "grsn_edu.course.solutions"


class ExerciseNotDone(NotImplementedError):
    """A cell called an exercise's function while the exercise is still a stub (student mode)."""


def student_mode() -> bool:
    """True in the student copy: ``GRSN_EDU_STUDENT=1`` is set, or the package was installed without its solutions.

    Read at every check, so setting the variable in a running kernel takes effect from the next check on.
    """
    if os.environ.get(STUDENT_MODE_VARIABLE, "").strip() not in ("", "0"):
        return True
    return importlib.util.find_spec(_SOLUTIONS) is None


def mode_hint(instructor: str, student: str) -> str:
    """The hint for a wrong answer that no recognised mistake explains: ``instructor`` (it may spell the answer
    out) in the instructor's copy, ``student`` (it names the idea, not the answer) in :func:`student_mode`."""
    return student if student_mode() else instructor


def stub_message(name: str, error: NotImplementedError) -> str:
    """What a check says when ``name`` is still the notebook's stub (``error`` is what the stub raised)."""
    hint = f' ("{error}")' if str(error) else ""
    return (f"Not checked yet: `{name}` is still the stub, it raises NotImplementedError{hint}. Write it in the "
            f"exercise cell, run that cell, then this one again. Until then the cells below use the reference "
            f"solution (the Solution block under this cell shows it).")


def student_stub_message(name: str, error: NotImplementedError) -> str:
    """What a check says in student mode when ``name`` is still the stub: no reference solution is handed on."""
    hint = f' ("{error}")' if str(error) and not isinstance(error, ExerciseNotDone) else ""
    return (f"Not checked yet: `{name}` is still the stub, it raises NotImplementedError{hint}. Write it in the "
            f"exercise cell, run that cell, then this one again. Until then a cell below that calls `{name}` "
            f"stops and says so; the other cells run.")


def handed_back_message(name: str) -> str:
    """What a check says when it is given the reference solution it handed back earlier."""
    return (f"Not checked: `{name}` is the reference solution, which this check handed back while your exercise "
            f"was still a stub. Write your own in the exercise cell, run that cell, then this one again.")


def _not_done_message(name: str) -> str:
    return (f"`{name}` is still the exercise's stub, and this cell needs it. Write it in its exercise cell, run "
            f"that cell and its check, then this cell again.")


def _placeholder(name: str, is_class: bool):
    """What a student-mode check hands on for a stub: it raises :class:`ExerciseNotDone` when used."""
    message = _not_done_message(name)

    def not_done(*args, **kwargs):
        raise ExerciseNotDone(message)

    not_done.__name__ = not_done.__qualname__ = name
    not_done.__doc__ = message
    if is_class:
        return type(name, (), {"__init__": not_done, "__doc__": message})
    return not_done


def reference_solution(chapter: str, name: str):
    """The reference solution ``name`` of the chapter ``chapter`` (``"lif_basics"``), from
    :mod:`grsn_edu.course.solutions`.

    Raises:
        RuntimeError: in student mode, where no check may hand a solution on.
    """
    if student_mode():
        raise RuntimeError("student mode: the checks hand no reference solution on")
    return getattr(importlib.import_module(f"{_SOLUTIONS}.{chapter}"), name)


def run_check(name: str, answer: F, verify: Callable[[F], str], chapter: str) -> F:
    """Check the reader's ``answer`` with ``verify`` and return what the rest of the notebook should use.

    Args:
        name: the exercise's function (or class) name, as the notebook and the solutions module spell it.
        answer: what the reader wrote: a function, or a class for a wrapper exercise.
        verify: runs the tests on a function or class; raises ``AssertionError`` with a hint when it is wrong,
            returns the confirmation to print when it is right. If calling the answer raises
            ``NotImplementedError`` anywhere in ``verify``, the answer counts as (still partly) a stub. It must
            not use the solutions: the student copy has none.
        chapter: the notebook's chapter module, e.g. ``"lif_basics"``: where the reference solution ``name`` lives.

    Returns:
        ``answer`` when it passes. While ``answer`` is still the stub (or is the reference itself): the reference
        solution, or in :func:`student_mode` a placeholder that raises :class:`ExerciseNotDone` when called.

    Raises:
        AssertionError: when ``answer`` is wrong, or is not a function or class at all (a common slip is to pass
            the result of calling it).
    """
    if not callable(answer):
        raise AssertionError(f"pass your function itself, e.g. check_{name}({name}), not {type(answer).__name__} "
                             f"{answer!r:.60}")
    student = student_mode()
    if not student and answer is reference_solution(chapter, name):
        print(handed_back_message(name))
        return answer
    try:
        confirmation = verify(answer if isinstance(answer, type) else _must_return(answer, name))
    except NotImplementedError as error:
        if student:
            print(student_stub_message(name, error))
            return _placeholder(name, isinstance(answer, type))
        print(stub_message(name, error))
        return reference_solution(chapter, name)
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
