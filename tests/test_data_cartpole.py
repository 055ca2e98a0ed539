"""data/cartpole/ loads and matches its schema (the files are written by `grsn-edu reproduce cartpole`)."""

from pathlib import Path

import numpy as np
import pytest

from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS
from grsn_edu.experiments.grids import AGENTS, SUMMARY_COLUMNS, summary_table
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "cartpole"
KEY = ["env", "agent", "seed"]


def test_readme_gives_the_regenerating_command():
    assert "grsn-edu reproduce cartpole" in (DATA / "README.md").read_text()


def test_summary_schema_and_values():
    summary = read_csv(DATA / "summary.csv", SUMMARY_COLUMNS)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) > 0 and not summary.duplicated(KEY).any()
    assert set(summary["agent"]) <= set(AGENTS)
    assert set(summary["env"]) <= {"CartPole-P", "CartPole-V", "CartPole-VF"}
    assert summary["final_eval_return"].between(8, 500).all()
    reached = summary["steps_to_target_eval"].dropna()
    assert (reached > 0).all() and (reached <= summary["total_steps"].max()).all()
    spiking = summary["agent"].isin(["lif", "grsn", "grsn-notap"])
    assert summary.loc[spiking, "firing_rate"].between(0, 1).all()
    assert summary.loc[~spiking, "firing_rate"].isna().all()
    assert len(summary_table(summary)) == summary.groupby(["env", "agent"]).ngroups


def test_curves_schema_and_agreement_with_summary():
    summary = read_csv(DATA / "summary.csv", SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", KEY + EVAL_COLUMNS)
    trains = read_csv(DATA / "train_curves.csv", KEY + TRAIN_COLUMNS)
    assert list(evals.columns) == KEY + EVAL_COLUMNS and list(trains.columns) == KEY + TRAIN_COLUMNS
    for _, row in summary.iterrows():
        ev = evals[(evals.env == row.env) & (evals.agent == row.agent) & (evals.seed == row.seed)]
        assert len(ev) >= 5 and ev["global_step"].is_monotonic_increasing
        assert ev["eval_return_mean"].iloc[-1] == pytest.approx(row.final_eval_return)
        tr = trains[(trains.env == row.env) & (trains.agent == row.agent) & (trains.seed == row.seed)]
        assert len(tr) > 0 and np.all(tr["episode_return"].between(1, 500))
