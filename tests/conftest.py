"""Shared test helpers."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def load_script():
    """``load_script("name")`` imports ``scripts/name.py`` (the experiment scripts are not a package) and returns it."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def check_contract(capsys):
    """``check_contract(check, solution, stub, wrong)`` asserts what every exercise check promises the reader.

    The reference solution prints a confirmation ("Correct"); the notebook's stub (it returns None) is named as
    such and the reference used instead; and each wrong answer in ``wrong`` (``{hint regex: answer}``) raises an
    ``AssertionError`` whose message matches its hint.
    """

    def run(check, solution, stub, wrong: dict):
        check(solution)
        assert "Correct" in capsys.readouterr().out
        check(stub)
        assert "still returns None" in capsys.readouterr().out
        for hint, answer in wrong.items():
            with pytest.raises(AssertionError, match=hint):
                check(answer)

    return run
