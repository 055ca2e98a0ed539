"""The notebooks' exercises follow one convention (Neuromatch Academy's), checked on the notebook files themselves.

* An exercise cell defines a stub whose every function raises ``NotImplementedError`` with a hint.
* The next code cell is its check, ``name = checks.check_...(name)``: the check hands back the function the rest
  of the notebook uses (the reference solution while the stub is unwritten).
* Right after the check, a collapsed *Solution* block shows the solution: its code is exactly the source of the
  solutions module (so the two cannot drift), it runs when pasted into the notebook (every name it uses is
  imported by an earlier cell), and its ``%load`` line names that module's file.
* No notebook imports the solutions package: a reader sees a solution only by opening its block.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import nbformat
import pytest
from notebook_cells import free_names, python_source, top_level_bindings

from grsn_edu.course.exercises import chapter_module

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DETAILS = re.compile(r"<details><summary>Solution[^<]*</summary>(?P<body>.*?)</details>", re.S)
CODE = re.compile(r"```python\n(?P<code>.*?)\n```", re.S)
LOAD = re.compile(r"%load -s (?P<name>\w+) (?P<path>\S+\.py)")
CHECK = re.compile(r"^(?:# NBVAL_CHECK_OUTPUT\n)?(?P<lhs>\w+) = checks\.check_\w+\((?P<arg>\w+)\)$")


def _chapter(path: Path) -> str:
    return chapter_module(path.name)


def _raises_not_implemented_with_a_hint(function: ast.FunctionDef) -> bool:
    last = function.body[-1]
    return (isinstance(last, ast.Raise) and isinstance(last.exc, ast.Call)
            and getattr(last.exc.func, "id", None) == "NotImplementedError"
            and len(last.exc.args) == 1 and isinstance(last.exc.args[0], ast.Constant)
            and isinstance(last.exc.args[0].value, str) and len(last.exc.args[0].value) > 10)


def exercises(path: Path) -> list[dict]:
    """Every exercise of a notebook: the stub's name and cell, its check cell and its solution block's cell."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or "raise NotImplementedError" not in cell.source:
            continue
        tree = ast.parse(python_source(cell.source))
        (stub,) = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        check = next(j for j in range(i + 1, len(cells)) if cells[j].cell_type == "code")
        found.append({"name": stub.name, "stub": stub, "cell": i, "check": check, "solution": check + 1})
    return found


def _solution_block(cells, ex) -> str:
    block = cells[ex["solution"]]
    match = DETAILS.fullmatch(block.source.strip()) if block.cell_type == "markdown" else None
    assert match, f"cell {ex['solution']}, after the check of {ex['name']}, should be its collapsed Solution block"
    return match["body"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_imports_the_solutions(path):
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            imports = [n for n in ast.walk(ast.parse(python_source(cell.source)))
                       if isinstance(n, (ast.Import, ast.ImportFrom))]
            names = [getattr(n, "module", None) or "" for n in imports] + [a.name for n in imports for a in n.names]
            assert not any("solutions" in name for name in names), f"{path.name} cell {i} imports the solutions"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_is_a_stub_with_a_hint_then_a_check_then_the_solution(path):
    cells = nbformat.read(path, as_version=4).cells
    module = importlib.import_module(f"grsn_edu.course.solutions.{_chapter(path)}")
    found = exercises(path)
    assert sorted(ex["name"] for ex in found) == sorted(
        n for n in module.__all__ if inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n))
    ), "every solution of the chapter belongs to exactly one exercise of its notebook"
    for ex in found:
        stub = ex["stub"]
        functions = [stub] if isinstance(stub, ast.FunctionDef) else [
            n for n in stub.body if isinstance(n, ast.FunctionDef) and n.name in ("__init__", "observation")]
        assert functions and all(_raises_not_implemented_with_a_hint(f) for f in functions), (
            f"{path.name} cell {ex['cell']}: every function of the stub {ex['name']} should end with "
            "raise NotImplementedError(\"a short hint\")")
        check = CHECK.fullmatch(cells[ex["check"]].source.strip())
        assert check and check["lhs"] == check["arg"] == ex["name"], (
            f"{path.name} cell {ex['check']}: the cell after the stub should be "
            f"`{ex['name']} = checks.check_...({ex['name']})`, got {cells[ex['check']].source!r}")
        _solution_block(cells, ex)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solution_blocks_show_the_solutions_modules_source(path):
    cells = nbformat.read(path, as_version=4).cells
    chapter = _chapter(path)
    module = importlib.import_module(f"grsn_edu.course.solutions.{chapter}")
    for ex in exercises(path):
        body = _solution_block(cells, ex)
        (code,) = CODE.findall(body)
        assert code == inspect.getsource(getattr(module, ex["name"])).rstrip("\n"), (
            f"{path.name}: the Solution block of {ex['name']} differs from grsn_edu/course/solutions/{chapter}.py")
        load = LOAD.search(body)
        assert load and load["name"] == ex["name"], f"{path.name}: the block of {ex['name']} needs its %load line"
        assert (path.parent / load["path"]).resolve() == Path(module.__file__).resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_solution_pasted_into_its_notebook_finds_every_name_it_uses(path):
    cells = nbformat.read(path, as_version=4).cells
    for ex in exercises(path):
        (code,) = CODE.findall(_solution_block(cells, ex))
        earlier = set().union(*(top_level_bindings(ast.parse(python_source(c.source)))
                                for c in cells[:ex["cell"]] if c.cell_type == "code"))
        missing = free_names(code) - earlier
        assert not missing, f"{path.name}: pasted into the notebook, the solution {ex['name']} lacks {sorted(missing)}"
