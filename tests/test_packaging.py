"""The set-up files agree with each other: pins, the README's commands, CI."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    return reqs


def _environment_yml_pins():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    return [m.group(1) for line in lines if (m := re.match(r"^\s+- ([A-Za-z0-9_.\-]+==\S+)\s*$", line))]


def test_every_dependency_is_pinned_exactly():
    for req in _pyproject_pins():
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.\-]*", req), f"{req!r} is not an exact pin"


def test_environment_yml_matches_pyproject():
    assert sorted(_environment_yml_pins()) == sorted(_pyproject_pins())


def test_torch_is_the_pinned_cpu_release():
    assert "torch==2.13.0" in _pyproject_pins()


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in ci if line.strip() and not line.strip().startswith("#")]
    assert commands[-1] == "make test"


def test_notebooks_are_numbered_in_sequence():
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    numbers = [int(n[:2]) for n in names]
    assert numbers == list(range(1, len(numbers) + 1)), names
