"""data/cartpole/ loads, matches its schema and agrees with itself (the files are written by
`grsn-edu reproduce cartpole`): every summary row is the summary of its curves, the grid is complete, and each
agent file holds the lowest seed's settings."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.experiments.aggregate import summary_table
from grsn_edu.experiments.grids import AGENTS, SUMMARY_COLUMNS, agent_config, read_cartpole_summary
from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS, load_agent, summarize
from grsn_edu.rl.presets import AGENTS as PRESETS
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "cartpole"
KEY = ["env", "agent", "seed"]
#: The grid the README's first two commands make: both tasks, every agent, seeds 0-4, 100k steps; and the MLP on
#: the fully observed CartPole-F.
GRID = {"env": ["CartPole-P", "CartPole-V"], "agent": list(AGENTS), "seed": [0, 1, 2, 3, 4], "total_steps": 100_000}
FULLY_OBSERVED = {("CartPole-F", "mlp", s) for s in GRID["seed"]}


@pytest.fixture(scope="module")
def data():
    return (read_csv(DATA / "summary.csv", SUMMARY_COLUMNS), read_csv(DATA / "eval_curves.csv", KEY + EVAL_COLUMNS),
            read_csv(DATA / "train_curves.csv", KEY + TRAIN_COLUMNS))


def test_schema_and_the_grid_is_complete(data):
    summary, evals, trains = data
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert list(evals.columns) == KEY + EVAL_COLUMNS and list(trains.columns) == KEY + TRAIN_COLUMNS
    cells = {(e, a, s) for e in GRID["env"] for a in GRID["agent"] for s in GRID["seed"]} | FULLY_OBSERVED
    assert sorted(summary[KEY].itertuples(index=False, name=None)) == sorted(cells)  # each cell once
    assert (summary["total_steps"] == GRID["total_steps"]).all()
    for curves in (evals, trains):
        assert set(curves[KEY].itertuples(index=False, name=None)) == cells, "curves of a run not in the summary"
    assert len(summary_table(summary)) == summary.groupby(["env", "agent"]).ngroups


def test_summary_rows_are_the_summary_of_their_curves(data):
    summary, evals, trains = data
    ev_by_run, tr_by_run = dict(list(evals.groupby(KEY))), dict(list(trains.groupby(KEY)))
    for row in summary.itertuples(index=False):
        run = (row.env, row.agent, row.seed)
        ev, tr = ev_by_run[run], tr_by_run[run]
        cfg = agent_config(row.env, row.agent, row.seed, row.total_steps)
        batch = cfg.num_envs * cfg.num_steps
        assert ev["global_step"].is_monotonic_increasing and tr["global_step"].is_monotonic_increasing
        assert ev["global_step"].iloc[-1] == (row.total_steps // batch) * batch, f"{run} did not finish"
        assert (ev["eval_episodes"] == cfg.eval_episodes).all()
        for column, value in summarize(tr, ev).items():
            recorded = getattr(row, column)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                assert pd.isna(recorded), (run, column)
            else:
                assert recorded == pytest.approx(value), (run, column)
        assert ev["train_return_ma20"].iloc[-1] == pytest.approx(row.final_train_ma20)


def test_training_curves_agree_with_themselves(data):
    _, _, trains = data
    # CartPole pays 1 per step: an episode's return is its length
    assert (trains["episode_return"] == trains["episode_length"]).all()
    for run, tr in trains.groupby(KEY):
        ma20 = tr["episode_return"].rolling(20, min_periods=1).mean()
        np.testing.assert_allclose(tr["return_ma20"], ma20, err_msg=str(run))


def test_firing_rate_is_recorded_for_spiking_agents_only(data):
    summary, evals, _ = data
    for frame in (summary, evals):
        spiking = frame["agent"].map(lambda a: PRESETS[a].core in ("lif", "grsn", "grsn-eq17", "grsn-first-release"))
        assert frame.loc[spiking, "firing_rate"].between(0, 1).all()
        assert frame.loc[~spiking, "firing_rate"].isna().all()


def test_the_grid_s_reader_accepts_the_file_and_names_what_a_cut_file_lacks(tmp_path):
    assert len(read_cartpole_summary(DATA)) == len(read_csv(DATA / "summary.csv", SUMMARY_COLUMNS))
    lines = (DATA / "summary.csv").read_text().splitlines()
    (tmp_path / "summary.csv").write_text("\n".join(lines[: len(lines) // 2]) + "\n")  # cut mid-file
    with pytest.raises(ValueError, match=r"lacks \d+ of the 70 runs of its grid.*grsn-edu reproduce cartpole"):
        read_cartpole_summary(tmp_path)
    (tmp_path / "summary.csv").write_text("\n".join(lines[:3]) + "\nCartPole-P,mlp,0,1")  # cut mid-row
    with pytest.raises(ValueError, match="grsn-edu reproduce cartpole"):
        read_cartpole_summary(tmp_path)


def test_one_agent_file_per_env_and_agent_with_its_lowest_seed(data):
    summary, _, _ = data
    groups = summary.groupby(["env", "agent"])["seed"].min()
    assert sorted(p.name for p in (DATA / "agents").glob("*.pt")) == sorted(f"{e}-{a}.pt" for e, a in groups.index)
    for (env_id, agent), seed in groups.items():
        net, cfg = load_agent(DATA / "agents" / f"{env_id}-{agent}.pt")
        assert cfg == agent_config(env_id, agent, int(seed), GRID["total_steps"]), (env_id, agent)
        assert not net.training
