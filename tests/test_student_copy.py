"""The student copy (``make student``, ``scripts/student_copy.py``): no solution can be read back from it, and a
student who writes the exercises can run it.

The copy is written once for the module. Notebook 01 is executed from it with its exercises filled in from the
solutions (the others run the same checks, which each chapter's tests, ``tests/test_lif_basics.py`` and the rest,
test in student mode too).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import import_file, solution_code_lines, solutions_module

from grsn_edu.course.exercises import is_solution_block, notebook_exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def script():
    return import_file("scripts", "student_copy")


@pytest.fixture(scope="module")
def copy_dir(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "student"
    assert script.main(["--out", str(out)]) == 0
    return out


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _solutions(notebook: Path):
    """``{name: solution}`` of the chapter of ``notebook``, from the instructor's package (none for a chapter without
    exercises)."""
    module = solutions_module(notebook)
    if module is None:
        return {}
    return {name: getattr(module, name) for name in module.__all__
            if inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name))}


def test_the_copy_holds_every_notebook_and_the_package_without_its_solutions(copy_dir):
    assert sorted(p.name for p in (copy_dir / "notebooks").glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert (copy_dir / "grsn_edu" / "course" / "checks" / "lif_basics.py").is_file()
    assert not (copy_dir / "grsn_edu" / "course" / "solutions").exists()
    assert not list(copy_dir.rglob("solutions"))
    for name in ("pyproject.toml", "constraints.txt", "README.md", "LICENSE", "data/memory_task"):
        assert (copy_dir / name).exists(), name
    assert not list(copy_dir.parent.glob(".student.*")), "the staging folder was left behind"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_block_and_no_pointer_to_one_remains(copy_dir, path):
    import nbformat

    nbformat.validate(nbformat.read(copy_dir / "notebooks" / path.name, as_version=4))
    nb = _load(copy_dir / "notebooks" / path.name)
    assert not any(is_solution_block(cell) for cell in nb["cells"])
    text = "\n".join(_source(cell) for cell in nb["cells"])
    # a folded answer to a concept question (<details><summary>Answer) stays: it is no exercise's solution
    assert not re.search(r"Solution|solution is under|reference solution|%load", text)
    instructor = _load(path)
    assert len(nb["cells"]) == len(instructor["cells"]) - len(notebook_exercises(instructor)) + 1  # + the mode cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_source_appears_in_the_student_notebook(copy_dir, path):
    nb = _load(copy_dir / "notebooks" / path.name)
    parts = []
    for cell in nb["cells"]:
        parts.append(_source(cell))
        for output in cell.get("outputs", []):
            parts.append(json.dumps(output))
    squeezed = re.sub(r"\s+", "", "\n".join(parts))
    stubs = {e.name: re.sub(r"\s+", "", _source(nb["cells"][e.stub_cell])) for e in notebook_exercises(nb)}
    for name, solution in _solutions(path).items():
        assert re.sub(r"\s+", "", inspect.getsource(solution)) not in squeezed, f"{name}'s whole source is there"
        # lines of more than 24 characters: shorter ones (`for x_t in x:`) are any loop's, not the solution's
        shown = [line for line in solution_code_lines(solution, min_length=24)
                 if re.sub(r"\s+", "", line) in squeezed and re.sub(r"\s+", "", line) not in stubs[name]]
        assert not shown, f"{path.name} shows lines of the solution {name}: {shown}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_keeps_its_stub_and_check_and_shows_no_output_of_an_answer(copy_dir, path):
    instructor, nb = _load(path), _load(copy_dir / "notebooks" / path.name)
    before, after = notebook_exercises(instructor), notebook_exercises(nb)
    assert [(e.number, e.name, e.check) for e in after] == [(e.number, e.name, e.check) for e in before]
    for exercise in after:
        assert exercise.solution_cell is None
        assert "raise NotImplementedError(" in _source(nb["cells"][exercise.stub_cell])
        assert nb["cells"][exercise.check_cell]["outputs"] == []
        for cell in nb["cells"][exercise.check_cell + 1:]:
            if cell["cell_type"] == "code" and re.search(rf"\b{exercise.name}\b|\bchecks\.", _source(cell)):
                assert cell["outputs"] == [], f"{path.name}: a cell that uses {exercise.name} kept its output"
    kept = sum(bool(cell.get("outputs")) for cell in nb["cells"])
    assert kept >= sum(bool(cell.get("outputs")) for cell in instructor["cells"]) - 2 * len(after) - 4, (
        "the outputs that show no answer (figures, tables of the saved results) are kept")
    assert _source(nb["cells"][next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")]).endswith(
        "%env GRSN_EDU_STUDENT=1")


def test_the_hints_that_nearly_state_a_solution_are_replaced(script, copy_dir):
    stubs = {}
    for path in NOTEBOOKS:
        instructor, nb = _load(path), _load(copy_dir / "notebooks" / path.name)
        for old, new in zip(notebook_exercises(instructor), notebook_exercises(nb)):
            stubs[old.name] = (_source(instructor["cells"][old.stub_cell]), _source(nb["cells"][new.stub_cell]))
    assert set(script.STUDENT_HINTS) <= set(stubs), "a softened hint names no exercise"
    for name, (comment, hint) in script.STUDENT_HINTS.items():
        before, after = stubs[name]
        old_hint = re.search(r'NotImplementedError\("([^"]*)"\)', before)[1]
        assert f'NotImplementedError("{hint}")' in after and old_hint not in after, name
        if comment is not None:
            assert f"# YOUR CODE HERE: {comment}" in after
    unchanged = set(stubs) - set(script.STUDENT_HINTS)
    assert all(stubs[name][0] == stubs[name][1] for name in unchanged)


def test_bad_input_gets_a_clear_message(script, tmp_path, capsys):
    assert script.main(["--root", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no notebooks" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        script.main(["--outt", str(tmp_path)])
    assert exit_.value.code == 2 and "unrecognized arguments: --outt" in capsys.readouterr().err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("an instructor's own folder")
    assert script.main(["--out", str(tmp_path / "mine")]) == 2
    assert "not a student copy" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").exists()
    for inside in ("notebooks", "grsn_edu/course", "data"):
        assert script.main(["--out", str(ROOT / inside / "student")]) == 2
        assert "would overwrite the sources" in capsys.readouterr().err
    assert script.main(["--out", str(ROOT.parent)]) == 2
    assert "would overwrite the sources" in capsys.readouterr().err


def test_an_error_while_writing_leaves_the_previous_copy_whole(script, tmp_path, monkeypatch):
    out = tmp_path / "student"
    assert script.main(["--out", str(out)]) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    written = []

    def fail_on_the_third(nb, notebook):
        written.append(notebook)
        if len(written) == 3:
            raise RuntimeError("disk full")
        return nb

    monkeypatch.setattr(script, "student_notebook", fail_on_the_third)
    with pytest.raises(RuntimeError, match="disk full"):
        script.write_copy(ROOT, out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"], "a staging folder was left behind"


def test_the_copy_refuses_a_notebook_that_would_show_a_solution(script, copy_dir, tmp_path):
    notebook = copy_dir / "notebooks" / "01_lif_basics.ipynb"
    nb = _load(notebook)
    solution = inspect.getsource(_solutions(notebook)["min_firing_current"])
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "leak", "metadata": {}, "outputs": [],
                        "source": solution})
    leaky = tmp_path / "student"
    (leaky / "notebooks").mkdir(parents=True)
    (leaky / "notebooks" / notebook.name).write_text(json.dumps(nb))
    with pytest.raises(script.StudentCopyError, match="lif_basics.min_firing_current"):
        script.verify(leaky, script.solution_code_lines(ROOT / "grsn_edu" / "course" / "solutions"))


def _student_python(copy_dir: Path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python that imports grsn_edu from the copy, student mode not set by the environment."""
    env = {k: v for k, v in os.environ.items() if k != "GRSN_EDU_STUDENT"}
    env["PYTHONPATH"] = str(copy_dir)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=copy_dir / "notebooks", capture_output=True,
                          text=True, timeout=300)


