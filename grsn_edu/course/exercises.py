"""The exercises of a notebook, read from the notebook file itself (Neuromatch Academy's convention).

An exercise is four cells in a row, give or take prose between them: a ``### Exercise N: title`` heading in a
markdown cell; a code cell whose stub raises ``NotImplementedError`` with a hint; the next code cell, its check
``name = checks.check_...(name)``; right after the check, a collapsed *Solution* block (in the instructor's copy
only). The student copy (``scripts/student_copy.py``) and the course site's instructor page (``site/build.py``) both
read the exercises with :func:`notebook_exercises`, so they agree on what an exercise is.

Example:
    >>> nb = {"cells": [
    ...     {"cell_type": "markdown", "source": "### Exercise 1: one step"},
    ...     {"cell_type": "code", "source": "def step(x):\\n    raise NotImplementedError('add one')"},
    ...     {"cell_type": "code", "source": "step = checks.check_step(step)"},
    ...     {"cell_type": "markdown", "source": "<details><summary>Solution</summary>x + 1</details>"}]}
    >>> [(e.number, e.title, e.name, e.check, e.solution_cell) for e in notebook_exercises(nb)]
    [(1, 'one step', 'step', 'check_step', 3)]
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import PurePath

__all__ = ["Exercise", "ExerciseFormatError", "notebook_exercises", "cell_source", "is_solution_block",
           "SOLUTION_BLOCK", "chapter_module"]

#: A collapsed Solution block: a markdown cell that is one ``<details>`` element whose summary starts "Solution".
SOLUTION_BLOCK = re.compile(r"\s*<details>\s*<summary>\s*Solution[^<]*</summary>.*</details>\s*", re.S)
_HEADING = re.compile(r"^#+\s+Exercise\s+(\d+)\s*[:.]?\s*(.*)$", re.M)
_CHECK = re.compile(r"^(?:#[^\n]*\n)*(?P<lhs>\w+) = checks\.(?P<check>check_\w+)\((?P<arg>\w+)\)\s*$")


class ExerciseFormatError(ValueError):
    """A notebook's exercise does not follow the convention; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: where its cells are and what they are called.

    Attributes:
        number: its number in the notebook's ``### Exercise N`` heading.
        title: the heading's text after the number.
        name: the function (or class) the stub defines and the check tests.
        stub_cell, check_cell: indices of the stub's and the check's code cells.
        check: the check function's name in the notebook's module of ``grsn_edu.course.checks``
            (:func:`chapter_module`), e.g. ``"check_lif_step"``.
        solution_cell: index of the collapsed Solution block, or None where there is none (the student copy).
    """

    number: int
    title: str
    name: str
    stub_cell: int
    check_cell: int
    check: str
    solution_cell: int | None


def chapter_module(notebook: str) -> str:
    """The name of a notebook's modules in ``grsn_edu.course.checks`` and ``grsn_edu.course.solutions``.

    It is the notebook's slug, its file name without the number and the extension, where the checks have a module
    of that name (``05_rl_primer.ipynb``: ``rl_primer``), else ``chNN`` after its number
    (``01_lif_basics.ipynb``: ``ch01``).

    Example:
        >>> chapter_module("05_rl_primer.ipynb"), chapter_module("notebooks/01_lif_basics.ipynb")
        ('rl_primer', 'ch01')
    """
    name = PurePath(notebook).name
    slug = name.split(".", 1)[0][3:]
    if slug.isidentifier() and importlib.util.find_spec(f"grsn_edu.course.checks.{slug}") is not None:
        return slug
    return f"ch{name[:2]}"


def cell_source(cell: dict) -> str:
    """A cell's source as one string (a saved notebook may hold it as a list of lines)."""
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def is_solution_block(cell: dict) -> bool:
    """Whether ``cell`` is a collapsed Solution block (a markdown cell, see :data:`SOLUTION_BLOCK`)."""
    return cell.get("cell_type") == "markdown" and SOLUTION_BLOCK.fullmatch(cell_source(cell)) is not None


def _stub_name(source: str, where: str) -> str:
    # IPython magics would not parse; a stub cell has none, so a line starting with % or ! is dropped
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise ExerciseFormatError(f"{where}: the stub does not parse: {err}") from None
    defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    if len(defined) != 1:
        raise ExerciseFormatError(f"{where}: a stub cell defines exactly one function or class, found {defined}")
    return defined[0]


def notebook_exercises(nb: dict, notebook: str = "the notebook") -> list[Exercise]:
    """Every exercise of the notebook ``nb`` (the notebook's JSON as a dict), in order.

    Args:
        nb: the notebook, as ``json.load`` reads it.
        notebook: its name, for error messages.

    Raises:
        ExerciseFormatError: a stub without a heading before it or a check after it, or a check that does not
            read ``name = checks.check_...(name)``.
    """
    cells = nb["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "raise NotImplementedError" not in cell_source(cell):
            continue
        where = f"{notebook}, cell {i}"
        name = _stub_name(cell_source(cell), where)
        heading = next((m for j in range(i - 1, -1, -1) if cells[j]["cell_type"] == "markdown"
                        for m in [_HEADING.search(cell_source(cells[j]))] if m), None)
        if heading is None:
            raise ExerciseFormatError(f"{where}: the stub {name} has no '### Exercise N: title' heading above it")
        check_cell = next((j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"), None)
        match = _CHECK.match(cell_source(cells[check_cell]).strip()) if check_cell is not None else None
        if not match or match["lhs"] != name or match["arg"] != name:
            raise ExerciseFormatError(f"{where}: the code cell after the stub {name} must be its check, "
                                      f"`{name} = checks.check_...({name})`")
        after = check_cell + 1
        solution = after if after < len(cells) and is_solution_block(cells[after]) else None
        found.append(Exercise(int(heading[1]), heading[2].strip(), name, i, check_cell, match["check"], solution))
    return found
