"""Shared test helpers."""

import importlib.util
import sys
from pathlib import Path

import pytest

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


def raising_stub(*args, **kwargs):
    """A notebook exercise as it is handed out: it raises NotImplementedError with a hint."""
    raise NotImplementedError("the hint of the exercise")


@pytest.fixture
def check_contract(capsys):
    """``check_contract(check, solution, wrong, stub=..., mine=...)`` asserts what every exercise check promises.

    * the reader's own right answer (``mine``; by default a new function that calls the solution) passes: the
      check prints a confirmation ("Correct") and returns the reader's function;
    * the stub (``stub``; by default a function raising ``NotImplementedError``) is reported as the stub, nothing
      is confirmed, and the check returns the reference solution, for the cells below;
    * the reference solution the check handed back is not confirmed as the reader's own (and is returned again);
    * a function that returns None is told that it forgot to return (classes are not called, so not for them);
    * each wrong answer in ``wrong`` (``{hint regex: answer}``) raises an ``AssertionError`` matching its hint.
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

    return run
