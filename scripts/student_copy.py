"""Write the student copy of the course: the notebooks with their solutions removed, and a package without them.

    make student                                      # writes build/student/
    .venv/bin/python scripts/student_copy.py --out /tmp/course-for-students

The instructor's notebooks (``notebooks/``) show each exercise's solution folded under its check, and their checks
hand the reference solution on while an exercise is a stub. The student copy, as Neuromatch Academy's student
notebooks are made from its instructor notebooks, is a folder to hand out whole:

* ``notebooks/``: every notebook with these changes, and no other:

  - every collapsed *Solution* block is removed, and so is the sentence that points to it;
  - each stub is kept; where its hint or its ``# YOUR CODE HERE`` comment nearly states the solution
    (:data:`STUDENT_HINTS`), a hint that names the idea without the answer replaces it;
  - a cell ``%env GRSN_EDU_STUDENT=1`` comes first, so that the checks run in student mode even in an
    environment where the solutions are installed: a check then hands on a placeholder, never the reference
    solution (:func:`grsn_edu.course.checks.run_check`);
  - saved outputs are cleared where they would show an answer: the check cells (they say the reference solution
    was used), every cell after an exercise that calls its function (its output was computed by the reference
    solution), and every cell that calls the check module (``checks.measured_...`` and ``checks.reference_...``
    print the very values the checks compare with). All the other outputs are kept: the figures and tables of
    the saved experiments do not depend on any exercise, and reading them before running is part of the course
    (some cells load results that took hours to make).

* ``grsn_edu/``: the package without ``grsn_edu/course/solutions``, with ``pyproject.toml``, ``constraints.txt``,
  ``environment.yml``, ``data/`` (the saved results the notebooks load), the README, RESULTS.md, REFERENCE.md, the
  LICENSE and the citation file. A student installs it as the README says (``pip install -e ".[lab]"`` in the
  folder) and runs ``jupyter lab notebooks/``. Without the solutions package the checks are in student mode
  whatever the environment says. The tests, scripts, benchmarks and the site's sources are left out.

What a determined student can still read, and why:

* the checks (``grsn_edu/course/checks``): their test cases, the hints for the mistakes they recognise (a hint
  may restate the equation the notebook gives) and a few expected values written into them (the firing onsets of
  exercise 01.2, the best assignments of 07.2), values at test points, not the code. Their last-resort hints, for
  a wrong answer no recognised mistake explains, spell the answer out in the instructor's copy only
  (:func:`grsn_edu.course.checks.mode_hint`); the source of the checks holds both texts;
* the package's own code that a check compares an answer with: snnTorch's ``Leaky``, ``gated_current_step``, the
  VDN and QMIX mixers, ``count_core_ops``, ``analytic_ops``, ``linear_ops``, ``TeamEpisode.spikes_per_decision``.
  Several exercises ask the reader to derive what the course's package does; the package is the course's
  subject, so it ships whole;
* later cells of a notebook that build on an exercise's idea (chapter 03 writes the gated current into its
  hand-built GRSN step after exercise 03.1);
* nothing else: no solution's source is in the folder, and the checks never hold one. (A student who installs
  the repository itself instead of this folder has the solutions package; student mode then only keeps the checks
  from handing them on.)

The folder is written next to its destination and moved into place only when complete, so an error leaves the
previous copy (or nothing) and never half a copy. An existing destination is replaced only if this script wrote it
(it holds :data:`MARKER`). Before the move, the copy is checked: no Solution block, no code line of a solution, no
``solutions`` folder.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grsn_edu.course.exercises import ExerciseFormatError, cell_source, is_solution_block, notebook_exercises

ROOT = Path(__file__).resolve().parents[1]
#: The file that marks a folder as a student copy written by this script (and so safe to replace).
MARKER = ".grsn-edu-student-copy"
#: What the student copy holds beside its notebooks, from the repository's root.
PACKAGE_FILES = ("pyproject.toml", "constraints.txt", "environment.yml", "README.md", "RESULTS.md", "REFERENCE.md",
                 "LICENSE", "CITATION.cff")
SOLUTIONS = Path("grsn_edu") / "course" / "solutions"
STUDENT_MODE_CELL = ("# The student copy: the checks test your answers and show no solution (student mode).\n"
                     "%env GRSN_EDU_STUDENT=1")
#: Stub hints that nearly state the solution, and what the student copy says instead:
#: ``name: (new "# YOUR CODE HERE" comment or None to keep it, new NotImplementedError hint)``.
STUDENT_HINTS = {
    "lif_step": (None, "the update of section 1, in its order: the reset, then the membrane, then the spike"),
    "min_firing_current": (None, "where does the membrane settle under a constant current, if it never fires?"),
    "leaky_integrator_decision": ("return the decision for every sequence, shape (B,)",
                                  "a memory of the cue channels that decays by beta at every step; decide at the end"),
    "plain_leaky": ("return (spk, mem), each of shape (T, B, H)",
                    "snnTorch's own neuron, fed the encoder's output at every step"),
    "gate_energy_pj": (None, "how many targets has the gate layer, and what does each kind of input cost per target?"),
    "gate_acs": (None, "what does a spike cost at the gate layer, and what does the bias cost, at every update?"),
    "velocity_from_positions": (None, "how does CartPole move its state from one step to the next?"),
    "angle_from_velocities": (None, "which velocities has the angle at step t been moved by, and for how long each?"),
    "monotonic_mix": ("return Q_tot, shape (B,)",
                      "QMIX's two-layer mix, with weights that can never be negative"),
    "representable_by_monotonic_mix": (None, "an action's number is only a label: which orders could you try?"),
    "spikes_per_decision": (None, "all of an agent's spikes over the episode, shared out over its decisions"),
    "assign_landmarks": (None, "each landmark to exactly one agent; of all such assignments, the least total distance"),
    "gru_ops": (None, "count the weights, the biases and the element-wise work of each of the GRU's blocks"),
    "layer_energy_pj": (None, "what does one spike cost at each target, and what does the bias cost?"),
}
#: Sentences of the instructor's notebooks that point to a solution, and what the student copy says instead.
POINTERS = (
    (re.compile(r"and hands the reference\s+solution to the rest of the\s+notebook\.\s+Stuck\?\s+The\s+solution\s+is"
                r"\s+under\s+the\s+check\s+cell\."),
     "and a cell below that needs your function stops until you have written it."),
    (re.compile(r",\s+and\s+the\s+solution\s+is\s+under\s+the\s+check\s+cell\."), "."),
    (re.compile(r"\s*The\s+solution\s+is\s+under\s+the\s+check\s+cell\."), ""),
)
_LEFTOVER = re.compile(r"reference\s+solution|solution\s+is\s+under|Solution\s+block|%load\b", re.I)


class StudentCopyError(RuntimeError):
    """The sources are not what a student copy is made from, or the copy would reveal a solution."""


def _set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def _clear_outputs(cell: dict) -> None:
    cell["outputs"] = []
    cell["execution_count"] = None


def soften_stub(source: str, name: str, where: str) -> str:
    """The stub cell ``source`` with the student copy's hint (and comment) for ``name``, if it has one."""
    if name not in STUDENT_HINTS:
        return source
    comment, hint = STUDENT_HINTS[name]
    raises = re.findall(r'raise NotImplementedError\("[^"\\]*"\)', source)
    if len(raises) != 1:
        raise StudentCopyError(f"{where}: the stub {name} should raise NotImplementedError(\"hint\") once, "
                               f"found {len(raises)}")
    source = source.replace(raises[0], f"raise NotImplementedError({json.dumps(hint)})")
    if comment is not None:
        source, found = re.subn(r"# YOUR CODE HERE(?::[^\n]*)?", f"# YOUR CODE HERE: {comment}", source)
        if found != 1:
            raise StudentCopyError(f"{where}: the stub {name} should have one '# YOUR CODE HERE' comment")
    return source


