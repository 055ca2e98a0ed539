"""The set-up files agree with each other (pins, the README's commands, CI), and each data folder's README gives
the commands of its script's docstring, which, run again on the data, have nothing left to do."""

import re
import shlex
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
import tomllib
import torch

from grsn_edu.experiments.memory import pending_runs, planned_row, read_sweep_rows, run_key
from grsn_edu.experiments.runner import plan_grid

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


def test_the_makefile_installs_the_pinned_torch_and_it_is_the_cpu_build():
    pin = next(r for r in _pyproject_pins() if r.startswith("torch=="))
    makefile = (ROOT / "Makefile").read_text()
    installed_first = re.findall(r'pip install --quiet "(torch==[^"]+)"', makefile)
    assert installed_first == [pin], f"the Makefile installs {installed_first}, pyproject.toml pins {pin}"
    assert torch.__version__.split("+")[0] == pin.split("==")[1]
    assert torch.version.cuda is None  # the CPU build


def test_ci_runs_the_readme_test_command_and_the_readme_commands_are_make_targets():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in ci if line.strip() and not line.strip().startswith("#")]
    assert commands[-1] == "make test"
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    readme_targets = set(re.findall(r"^make (\w+)", (ROOT / "README.md").read_text(), flags=re.M))
    assert "test" in readme_targets and readme_targets <= targets, readme_targets - targets


def test_notebooks_are_numbered_in_sequence():
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    numbers = [int(n[:2]) for n in names]
    assert numbers == list(range(1, len(numbers) + 1)), names


# -- the commands that made data/ ---------------------------------------------------------------------------------


def shell_commands(text: str, program: str) -> list[list[str]]:
    """The arguments of every command line in ``text`` that runs ``program`` (e.g. ``scripts/memory_sweep.py``).

    Lines ending in a backslash continue on the next; ``# comments`` are dropped; ``S="..."`` sets a variable that
    ``$S`` at the start of a later line expands; ``for s in 0 1 2; do ... done`` repeats its body with ``$s``
    replaced. Lines that are not shell (prose) are skipped.
    """
    variables, loop, body, out = {}, None, [], []

    def add(tokens):
        if tokens and tokens[0].startswith("$") and tokens[0][1:] in variables:
            tokens = variables[tokens[0][1:]] + tokens[1:]
        if tokens[:2] == [".venv/bin/python", program]:
            out.append(tokens[2:])
        elif tokens[:1] == [".venv/bin/" + program]:
            out.append(tokens[1:])

    for line in text.replace("\\\n", " ").splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        if not tokens:
            continue
        if len(tokens) == 1 and (m := re.fullmatch(r"([A-Za-z_]\w*)=(.*)", tokens[0])):
            variables[m.group(1)] = shlex.split(m.group(2))
        elif tokens[0] == "for" and tokens[2] == "in" and tokens[-1] == "do":
            loop, body = (tokens[1], [t.rstrip(";") for t in tokens[3:-1]]), []
        elif tokens == ["done"] and loop:
            for value in loop[1]:
                for b in body:
                    add([t.replace("$" + loop[0], value) for t in b])
            loop = None
        elif loop:
            body.append(tokens)
        else:
            add(tokens)
    return out


def test_shell_commands_reads_continuations_variables_and_loops():
    text = '''prose that mentions .venv/bin/python scripts/x.py is not a command
        .venv/bin/python scripts/x.py --a 1 \\
            --b 2        # a comment
        S=".venv/bin/python scripts/x.py --c"
        $S 3
        for s in 0 1; do
          .venv/bin/x --seeds $s
        done
        .venv/bin/python scripts/y.py --d
    '''
    assert shell_commands(text, "scripts/x.py") == [["--a", "1", "--b", "2"], ["--c", "3"]]
    assert shell_commands(text, "x") == [["--seeds", "0"], ["--seeds", "1"]]


#: script -> the data folder it writes
SCRIPT_DATA = {"memory_sweep": "memory_task", "gate_input_sweep": "gate_input",
               "cartpole_ablation": "cartpole_ablation", "marl_recipe": "marl_recipe", "energy_table": "energy",
               "ppo_recipe": "ppo_recipe", "peer_ppo": "peer_ppo", "marl_variants": "marl_variants"}