def test_in_the_copy_a_check_hands_on_no_solution_passes_a_right_answer_and_fails_a_wrong_one(copy_dir):
    right = inspect.getsource(_solutions(ROOT / "notebooks" / "01_lif_basics.ipynb")["min_firing_current"])
    code = f"""
import importlib.util, inspect
import grsn_edu
from grsn_edu.course import checks as base
from grsn_edu.course.checks import lif_basics
assert grsn_edu.__file__.startswith({str(copy_dir)!r}), grsn_edu.__file__
assert importlib.util.find_spec("grsn_edu.course.solutions") is None
assert base.student_mode()

def min_firing_current(beta, threshold=1.0):
    raise NotImplementedError("a hint")

handed_on = lif_basics.check_min_firing_current(min_firing_current)
print("SOURCE", inspect.getsource(handed_on))
try:
    handed_on(0.9, 1.0)
except base.ExerciseNotDone as err:
    print("NOT DONE", err)
try:
    lif_basics.check_min_firing_current(lambda beta, threshold=1.0: 1.01 * threshold * (1 - beta))
except AssertionError as err:
    print("WRONG", err)
{right}
assert lif_basics.check_min_firing_current(min_firing_current) is min_firing_current
"""
    run = _student_python(copy_dir, code)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "still the stub" in out and "NOT DONE" in out and "WRONG" in out and "Correct" in out
    source = out.split("SOURCE", 1)[1].split("NOT DONE", 1)[0]
    assert "threshold * (1.0 - beta)" not in source and "raise ExerciseNotDone" in source


