"""data/marl/ and data/marl_recipe/ load, match their schema and agree with themselves (data/marl is written by
`grsn-edu reproduce marl`, data/marl_recipe by scripts/marl_recipe.py): summary rows are the summary of their
curves, the grid is complete, the baselines are what their functions score, each agent file holds its cell's
config."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.envs.spread import MARL_IDS, MAX_CYCLES
from grsn_edu.experiments.grids import (
    MARL_AGENTS,
    MARL_SUMMARY_COLUMNS,
    marl_run_summary,
    random_team_returns,
)
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARL_TRAIN_COLUMNS, MARLConfig, load_marl_agent
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "marl"
KEY = ["env", "agent", "mixer", "seed"]
BASELINES = {"random", "formation", "scripted"}
#: The grid of the README's loop: gru and grsn with QMIX and VDN, mlp and lif with QMIX, seeds 0-2, both tasks.
GRID = {(env_id, agent, mixer, seed) for env_id in ("simple_spread", "spread_memory") for seed in (0, 1, 2)
        for agent, mixer in [("gru", "qmix"), ("gru", "vdn"), ("grsn", "qmix"), ("grsn", "vdn"), ("mlp", "qmix"),
                             ("lif", "qmix")]}


def grid_config(env_id: str, agent: str, mixer: str, seed: int) -> MARLConfig:
    spec = MARL_AGENTS[agent]
    return MARLConfig(env_id=env_id, core=spec["core"], mixer=mixer, seed=seed,
                      core_options=dict(spec["core_options"])).validate()


@pytest.fixture(scope="module")
def data():
    return (read_csv(DATA / "summary.csv", MARL_SUMMARY_COLUMNS), read_csv(DATA / "eval_curves.csv",
            KEY + MARL_EVAL_COLUMNS), read_csv(DATA / "train_curves.csv", KEY + MARL_TRAIN_COLUMNS))


def test_schema_and_the_grid_is_complete(data):
    summary, evals, trains = data
    assert list(summary.columns) == MARL_SUMMARY_COLUMNS
    assert list(evals.columns) == KEY + MARL_EVAL_COLUMNS and list(trains.columns) == KEY + MARL_TRAIN_COLUMNS
    learned = summary[~summary["agent"].isin(BASELINES)]
    assert sorted(learned[KEY].itertuples(index=False, name=None)) == sorted(GRID)  # each cell once
    assert (learned["episodes"] == MARLConfig().episodes).all()
    for curves in (evals, trains):
        assert set(curves[KEY].itertuples(index=False, name=None)) == GRID, "curves of a run not in the summary"
    baselines = summary[summary["agent"].isin(BASELINES)]
    assert sorted(zip(baselines["env"], baselines["agent"])) == sorted((e, b) for e in MARL_IDS for b in BASELINES)
    assert (baselines["mixer"] == "none").all() and baselines["spikes_per_decision"].isna().all()


def test_summary_rows_are_the_summary_of_their_curves(data):
    summary, evals, trains = data
    ev_by_run, tr_by_run = dict(list(evals.groupby(KEY))), dict(list(trains.groupby(KEY)))
    for row in summary[~summary["agent"].isin(BASELINES)].itertuples(index=False):
        run = (row.env, row.agent, row.mixer, row.seed)
        cfg = grid_config(*run)
        ev, tr = ev_by_run[run], tr_by_run[run]
        assert ev["episode"].tolist() == list(range(cfg.eval_interval, cfg.episodes + 1, cfg.eval_interval)), run
        assert (ev["eval_episodes"] == cfg.eval_episodes).all()
        assert tr["episode"].tolist() == list(range(1, cfg.episodes + 1)), run
        for curve in (ev, tr):  # every episode lasts MAX_CYCLES steps
            assert (curve["env_steps"] == curve["episode"] * MAX_CYCLES).all(), run
        expected = marl_run_summary(vars(cfg), ev, tr)
        for column, value in expected.items():
            recorded = getattr(row, column)
            assert (pd.isna(recorded) and np.isnan(value)) or recorded == pytest.approx(value), (run, column)


def test_training_and_evaluation_curves_agree_with_the_config(data):
    summary, evals, trains = data
    for run, tr in trains.groupby(KEY):
        cfg = grid_config(*run)
        eps = tr["epsilon"].to_numpy()
        assert eps[0] == cfg.epsilon_start and eps[-1] == pytest.approx(cfg.epsilon_end) and (np.diff(eps) <= 0).all()
        # no update until the buffer holds a batch of episodes
        assert tr["loss"].isna().tolist() == (tr["episode"] < cfg.batch_size).tolist(), run
    spiking = evals["agent"].map(lambda a: MARL_AGENTS[a]["core"] in ("lif", "grsn"))
    assert evals.loc[~spiking, ["firing_rate", "spikes_per_decision"]].isna().all().all()
    rate = evals.loc[spiking, "spikes_per_decision"] / MARLConfig().hidden_size  # spikes per unit per step
    np.testing.assert_allclose(evals.loc[spiking, "firing_rate"], rate)
    assert evals.loc[spiking, "firing_rate"].between(0, 1).all()


def test_baseline_rows_are_what_the_baselines_score(data):
    """The floor of the README's "gap closed" column, recomputed (100 episodes, seeds 0-99; the slower scripted
    ceiling is left out to keep the suite fast). The world of both tasks is the same and no baseline reads the
    agents' observations, so every baseline scores the same on both."""
    summary, _, _ = data
    baseline = summary[summary["agent"].isin(BASELINES)].set_index(["env", "agent"])["final_eval_return"]
    assert baseline["simple_spread"].sort_index().equals(baseline["spread_memory"].sort_index())
    assert baseline[("simple_spread", "random")] == pytest.approx(random_team_returns("simple_spread").mean())


