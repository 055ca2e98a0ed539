"""The set-up files agree with each other (pyproject.toml's ranges, constraints.txt's exact versions, environment.yml,
the Makefile, the README's install commands, REFERENCE.md's make commands, CI), and each data folder's README gives
the commands of its script's docstring, which, run again on the data, have nothing left to do."""

import importlib.metadata
import re
import shlex
import sys
import sysconfig
import tomllib
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from grsn_edu.experiments.memory import pending_runs, planned_row, read_sweep_rows, run_key
from grsn_edu.experiments.runner import plan_grid

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements() -> list[Requirement]:
    """Every requirement of pyproject.toml, its extras' included, but the extras that name the project itself."""
    reqs = list(PROJECT["dependencies"]) + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    return [r for r in map(Requirement, reqs) if canonicalize_name(r.name) != canonicalize_name(PROJECT["name"])]


def _constraints() -> dict[str, list[Requirement]]:
    """constraints.txt's lines by package name: one line, or one per platform (torch)."""
    out = defaultdict(list)
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            out[canonicalize_name(req.name)].append(req)
    return out


def _pinned_version(req: Requirement) -> str:
    (spec,) = req.specifier
    assert spec.operator == "==", f"constraints.txt: {req} is not an exact version"
    return spec.version


def test_every_dependency_is_a_range_that_admits_the_tested_version():
    constraints = _constraints()
    for req in _requirements():
        operators = {spec.operator for spec in req.specifier}
        assert operators == {">=", "<"}, f"pyproject.toml: {req} should be a range, >= a tested version and < a bound"
        lines = constraints.get(canonicalize_name(req.name))
        assert lines, f"{req.name} has no exact version in constraints.txt"
        for line in lines:
            version = _pinned_version(line)
            assert req.specifier.contains(version), f"pyproject.toml's {req} excludes the version tested, {version}"
            (lower,) = [spec.version for spec in req.specifier if spec.operator == ">="]
            assert Version(lower) <= Version(version)


def test_constraints_hold_exactly_the_environment_tested():
    """Every package installed here (make's .venv, built with constraints.txt) is in it at the installed version."""
    constraints = _constraints()
    project = canonicalize_name(PROJECT["name"])
    # the environment's own folders only: Ray, once imported, puts the copies it vendors on sys.path
    site_packages = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    installed = {canonicalize_name(d.metadata["Name"]): d.version
                 for d in importlib.metadata.distributions(path=site_packages)}
    missing = sorted(name for name in installed if name not in constraints and name != project)
    assert not missing, f"installed but not in constraints.txt (add them, or make clean if left over): {missing}"
    assert project not in constraints, "constraints.txt pins the project itself"
    for name, version in installed.items():
        wanted = [_pinned_version(r) for r in constraints.get(name, []) if r.marker is None or r.marker.evaluate()]
        assert wanted in ([], [version]), f"{name} {version} is installed, constraints.txt says {wanted}"


def test_torch_is_the_cpu_build_everywhere():
    torch_lines = _constraints()["torch"]
    by_platform = {str(r.marker): _pinned_version(r) for r in torch_lines}
    # PyTorch's CPU index has +cpu builds for Linux and Windows; PyPI's Linux build is a CUDA build
    assert by_platform == {'sys_platform != "darwin"': "2.13.0+cpu", 'sys_platform == "darwin"': "2.13.0"}
    assert torch.__version__ == next(v for m, v in by_platform.items() if Requirement(f"x; {m}").marker.evaluate())
    assert torch.version.cuda is None


def test_python_versions_stated_are_the_one_tested():
    tested = [c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c)]
    assert tested == ["3.11"], tested
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in tested, "tests run on a Python not stated"
    assert PROJECT["requires-python"] == ">=3.11"
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    assert "python=3.11" in conda
    assert "Python 3.11" in _install_section()


def test_environment_yml_installs_the_lab_extra_with_the_constraints_and_the_cpu_index():
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    (pip,) = [d["pip"] for d in conda if isinstance(d, dict)]
    assert pip == [f"--extra-index-url {CPU_INDEX}", "-c constraints.txt", "-e .[lab]"]


def _makefile_variables(makefile: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_0-9]+) :?= (.*)$", makefile, flags=re.M))


def _recipe(makefile: str, target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n|[^\S\n]*\n)*)", makefile, flags=re.M)
    assert match, f"no target {target} in the Makefile"
    return match.group(1)