def test_the_student_copy_of_notebook_01_runs_top_to_bottom_once_its_exercises_are_written(copy_dir, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    path = copy_dir / "notebooks" / "01_lif_basics.ipynb"
    nb = nbformat.read(path, as_version=4)
    solutions = _solutions(path)
    for exercise in notebook_exercises(nb):  # the reader's answers: the solutions, pasted into the stub cells
        nb.cells[exercise.stub_cell].source = inspect.getsource(solutions[exercise.name])
    nb.cells.append(nbformat.v4.new_code_cell(
        "import grsn_edu\nfrom grsn_edu.course.checks import student_mode\nprint(grsn_edu.__file__, student_mode())"))
    monkeypatch.setenv("PYTHONPATH", str(copy_dir))
    monkeypatch.delenv("GRSN_EDU_STUDENT", raising=False)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = [out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    checks_said = [printed_text for cell in nb.cells for printed_text in
                   ["".join(o.get("text", "") for o in cell.get("outputs", []))] if "checks.check_" in cell.source]
    assert len(checks_said) == 3 and all(said.startswith("Correct") for said in checks_said), checks_said
    assert printed[-1].strip() == f"{copy_dir / 'grsn_edu' / '__init__.py'} True"


def _wrong_answers():
    import numpy as np
    import torch

    from grsn_edu.course.checks import energy, lif_basics, pomdp_cartpole, spiking_teams

    return [  # (check, an answer no recognised mistake explains, what only the instructor's hint spells out)
        (lif_basics.check_lif_step, lambda cur, mem, beta, threshold=1.0: (torch.zeros_like(cur), 0 * mem + 5.0),
         "R_t * U_thr"),
        (pomdp_cartpole.check_angle_from_velocities, lambda v, theta0, tau=0.02: np.full(len(v), 7.0),
         "theta_dot_0 + ..."),
        (spiking_teams.check_spikes_per_decision, lambda spk, decisions: np.full(spk.shape[1], 123.0), "axes 0 and 2"),
        (energy.check_layer_energy, lambda spikes, out_features: 1.0, "steps x targets"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_in_student_mode_the_last_resort_hint_names_the_idea_not_the_answer(case, monkeypatch):
    check, wrong, answer_text = _wrong_answers()[case]
    with pytest.raises(AssertionError) as instructor:
        check(wrong)
    assert answer_text in str(instructor.value)
    monkeypatch.setenv("GRSN_EDU_STUDENT", "1")
    with pytest.raises(AssertionError, match="Hint: ") as student:
        check(wrong)
    assert answer_text not in str(student.value)