def student_notebook(nb: dict, notebook: str) -> dict:
    """The student version of one notebook (``nb`` as ``json.load`` reads it; it is not changed)."""

    nb = copy.deepcopy(nb)
    cells = nb["cells"]
    try:
        found = notebook_exercises(nb, notebook)
    except ExerciseFormatError as err:
        raise StudentCopyError(str(err)) from None
    missing = [e.name for e in found if e.solution_cell is None]
    if missing:
        raise StudentCopyError(f"{notebook}: no Solution block under the check of {', '.join(missing)}: is this an "
                               "instructor's notebook?")
    for exercise in found:
        where = f"{notebook}, cell {exercise.stub_cell}"
        stub = cells[exercise.stub_cell]
        _set_source(stub, soften_stub(cell_source(stub), exercise.name, where))
        _clear_outputs(cells[exercise.check_cell])
        uses = re.compile(rf"\b{re.escape(exercise.name)}\b")
        for cell in cells[exercise.check_cell + 1:]:
            if cell["cell_type"] == "code" and uses.search(cell_source(cell)):
                _clear_outputs(cell)
    for cell in cells:
        if cell["cell_type"] == "code" and re.search(r"\bchecks\.", cell_source(cell)):
            _clear_outputs(cell)
        if cell["cell_type"] == "markdown":
            text = cell_source(cell)
            for pattern, replacement in POINTERS:
                text = pattern.sub(replacement, text)
            _set_source(cell, text)
    nb["cells"] = [cell for cell in cells if not is_solution_block(cell)]
    first_code = next(i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code")
    mode = {"cell_type": "code", "execution_count": None, "id": "student-mode", "metadata": {}, "outputs": []}
    _set_source(mode, STUDENT_MODE_CELL)
    nb["cells"].insert(first_code, mode)
    return nb


def solution_code_lines(solutions_dir: Path) -> dict[str, list[str]]:
    """``{solution name: its code lines}`` for every function and class of the chapters' modules in ``solutions_dir``
    (``ch01.py``, ``rl_primer.py``, ...): each line of its body (docstring left out) that does more than return a
    name or two, as ``ast.unparse`` writes it."""
    lines = {}
    for path in sorted(p for p in solutions_dir.glob("*.py") if p.name != "__init__.py"):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            code = "\n".join(ast.unparse(statement) for statement in body)
            lines[f"{path.stem}.{node.name}"] = [
                line.strip() for line in code.splitlines()
                if len(line.strip()) > 24 and not re.fullmatch(r"return [\w, ]+", line.strip())]
    return lines


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def reveals(nb: dict, solution_lines: dict[str, list[str]]) -> list[str]:
    """The solutions (``module.name``, e.g. ``ch01.lif_step``) one of whose code lines appears in the notebook
    ``nb``'s cells or saved outputs, whitespace ignored. A line that the exercise's own stub holds
    (``super().__init__`` of a wrapper, a method's signature) is given to the reader, so it does not count."""

    stubs = {exercise.name: _squeeze(cell_source(nb["cells"][exercise.stub_cell]))
             for exercise in notebook_exercises(nb)}
    squeezed = _squeeze(notebook_text(nb))
    return sorted(name for name, lines in solution_lines.items()
                  if any(_squeeze(line) in squeezed and _squeeze(line) not in stubs.get(name.split(".")[1], "")
                         for line in lines))


def notebook_text(nb: dict) -> str:
    """Everything a reader of the notebook file sees: every cell's source and every saved text output."""
    parts = []
    for cell in nb["cells"]:
        parts.append(cell_source(cell))
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
            for value in output.get("data", {}).values():
                parts.append(value if isinstance(value, str) else "".join(map(str, value)))
    return "\n".join(parts)


def verify(out: Path, solution_lines: dict[str, list[str]]) -> None:
    """Refuse a copy from which a solution can be read: a Solution block, a pointer to one, a solution's code line,
    a solutions folder."""

    if (out / SOLUTIONS).exists():
        raise StudentCopyError(f"the copy holds {SOLUTIONS}")
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        if any(is_solution_block(cell) for cell in nb["cells"]):
            raise StudentCopyError(f"{path.name}: a Solution block is left")
        for i, cell in enumerate(nb["cells"]):
            if _LEFTOVER.search(cell_source(cell)):
                raise StudentCopyError(f"{path.name}, cell {i}: still points to a solution: "
                                       f"{_LEFTOVER.search(cell_source(cell))[0]!r}")
        leaked = reveals(nb, solution_lines)
        if leaked:
            raise StudentCopyError(f"{path.name}: shows code of the solutions {', '.join(leaked)}")


def write_copy(root: Path, out: Path) -> list[str]:
    """Write the student copy of the course at ``root`` to ``out``, atomically; returns the notebooks written."""
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")) if (root / "notebooks").is_dir() else []
    if not notebooks:
        raise StudentCopyError(f"no notebooks: {root / 'notebooks'} holds no NN_name.ipynb (is --root the "
                               "repository's root folder?)")
    missing = [name for name in (*PACKAGE_FILES, "grsn_edu", "data", str(SOLUTIONS)) if not (root / name).exists()]
    if missing:
        raise StudentCopyError(f"{root} lacks {', '.join(missing)}: is --root the repository's root folder?")
    out = out.resolve()
    sources = [(root / folder).resolve() for folder in ("notebooks", "grsn_edu", "data")]
    if root.resolve().is_relative_to(out) or any(out.is_relative_to(folder) for folder in sources):
        raise StudentCopyError(f"--out {out} would overwrite the sources or be copied into itself; choose a folder "
                               "outside notebooks/, grsn_edu/ and data/")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise StudentCopyError(f"{out} exists and is not a student copy written by this script; remove it or "
                               "choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the copy is a folder like any other
        (staging / "notebooks").mkdir()
        for path in notebooks:
            nb = student_notebook(json.loads(path.read_text()), path.name)
            with open(staging / "notebooks" / path.name, "w") as f:
                json.dump(nb, f, indent=1, ensure_ascii=False)
                f.write("\n")
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
        shutil.copytree(root / "grsn_edu", staging / "grsn_edu", ignore=ignore)
        shutil.rmtree(staging / SOLUTIONS)
        shutil.copytree(root / "data", staging / "data", ignore=ignore)
        for name in PACKAGE_FILES:
            shutil.copy2(root / name, staging / name)
        (staging / MARKER).write_text("The student copy of grsn-edu, written by scripts/student_copy.py: the "
                                      "notebooks without their solutions, the package without grsn_edu/course/"
                                      "solutions. Install: pip install -e \".[lab]\"; run: jupyter lab notebooks/\n")
        verify(staging, solution_code_lines(root / SOLUTIONS))
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            try:
                staging.rename(out)
            except BaseException:
                old.rename(out)  # the previous copy back in its place
                raise
            shutil.rmtree(old)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [path.name for path in notebooks]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "student",
                        help="the folder to write (default build/student); replaced if this script wrote it")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the repository whose notebooks and package are copied (default: this one)")
    args = parser.parse_args(argv)
    try:
        written = write_copy(args.root, args.out)
    except StudentCopyError as err:
        print(f"student copy: {err}", file=sys.stderr)
        return 2
    print(f"student copy: {len(written)} notebooks and the package without its solutions in {args.out.resolve()}")
    print('  hand out the whole folder; a student runs pip install -e ".[lab]" in it, then jupyter lab notebooks/')
    return 0


if __name__ == "__main__":
    sys.exit(main())
