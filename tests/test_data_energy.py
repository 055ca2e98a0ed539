"""data/energy/ loads, matches its schema and agrees with itself and with the runs it measured (written by
scripts/energy_table.py): energies follow from the operation counts, layers sum to agents, every agent file has
a row with its settings, and the greedy returns equal the final evaluation in the runs' summary.csv."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.envs.spread import MAX_CYCLES, make_marl_env
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ
from grsn_edu.util.files import load_checkpoint, read_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "energy"
STALE = "data/energy is stale: re-run `.venv/bin/python scripts/energy_table.py`"


def _script():
    spec = importlib.util.spec_from_file_location("energy_table", ROOT / "scripts" / "energy_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_describes_every_column():
    text = (DATA / "README.md").read_text()
    script = _script()
    for column in script.AGENT_COLUMNS + script.LAYER_COLUMNS:
        assert f" {column}" in text or f"{column}," in text, f"data/energy/README.md does not describe {column!r}"


def test_per_agent_schema_and_energies_follow_from_the_counts():
    script = _script()
    table = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS)
    assert list(table.columns) == script.AGENT_COLUMNS
    assert len(table) > 0 and not table.duplicated(["task", "agent", "algo"]).any()
    np.testing.assert_allclose(table["energy_pj"], E_MAC_PJ * table["mac_per_decision"]
                               + E_AC_PJ * table["ac_per_decision"])
    assert (table["energy_pj"] > 0).all() and (table["energy_pj_dense_inputs"] >= table["energy_pj"] - 1e-6).all()
    for (task, algo), group in table.groupby(["task", "algo"]):
        gru = group.loc[group["agent"] == "gru", "energy_pj"]
        if task == "CartPole-F":  # the fully observed reference: an MLP only, no GRU to compare with
            assert set(group["agent"]) == {"mlp"} and group["energy_ratio_to_gru"].isna().all()
            continue
        assert len(gru) == 1, (task, algo)
        np.testing.assert_allclose(group["energy_ratio_to_gru"], group["energy_pj"] / gru.iloc[0])


def test_spikes_and_decisions_agree_with_the_episodes():
    script = _script()
    table = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS)
    spiking = table["firing_rate"].notna()
    assert set(table.loc[spiking, "agent"]) == {"lif", "grsn", "grsn-notap", "grsn-eq17", "grsn-first-release"}
    assert table.loc[spiking, "firing_rate"].between(0, 1).all()
    assert table.loc[~spiking, "spikes_per_decision"].isna().all()
    # firing rate: spikes per unit per spiking update; an agent decision runs `substeps` updates of every unit
    np.testing.assert_allclose(table.loc[spiking, "spikes_per_decision"],
                               (table["firing_rate"] * table["hidden_size"] * table["substeps"])[spiking])
    cartpole = table["algo"] == "ppo"
    # CartPole pays 1 per step and counts one decision per step, so the decisions are the summed returns
    np.testing.assert_allclose(table.loc[cartpole, "decisions"],
                               (table["return_mean"] * table["episodes"])[cartpole])
    for row in table[~cartpole].itertuples(index=False):  # MAX_CYCLES steps of every agent per episode
        agents = len(make_marl_env(row.task).possible_agents)
        assert row.decisions == row.episodes * MAX_CYCLES * agents, row.task


def test_each_row_has_its_agent_files_settings_and_its_runs_final_return():
    script = _script()
    table = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS)
    summaries = {folder: pd.read_csv(ROOT / "data" / folder / "summary.csv") for folder in ("cartpole", "marl")}
    for row in table.itertuples(index=False):
        cfg = load_checkpoint(ROOT / row.agent_file)["config"]
        assert (row.seed, row.hidden_size, row.substeps) == (cfg["seed"], cfg["hidden_size"], cfg["substeps"])
        assert row.task == cfg["env_id"]
        folder = "cartpole" if row.algo == "ppo" else "marl"
        summary = summaries[folder]
        pick = (summary["env"] == row.task) & (summary["agent"] == row.agent) & (summary["seed"] == row.seed)
        if folder == "marl":
            pick &= summary["algo"] == row.algo
        final = summary.loc[pick, "final_eval_return"]
        assert len(final) == 1, (row.task, row.agent, row.algo)
        # the same 20 greedy episodes (seeds 10000 + training seed) as the run's final evaluation
        assert row.summary_final_eval_return == pytest.approx(final.item())
        # (multi-agent: played one at a time in mpe2 here, as a batch of numpy worlds in training: float rounding)
        assert row.return_mean == pytest.approx(final.item(), rel=1e-5), \
            f"{row.agent_file}: greedy return {row.return_mean} differs from its run's final evaluation"


def test_per_layer_sums_to_per_agent():
    script = _script()
    agents = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS)
    layers = read_csv(DATA / "per_layer.csv", script.LAYER_COLUMNS)
    assert list(layers.columns) == script.LAYER_COLUMNS
    np.testing.assert_allclose(layers["energy_pj"], E_MAC_PJ * layers["mac_per_decision"]
                               + E_AC_PJ * layers["ac_per_decision"])
    sums = layers.groupby(["task", "agent", "algo"])[["mac_per_decision", "ac_per_decision", "energy_pj"]].sum()
    assert len(sums) == len(agents)
    for row in agents.itertuples(index=False):
        layer_sum = sums.loc[(row.task, row.agent, row.algo)]
        assert layer_sum["energy_pj"] == pytest.approx(row.energy_pj)
        assert layer_sum["mac_per_decision"] == pytest.approx(row.mac_per_decision)
        assert layer_sum["ac_per_decision"] == pytest.approx(row.ac_per_decision)
    assert (layers["energy_pj"] >= 0).all()


def test_one_row_per_agent_file():
    table = pd.read_csv(DATA / "per_agent.csv")
    files = sorted(str(p.relative_to(ROOT)) for folder in ("cartpole", "marl")
                   for p in (ROOT / "data" / folder / "agents").glob("*.pt"))
    assert sorted(table["agent_file"]) == files, STALE


def test_script_rejects_bad_arguments(capsys):
    script = _script()
    for argv, message in [(["--episodes", "0"], "--episodes must be an integer >= 1"),
                          (["--threads", "0"], "--threads"), (["--cartpole-agents", "/nonexistent"], "not a folder"),
                          (["--eval-seed", "-1"], "--eval-seed must be an integer >= 0")]:
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
    full = read_csv(DATA / "per_agent.csv", script.AGENT_COLUMNS).set_index("agent_file")
    # a GRU's operations do not depend on its inputs: the same energy per decision as over 20 episodes
    assert table["energy_pj"].iloc[0] == pytest.approx(full.loc["data/cartpole/agents/CartPole-P-gru.pt", "energy_pj"])
    row = table.iloc[0]
    headline = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| CartPole-P | gru |")]
    assert len(headline) == 1  # RESULTS.md's table: task, agent, return, energy, ratio to GRU
    cells = [c.strip().replace(",", "") for c in headline[0].strip("|").split("|")]
    printed_return, printed_energy, printed_ratio = map(float, cells[2:])
    assert printed_return == pytest.approx(row.return_mean, abs=0.05)
    assert printed_energy == pytest.approx(row.energy_pj, abs=0.5) and printed_ratio == 1.0