def test_the_makefile_installs_with_the_constraints_and_asks_for_the_cpu_torch():
    makefile = (ROOT / "Makefile").read_text()
    variables = _makefile_variables(makefile)
    assert variables["CONSTRAINTS"] == "constraints.txt"
    assert variables["TORCH_CPU_INDEX"] == CPU_INDEX
    commands = "\n".join(line for line in makefile.splitlines() if not line.startswith("#")).replace("\\\n", " ")
    installs = re.findall(r"pip install (.*)$", commands, flags=re.M)
    assert len(installs) >= 5, installs  # pip and the package in .venv and .venv-student; torch in one shared step
    for command in installs:
        assert "-c $(CONSTRAINTS)" in command, f"pip install without the constraints: {command}"
    torch_installs = [c for c in installs if c.split()[-1] == "torch"]
    assert torch_installs and all("--extra-index-url $(TORCH_CPU_INDEX)" in c for c in torch_installs)
    # the CPU index for torch alone, with no retries: an unreachable index must not stall the install
    assert all("--no-deps" in c and "--retries 0" in c for c in torch_installs)
    for stamp in ["$(STAMP)", "$(STUDENT_STAMP)"]:
        recipe = _recipe(makefile, stamp)
        assert recipe.index("install_cpu_torch") < recipe.index("-e \"."), f"{stamp}: torch is not installed first"
    assert re.search(r"^\$\(STAMP\): pyproject.toml \$\(CONSTRAINTS\)$", makefile, flags=re.M)
    assert re.search(r"^\$\(STUDENT_STAMP\): pyproject.toml \$\(CONSTRAINTS\)$", makefile, flags=re.M)


def test_make_test_runs_every_part_and_the_student_check_uses_the_lab_extra_alone():
    makefile = (ROOT / "Makefile").read_text()
    parts = _recipe(makefile, "test").split()
    for part in ["lint", "unit", "unit-avx2", "notebooks", "notebooks-avx2", "site", "browser", "student-check"]:
        assert part in parts, f"make test does not run {part}"
    for target in ["unit-avx2", "notebooks-avx2"]:
        assert _recipe(makefile, target).lstrip().startswith("$(AVX2) ")
    assert _makefile_variables(makefile)["AVX2"] == "MKL_CBWR=AVX2"
    student = _recipe(makefile, "$(STUDENT_STAMP)")
    assert 'pip install --quiet -c $(CONSTRAINTS) -e ".[lab]"' in student
    check = _recipe(makefile, "student-check")
    assert "$(STUDENT_VENV)/bin/jupyter nbconvert --to notebook --execute" in check


def _install_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("\n## Install") : readme.index("\n## ", readme.index("\n## Install") + 1)]


def test_readme_pip_route_takes_torch_from_the_cpu_index_before_the_package():
    section = _install_section()
    for shell in ["bash", "powershell"]:
        blocks = re.findall(rf"```{shell}\n(.*?)```", section, flags=re.S)
        pip_route = [b for b in blocks if 'pip install -e ".[lab]"' in b]
        assert pip_route, f"no {shell} block with the pip route"
        commands = pip_route[0]
        torch_line = f"pip install torch --index-url {CPU_INDEX}"
        assert torch_line in commands and commands.index(torch_line) < commands.index('pip install -e ".[lab]"')
        assert "jupyter lab notebooks" in commands


def test_ci_runs_the_documented_test_command_and_the_documented_commands_are_make_targets():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in ci if line.strip() and not line.strip().startswith("#")]
    assert commands[-1] == "make test"
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    documented = {name: set(re.findall(r"^make ([\w-]+)", (ROOT / name).read_text(), flags=re.M))
                  for name in ("README.md", "REFERENCE.md")}
    assert "test" in documented["REFERENCE.md"], "REFERENCE.md does not give make test"
    for name, named in documented.items():
        assert named <= targets, f"{name} names make targets the Makefile lacks: {named - targets}"


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
               "ppo_recipe": "ppo_recipe", "peer_ppo": "peer_ppo", "marl_variants": "marl_variants",
               "marl_settings": "marl_settings"}


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


@pytest.mark.parametrize("script", ["cartpole_ablation", "marl_recipe", "ppo_recipe", "peer_ppo", "marl_variants",
                                    "marl_settings"])
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


def test_license_and_citation_files():
    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and re.search(r"Copyright \(c\) \d{4} \S+", license_text)
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["version"] == project["version"]
    assert citation["license"] == "MIT" and citation["authors"] and citation["title"]
    assert any("2404.15597" in i["value"] for r in citation["references"] for i in r["identifiers"])
