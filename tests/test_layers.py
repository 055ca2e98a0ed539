"""The package's layers: each module imports only modules of its own layer or the layers below, with no cycle.

Every import counts, including one deferred into a function body: a deferred import hides a cycle from Python
but not from a reader.
"""

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "grsn_edu"

#: Layers from the bottom up. ``snn`` and ``envs`` are side by side: neither imports the other.
LAYERS = {"util": 0, "snn": 1, "envs": 1, "rl": 2, "experiments": 3, "course": 4}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(path: Path, name: str | None = None) -> set[str]:
    """Every ``grsn_edu`` module that ``path`` (module ``name``) imports, anywhere in the file."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("grsn_edu")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("grsn_edu"):
                for alias in node.names:  # "from grsn_edu.course.checks import grsn" imports a submodule
                    sub = f"{target}.{alias.name}"
                    found.add(sub if module_path(sub) else target)
    found.discard(name)
    return found


def module_path(name: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def layer(name: str) -> int | None:
    parts = name.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


@functools.cache
def import_graph() -> dict[str, set[str]]:
    return {module_name(p): package_imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_layer():
    top_level = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top_level == ["__init__.py"], f"modules outside the layers: {top_level}"
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(LAYERS)


def misplaced_imports(module: str, imports: set[str]) -> set[str]:
    """The imports of ``module`` that come from a layer above it, from another package of its own layer, or from
    outside the layers; the package's ``__init__`` may re-export anything but the course."""
    here = layer(module)
    if here is None:
        return {t for t in imports if layer(t) == LAYERS["course"]}
    return {t for t in imports if layer(t) is None or layer(t) > here
            or (layer(t) == here and t.split(".")[1] != module.split(".")[1])}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, set())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, path + [nxt])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


@pytest.mark.parametrize("module", sorted(import_graph()))
def test_imports_go_down_the_layers(module):
    wrong = misplaced_imports(module, import_graph()[module])
    assert not wrong, f"{module} (layer {module.split('.')[1:2]}) imports {sorted(wrong)} from above or beside it"


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_flags_upward_and_sideways_imports_and_cycles():
    """These tests guard the checker: an import up, sideways or from the course is seen, and so is a cycle."""
    assert misplaced_imports("grsn_edu.snn.cores", {"grsn_edu.util.files", "grsn_edu.snn.neurons"}) == set()
    assert misplaced_imports("grsn_edu.snn.cores", {"grsn_edu.rl.ppo", "grsn_edu.envs.spread"}) == {
        "grsn_edu.rl.ppo", "grsn_edu.envs.spread"}
    assert misplaced_imports("grsn_edu.util.files", {"grsn_edu"}) == {"grsn_edu"}
    assert misplaced_imports("grsn_edu", {"grsn_edu.rl.ppo", "grsn_edu.course.plots"}) == {"grsn_edu.course.plots"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_checker_sees_a_deferred_import(tmp_path):
    """The graph is read from the source, so an import inside a function counts (this test guards the checker)."""
    probe = tmp_path / "probe.py"
    probe.write_text("import torch\n\ndef f():\n    from grsn_edu.rl import ppo\n    from ..envs import spread\n")
    assert package_imports(probe, "grsn_edu.snn.probe") == {"grsn_edu.rl.ppo", "grsn_edu.envs.spread"}


def test_the_neuron_layer_loads_without_the_environments():
    """``import grsn_edu.snn.neurons`` runs the package root first: the root must not pull in the environments."""
    import subprocess
    import sys

    code = ("import sys, grsn_edu.snn.neurons; "
            "print(sorted(m for m in ('gymnasium', 'pettingzoo') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
