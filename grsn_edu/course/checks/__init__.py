"""Self-check functions for the notebooks' exercises, one module per chapter (``grsn_edu.course.checks.ch01``).

Every check raises ``AssertionError`` with a hint when the answer is wrong and prints a confirmation when it is
right; ``tests/`` runs each check against its solution and against a wrong answer.
"""

from collections.abc import Callable

__all__ = ["stub_note", "choose"]


def stub_note(name: str) -> None:
    """Tell the reader that ``name`` is still the notebook's stub and that the reference solution runs instead."""
    print(f"`{name}` still returns None (the stub): using the reference solution - replace the stub to check "
          "your own.")


def choose(name: str, answer: Callable, reference: Callable, probe: tuple) -> tuple[Callable, bool]:
    """The function to check: ``(answer, True)``, or ``(reference, False)`` if ``answer(*probe)`` is None (the stub).

    Raises ``AssertionError`` if ``answer`` is not a function (a common slip: passing its result).
    """
    if not callable(answer):
        raise AssertionError(f"pass your function itself, e.g. check_{name}({name}), not {type(answer).__name__}")
    if answer(*probe) is None:
        stub_note(name)
        return reference, False
    return answer, True