def readme_commands(script: str) -> list[list[str]]:
    text = (ROOT / "data" / SCRIPT_DATA[script] / "README.md").read_text()
    return shell_commands(text, f"scripts/{script}.py")


@pytest.mark.parametrize("script", SCRIPT_DATA)
def test_data_readme_gives_the_commands_of_its_script(script, load_script):
    module = load_script(script)
    readme, docstring = readme_commands(script), shell_commands(module.__doc__, f"scripts/{script}.py")
    assert readme, f"data/{SCRIPT_DATA[script]}/README.md gives no command of scripts/{script}.py"
    assert [c for c in readme if c not in docstring] == [], f"commands of the README not in scripts/{script}.py"
    for argv in readme:
        module.parse_args(argv)  # a renamed or removed option stops here


def _resolve(path) -> Path:
    return Path(path) if Path(path).is_absolute() else ROOT / path


@pytest.mark.parametrize("script", ["memory_sweep", "gate_input_sweep"])
def test_memory_data_is_exactly_what_the_readme_commands_make(script, load_script):
    module = load_script(script)
    planned = defaultdict(list)
    for argv in readme_commands(script):
        args = module.parse_args(argv)
        runs = module.plan(args)
        out = _resolve(args.out)
        assert pending_runs(out, runs) == [], f"`{' '.join(argv)}` would still run something"
        planned[out] += [run_key(planned_row(run)) for run in runs]
    assert set(planned) == set((ROOT / "data" / SCRIPT_DATA[script]).glob("*.csv"))
    for out, keys in planned.items():
        recorded = [run_key(row) for row in read_sweep_rows(out)]
        assert sorted(recorded) == sorted(keys), f"{out} holds rows that no command makes, or a row twice"


@pytest.mark.parametrize("script", ["cartpole_ablation", "marl_recipe", "ppo_recipe", "peer_ppo", "marl_variants"])
def test_grid_data_is_exactly_what_the_readme_commands_make(script, load_script, tmp_path):
    module = load_script(script)
    planned = []
    for argv in readme_commands(script):
        args = module.parse_args(argv)
        if getattr(args, "table", False):
            continue
        data_dir = _resolve(args.data_dir)
        cells = module.cells(args)
        if data_dir != ROOT / "data" / SCRIPT_DATA[script]:
            continue  # a command that writes another folder (its own README checks it)
        _, pending = plan_grid(module.GRID, cells, tmp_path / "no-runs", data_dir)
        assert pending == [], f"`{' '.join(argv)}` would still run {[c.label for c in pending]}"
        planned += list(cells)
    summary = pd.read_csv(ROOT / "data" / SCRIPT_DATA[script] / "summary.csv")
    runs = summary[summary[module.GRID.budget] > 0]  # not a grid's scripted baselines
    assert sorted(runs[list(module.GRID.key)].itertuples(index=False, name=None)) == sorted(planned)


def test_energy_data_is_what_the_readme_command_makes(load_script):
    module = load_script("energy_table")
    table = pd.read_csv(ROOT / "data" / "energy" / "per_agent.csv")
    writers = [module.parse_args(argv) for argv in readme_commands("energy_table")]
    writers = [args for args in writers if _resolve(args.out) == ROOT / "data" / "energy"]
    assert len(writers) == 1, "the README should give one command that writes data/energy"
    args = writers[0]
    assert (table["episodes"] == args.episodes).all()
    expected_seed = table["seed"] + 10_000 if args.eval_seed is None else args.eval_seed
    assert (table["eval_seed"] == expected_seed).all()


@pytest.mark.parametrize("what", ["cartpole", "marl"])
def test_grid_readme_commands_parse(what):
    from grsn_edu.experiments.cli import build_parser

    commands = shell_commands((ROOT / "data" / what / "README.md").read_text(), "grsn-edu")
    assert commands and all(c[:2] == ["reproduce", what] for c in commands)
    for argv in commands:
        build_parser().parse_args(argv)
