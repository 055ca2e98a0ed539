"""data/marl/ loads and matches its schema (the files are written by `grsn-edu reproduce marl`)."""

from pathlib import Path

import numpy as np
import pytest

from grsn_edu.envs.spread import MARL_IDS
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARL_TRAIN_COLUMNS, load_marl_agent
from grsn_edu.rl.mixers import MIXERS
from grsn_edu.experiments.grids import MARL_AGENTS, MARL_SUMMARY_COLUMNS
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "marl"
KEY = ["env", "agent", "mixer", "seed"]
BASELINES = {"random", "formation", "scripted"}


def test_readme_gives_the_regenerating_command():
    assert "grsn-edu reproduce marl" in (DATA / "README.md").read_text()


def test_summary_schema_and_values():
    summary = read_csv(DATA / "summary.csv", MARL_SUMMARY_COLUMNS)
    assert list(summary.columns) == MARL_SUMMARY_COLUMNS
    assert len(summary) > 0 and not summary.duplicated(KEY).any()
    assert set(summary["env"]) <= set(MARL_IDS)
    assert set(summary["agent"]) <= set(MARL_AGENTS) | BASELINES
    baseline = summary["agent"].isin(BASELINES)
    assert (summary.loc[baseline, "mixer"] == "none").all()
    assert set(summary.loc[~baseline, "mixer"]) <= set(MIXERS)
    # team returns are negative distances and collision penalties summed over 3 agents and 25 steps
    assert summary["final_eval_return"].between(-1000, 0).all()
    for env_id, rows in summary.groupby("env"):
        ret = rows.set_index("agent")["final_eval_return"]
        assert ret["scripted"] > ret["random"], env_id  # the ceiling is above the floor on every task
    spiking = summary["agent"].isin(["lif", "grsn"])
    assert (summary.loc[spiking, "spikes_per_decision"] >= 0).all()
    assert summary.loc[~spiking, "spikes_per_decision"].isna().all()


def test_curves_schema_and_agreement_with_summary():
    summary = read_csv(DATA / "summary.csv", MARL_SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", KEY + MARL_EVAL_COLUMNS)
    trains = read_csv(DATA / "train_curves.csv", KEY + MARL_TRAIN_COLUMNS)
    assert list(evals.columns) == KEY + MARL_EVAL_COLUMNS and list(trains.columns) == KEY + MARL_TRAIN_COLUMNS
    learned = summary[~summary["agent"].isin(BASELINES)]
    assert len(learned) > 0
    for _, row in learned.iterrows():
        pick = (evals.env == row.env) & (evals.agent == row.agent) & (evals.mixer == row.mixer) & (evals.seed == row.seed)
        ev = evals[pick]
        assert len(ev) >= 5 and ev["episode"].is_monotonic_increasing and ev["episode"].iloc[-1] == row.episodes
        assert ev["eval_return_mean"].iloc[-1] == pytest.approx(row.final_eval_return)
        pick = (trains.env == row.env) & (trains.agent == row.agent) & (trains.mixer == row.mixer) & (trains.seed == row.seed)
        assert len(trains[pick]) == row.episodes and np.isfinite(trains[pick]["team_return"]).all()


def test_one_loadable_agent_per_learned_group():
    summary = read_csv(DATA / "summary.csv", MARL_SUMMARY_COLUMNS)
    learned = summary[~summary["agent"].isin(BASELINES)]
    for (env_id, agent, mixer), _ in learned.groupby(["env", "agent", "mixer"]):
        net, cfg = load_marl_agent(DATA / "agents" / f"{env_id}-{agent}-{mixer}.pt")
        assert (cfg.env_id, cfg.core, cfg.mixer) == (env_id, MARL_AGENTS[agent]["core"], mixer)
        assert not net.training


def test_recipe_data_schema(load_script):
    recipe = DATA.parent / "marl_recipe"
    assert "scripts/marl_recipe.py" in (recipe / "README.md").read_text()
    if not (recipe / "summary.csv").is_file():
        pytest.skip("data/marl_recipe has no runs yet (scripts/marl_recipe.py makes them)")
    script = load_script("marl_recipe")
    summary = read_csv(recipe / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(recipe / "eval_curves.csv", script.KEY + MARL_EVAL_COLUMNS)
    assert set(summary["variant"]) <= set(script.VARIANTS) and not summary.duplicated(script.KEY).any()
    for _, row in summary.iterrows():
        ev = evals[(evals.variant == row.variant) & (evals.seed == row.seed) & (evals.agent == row.agent)]
        assert ev["episode"].iloc[-1] == row.episodes
        assert ev["eval_return_mean"].iloc[-1] == pytest.approx(row.final_eval_return)
