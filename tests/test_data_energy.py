"""data/energy/ loads, matches its schema and covers every agent file (written by scripts/energy_table.py)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.util.files import read_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "energy"
STALE = "data/energy is stale: re-run `.venv/bin/python scripts/energy_table.py`"


def _script():
    spec = importlib.util.spec_from_file_location("energy_table", ROOT / "scripts" / "energy_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_gives_the_command_and_the_columns():
    text = (DATA / "README.md").read_text()
    assert "scripts/energy_table.py" in text
    script = _script()
    for column in script.AGENT_COLUMNS + script.LAYER_COLUMNS:
        assert column in text, f"data/energy/README.md does not describe the column {column!r}"


def test_per_agent_schema_and_values():
    script = _script()
    table = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS)
    assert list(table.columns) == script.AGENT_COLUMNS
    assert len(table) > 0 and not table.duplicated(["task", "agent", "mixer"]).any()
    assert (table["energy_pj"] > 0).all() and (table["energy_pj_dense_inputs"] >= table["energy_pj"] - 1e-6).all()
    assert np.allclose(table["energy_pj"], 4.6 * table["mac_per_decision"] + 0.9 * table["ac_per_decision"])
    assert (table["decisions"] > 0).all() and (table["episodes"] >= 1).all()
    spiking = table["agent"].isin(["lif", "grsn", "grsn-notap"])
    assert table.loc[spiking, "firing_rate"].between(0, 1).all() and table.loc[~spiking, "firing_rate"].isna().all()
    gru = table[table["agent"] == "gru"]
    assert np.allclose(gru["energy_ratio_to_gru"], 1.0)
    matched = table.dropna(subset=["summary_final_eval_return"])
    assert np.allclose(matched["return_mean"], matched["summary_final_eval_return"]), \
        "greedy returns differ from the runs' final evaluation in summary.csv"


def test_per_layer_sums_to_per_agent():
    script = _script()
    agents = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS)
    layers = read_csv(DATA / "per_layer.csv", script.LAYER_COLUMNS)
    assert list(layers.columns) == script.LAYER_COLUMNS
    sums = layers.groupby(["task", "agent", "mixer"])["energy_pj"].sum()
    for _, row in agents.iterrows():
        assert sums[(row.task, row.agent, row.mixer)] == pytest.approx(row.energy_pj)
    assert (layers["energy_pj"] >= 0).all()


def test_one_row_per_agent_file():
    table = pd.read_csv(DATA / "per_agent.csv")
    files = sorted(str(p.relative_to(ROOT)) for folder in ("cartpole", "marl")
                   for p in (ROOT / "data" / folder / "agents").glob("*.pt"))
    assert sorted(table["agent_file"]) == files, STALE


def test_script_rejects_bad_arguments(capsys):
    script = _script()
    for argv, message in [(["--episodes", "0"], "--episodes"), (["--threads", "0"], "--threads"),
                          (["--cartpole-agents", "/nonexistent"], "not a folder"), (["--eval-seed", "-1"], "--eval-seed")]:
        with pytest.raises(SystemExit):
            script.parse_args(argv)
        assert message in capsys.readouterr().err


def test_script_runs_on_one_agent(tmp_path, capsys):
    import shutil

    script = _script()
    agents, empty = tmp_path / "cartpole" / "agents", tmp_path / "marl" / "agents"
    agents.mkdir(parents=True)
    empty.mkdir(parents=True)
    shutil.copy(ROOT / "data" / "cartpole" / "agents" / "CartPole-P-gru.pt", agents)
    out = tmp_path / "energy"
    assert script.main(["--cartpole-agents", str(agents), "--marl-agents", str(empty), "--out", str(out),
                        "--episodes", "2"]) == 0
    table = read_csv(out / "per_agent.csv", script.AGENT_COLUMNS)
    assert len(table) == 1 and table["energy_ratio_to_gru"].iloc[0] == 1.0 and table["episodes"].iloc[0] == 2
    assert np.isnan(table["summary_final_eval_return"].iloc[0])  # 2 episodes: not the run's final evaluation
    printed = capsys.readouterr().out
    assert "| CartPole-P | gru |" in printed and "energy per decision (pJ)" in printed
