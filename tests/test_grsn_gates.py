"""The chapter on what drives GRSN's gates: the exercise check (passes on the solution, fails on wrong answers) and
the gate-input sweep (script and saved data). Its figures are tested with the GRSN chapter's, tests/test_grsn.py."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from grsn_edu import count_core_ops, make_core
from grsn_edu.course.checks import grsn_gates as checks
from grsn_edu.course.solutions import grsn_gates as solutions
from grsn_edu.experiments.memory import RESULT_DTYPES, load_memory_results
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ

ROOT = Path(__file__).resolve().parents[1]
torch.set_num_threads(1)  # small tensors; the machine is shared


# -- solution and check ------------------------------------------------------------------------------------------
def test_gate_energy_solution_by_hand():
    # H = 4: 8 targets. spikes: 3 spikes x 8 + 8 bias ACs; input: 2 x 8 MACs + 8 bias ACs; both: the sum, one bias
    assert solutions.gate_energy_pj("spikes", 3, 2, 4) == pytest.approx(E_AC_PJ * 32)
    assert solutions.gate_energy_pj("input", 3, 2, 4) == pytest.approx(E_MAC_PJ * 16 + E_AC_PJ * 8)
    assert solutions.gate_energy_pj("both", 3, 2, 4) == pytest.approx(E_MAC_PJ * 16 + E_AC_PJ * 32)


def test_check_gate_energy(check_contract):
    ref = solutions.gate_energy_pj
    wrong = {
        "bias is missing": lambda g, n, i, h: ref(g, n, i, h) - E_AC_PJ * 2 * h,
        "2H targets": lambda g, n, i, h: ref(g, n, i, h) / 2,
        "not multiplied": lambda g, n, i, h: (E_MAC_PJ * 2 * h * n + E_AC_PJ * 2 * h if g == "spikes"
                                              else ref(g, n, i, h)),
        "must be multiplied": lambda g, n, i, h: E_AC_PJ * 2 * h * (i + 1) if g == "input" else ref(g, n, i, h),
        "one bias, not two": lambda g, n, i, h: ref(g, n, i, h) + (E_AC_PJ * 2 * h if g == "both" else 0.0),
        "no spikes reach the gates": lambda g, n, i, h: E_AC_PJ * 2 * h * (n + 1),
    }
    check_contract(checks.check_gate_energy, ref, wrong)


def test_measured_gate_energy_is_count_core_ops_and_the_formula():
    for gate_input in ("spikes", "input", "both"):
        spikes, energy = checks.measured_gate_energy(gate_input, 16, 4, seed=5)
        assert spikes > 0
        assert energy == pytest.approx(solutions.gate_energy_pj(gate_input, spikes, 4, 16))
    # spike-driven gates contain no MACs at all
    torch.manual_seed(0)
    core = make_core("grsn", 4, 16, gate_input="spikes")
    rows = [r for r in count_core_ops(core, torch.randn(10, 2, 4)).rows if r.layer == "gates"]
    assert len(rows) == 1 and rows[0].mac == 0 and rows[0].note == "spike-driven"


# -- the sweep ---------------------------------------------------------------------------------------------------
def _load_script():
    spec = importlib.util.spec_from_file_location("gate_input_sweep", ROOT / "scripts" / "gate_input_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_script_writes_resumes_and_matches_the_schema(tmp_path, capsys):
    sweep = _load_script()
    out = tmp_path / "gate.csv"
    args = ["--delays", "1", "--seeds", "0", "--steps", "2", "--hidden-size", "4", "--test-size", "8",
            "--out", str(out)]
    assert sweep.main(args) == 0
    df = load_memory_results(out)
    assert list(df.columns) == list(RESULT_DTYPES)
    assert sorted(df["options"]) == ["gate_input=both", "gate_input=input", "gate_input=spikes"]
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind
    capsys.readouterr()
    assert sweep.main(args) == 0
    assert "3 of 3 runs done, 0 to do" in capsys.readouterr().out
    assert len(load_memory_results(out)) == 3


def test_saved_gate_input_sweep():
    path = ROOT / "data" / "gate_input" / "results.csv"
    readme = (ROOT / "data" / "gate_input" / "README.md").read_text()
    assert "scripts/gate_input_sweep.py" in readme
    df = load_memory_results(path)
    assert (df["core"] == "grsn").all()
    grid = df.groupby(["options", "delay"])["seed"].nunique()
    assert set(df["options"]) == {"gate_input=spikes", "gate_input=input", "gate_input=both"}
    assert (grid == 3).all() and sorted(df["delay"].unique()) == [1, 2, 5, 10, 20, 40]
    protocol_values = df[["steps", "lr", "hidden_size", "test_size"]].drop_duplicates().values.tolist()
    assert protocol_values == [[800, 0.01, 32, 1024]]
    # the spike-driven runs repeat chapter 02's grsn runs (same protocol, deterministic on CPU)
    memory = load_memory_results(ROOT / "data" / "memory_task" / "results.csv")
    protocol = ["delay", "seed", "steps", "lr", "hidden_size", "test_size"]
    same = df[df["options"] == "gate_input=spikes"].merge(memory[memory["core"] == "grsn"], on=protocol,
                                                          suffixes=("", "_02"))
    if len(same):
        assert np.allclose(same["accuracy"], same["accuracy_02"])
