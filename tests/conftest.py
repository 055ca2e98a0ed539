"""Shared test helpers."""

import ast
import importlib.util
import inspect
import sys
import textwrap
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from grsn_edu.course.checks import STUDENT_MODE_VARIABLE, ExerciseNotDone
from grsn_edu.course.exercises import chapter_module

ROOT = Path(__file__).resolve().parents[1]


def import_file(folder: str, name: str):
    """Import ``folder/name.py`` (scripts/ and benchmarks/ are not packages) and return the module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # registered, as an import would: dataclasses and pickling look a module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_script():
    """``load_script("name")`` imports ``scripts/name.py`` and returns it."""
    return lambda name: import_file("scripts", name)


@pytest.fixture(scope="session")
def peer_benchmark():
    """``scripts/peer_ppo.py``, imported once."""
    return import_file("scripts", "peer_ppo")


def solutions_module(notebook: Path):
    """The solutions module of ``notebook``'s chapter (``grsn_edu.course.solutions.<chapter_module>``), or None where
    the chapter has none (a chapter without exercises)."""
    name = f"grsn_edu.course.solutions.{chapter_module(notebook.name)}"
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None


def raising_stub(*args, **kwargs):
    """A notebook exercise as it is handed out: it raises NotImplementedError with a hint."""
    raise NotImplementedError("the hint of the exercise")


def assert_labelled(fig) -> None:
    """``fig`` is a figure a reader understands without the code: a title, an x label, and on every panel that draws
    data a y label (a rendered picture, which has no y axis, excepted)."""
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), "the figure needs a title"
    data_axes = [ax for ax in fig.axes if ax.has_data()]
    assert data_axes, "the figure draws nothing"
    for ax in data_axes:
        if ax.images:  # a picture (a rendered frame) has no y axis to label
            continue
        assert ax.get_ylabel() or ax.get_yticklabels(), "every panel needs a y label"
    assert any(ax.get_xlabel() for ax in fig.axes), "the figure needs an x label"


def solution_code_lines(solution, min_length: int = 12) -> list[str]:
    """The lines of a solution's source that are code (its docstring and comments left out), stripped, of more than
    ``min_length`` characters."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(solution)))
    node = tree.body[0]
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    code = "\n".join(ast.unparse(statement) for statement in body)
    return [line.strip() for line in code.splitlines() if len(line.strip()) > min_length]


def assert_reveals_nothing(handed_on, solution) -> None:
    """Nothing of ``solution`` can be read back from ``handed_on``: not the object itself, not its source text
    (``inspect.getsource``), not through ``__wrapped__``, ``__code__``, its closure or a class's methods."""
    assert handed_on is not solution
    objects = [handed_on, *vars(handed_on).values()] if isinstance(handed_on, type) else [handed_on]
    for obj in objects:
        assert getattr(obj, "__wrapped__", None) is None, "it wraps another function"
        code = getattr(obj, "__code__", None)
        assert code is None or code is not getattr(solution, "__code__", None)
        cells = [c.cell_contents for c in (getattr(obj, "__closure__", None) or ())]
        assert solution not in cells, "it keeps the solution in its closure"
    try:
        text = inspect.getsource(handed_on)
    except (OSError, TypeError):  # a class made on the fly has no source file: nothing to read
        text = ""
    leaked = [line for line in solution_code_lines(solution) if line in text]
    assert not leaked, f"its source shows the solution's lines {leaked}"


@pytest.fixture
def check_contract(capsys, monkeypatch):
    """``check_contract(check, solution, wrong, stub=..., mine=...)`` asserts what every exercise check promises.

    * the reader's own right answer (``mine``; by default a new function that calls the solution) passes: the
      check prints a confirmation ("Correct") and returns the reader's function;
    * the stub (``stub``; by default a function raising ``NotImplementedError``) is reported as the stub, nothing
      is confirmed, and the check returns the reference solution, for the cells below;
    * the reference solution the check handed back is not confirmed as the reader's own (and is returned again);
    * a function that returns None is told that it forgot to return (classes are not called, so not for them);
    * each wrong answer in ``wrong`` (``{hint regex: answer}``) raises an ``AssertionError`` matching its hint;
    * in student mode (``GRSN_EDU_STUDENT=1``) the right answer passes, the first wrong answer fails, and the stub
      gets a placeholder that raises ``ExerciseNotDone`` and from which nothing of the solution can be read back.
    """

    def run(check, solution, wrong: dict, stub=raising_stub, mine=None):
        if mine is None:
            assert not isinstance(solution, type), "pass mine= for a class exercise"
            mine = lambda *args, **kwargs: solution(*args, **kwargs)  # noqa: E731 - a copy, not the solution object
        assert check(mine) is mine
        out = capsys.readouterr().out
        assert "Correct" in out and "stub" not in out
        assert check(stub) is solution
        out = capsys.readouterr().out
        assert "stub" in out and "NotImplementedError" in out and "Correct" not in out
        assert check(solution) is solution
        out = capsys.readouterr().out
        assert "reference solution" in out and "Correct" not in out
        if not isinstance(solution, type):
            with pytest.raises(AssertionError, match="returned None"):
                check(lambda *args, **kwargs: None)
        for hint, answer in wrong.items():
            with pytest.raises(AssertionError, match=hint):
                check(answer)
        capsys.readouterr()
        with monkeypatch.context() as student:
            student.setenv(STUDENT_MODE_VARIABLE, "1")
            assert check(mine) is mine
            assert "Correct" in capsys.readouterr().out
            handed_on = check(stub)
            out = capsys.readouterr().out
            assert "stub" in out and "reference solution" not in out and "Correct" not in out
            assert_reveals_nothing(handed_on, solution)
            with pytest.raises(ExerciseNotDone, match="still the exercise's stub"):
                handed_on(None)
            assert check(handed_on) is not solution  # the placeholder checked again: still a stub
            assert "stub" in capsys.readouterr().out
            for hint, answer in list(wrong.items())[:1]:
                with pytest.raises(AssertionError, match=hint):
                    check(answer)
        capsys.readouterr()

    return run