def test_one_loadable_agent_per_learned_group_with_its_lowest_seed(data):
    summary, _, _ = data
    groups = summary[~summary["agent"].isin(BASELINES)].groupby(["env", "agent", "mixer"])["seed"].min()
    assert sorted(p.name for p in (DATA / "agents").glob("*.pt")) == sorted(f"{'-'.join(g)}.pt" for g in groups.index)
    for (env_id, agent, mixer), seed in groups.items():
        net, cfg = load_marl_agent(DATA / "agents" / f"{env_id}-{agent}-{mixer}.pt")
        assert cfg == grid_config(env_id, agent, mixer, int(seed))
        assert not net.training


# -- data/marl_recipe ---------------------------------------------------------------------------------------------


def test_recipe_data_schema_and_agreement_with_its_curves(load_script):
    recipe = DATA.parent / "marl_recipe"
    script = load_script("marl_recipe")
    summary = read_csv(recipe / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(recipe / "eval_curves.csv", script.KEY + MARL_EVAL_COLUMNS)
    assert list(summary.columns) == script.SUMMARY_COLUMNS and list(evals.columns) == script.KEY + MARL_EVAL_COLUMNS
    assert set(summary["variant"]) <= set(script.VARIANTS) and not summary.duplicated(script.KEY).any()
    by_run = dict(list(evals.groupby(script.KEY)))
    assert set(by_run) == set(summary[script.KEY].itertuples(index=False, name=None))
    for row in summary.itertuples(index=False):
        cell = (row.variant, row.env, row.agent, row.mixer, row.seed)
        cfg = script.config(*cell)
        ev = by_run[cell]
        assert row.episodes == cfg.episodes and ev["episode"].iloc[-1] == cfg.episodes
        assert ev["eval_return_mean"].iloc[-1] == pytest.approx(row.final_eval_return)
        assert ev["eval_return_mean"].max() == pytest.approx(row.best_eval_return)
        assert ev["wall_time_s"].iloc[-1] == pytest.approx(row.wall_time_s)
