"""data/marl/ and data/marl_recipe/ load, match their schema and agree with themselves (data/marl is written by
`grsn-edu reproduce marl`, data/marl_recipe by scripts/marl_recipe.py): summary rows are the summary of their
curves, every run is a cell of the planned grid with its own settings, the baselines are what their functions
score, each agent file holds its cell's config."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.envs.spread import MAX_CYCLES
from grsn_edu.experiments.baselines import MARL_BASELINES, observation_team_returns, random_team_returns
from grsn_edu.experiments.grids import (
    MARL_AGENTS,
    MARL_ENVS,
    MARL_REFERENCE,
    MARL_REFERENCE_ENVS,
    MARL_SEEDS,
    MARL_SUMMARY_COLUMNS,
    marl_cell_config,
    marl_cells,
    marl_run_summary,
    read_marl_summary,
)
from grsn_edu.experiments.runner import read_grid_summary
from grsn_edu.rl.marl import ALGOS, load_marl_agent
from grsn_edu.rl.presets import AGENTS
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARL_TRAIN_COLUMNS
from grsn_edu.rl.team import TeamConfig
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "marl"
KEY = ["env", "agent", "algo", "seed"]
BUDGET = TeamConfig().episodes
#: The planned grid (README): the three algorithms with GRU and GRSN agents on simple_spread, seed 0, then the
#: winner with every agent on both tasks and seeds 0-2. The data holds every cell once, and nothing else.
PLANNED = ({("simple_spread", agent, algo, 0) for agent in ("gru", "grsn") for algo in ALGOS}
           | {(env_id, agent, "mappo", seed) for env_id in MARL_ENVS for agent in MARL_AGENTS for seed in (0, 1, 2)})


def grid_config(env_id: str, agent: str, algo: str, seed: int):
    return marl_cell_config(env_id, agent, algo, seed, BUDGET, first=True)


@pytest.fixture(scope="module")
def data():
    return (read_csv(DATA / "summary.csv", MARL_SUMMARY_COLUMNS), read_csv(DATA / "eval_curves.csv",
            KEY + MARL_EVAL_COLUMNS), read_csv(DATA / "train_curves.csv", KEY + MARL_TRAIN_COLUMNS))


def test_schema_and_every_run_is_a_planned_cell(data):
    summary, evals, trains = data
    assert list(summary.columns) == MARL_SUMMARY_COLUMNS
    assert list(evals.columns) == KEY + MARL_EVAL_COLUMNS and list(trains.columns) == KEY + MARL_TRAIN_COLUMNS
    learned = summary[summary["algo"] != "none"]
    cells = list(learned[KEY].itertuples(index=False, name=None))
    assert len(cells) == len(set(cells)) and set(cells) == PLANNED, sorted(PLANNED ^ set(cells))  # each cell once
    assert (learned["episodes"] == BUDGET).all()
    for curves in (evals, trains):
        assert set(curves[KEY].itertuples(index=False, name=None)) == set(cells), "curves of a run not in the summary"
    baselines = summary[summary["algo"] == "none"]
    assert sorted(zip(baselines["env"], baselines["agent"])) == sorted(
        (e, b) for e in set(summary["env"]) for b in MARL_BASELINES)
    assert baselines["spikes_per_decision"].isna().all()


def test_summary_rows_are_the_summary_of_their_curves(data):
    summary, evals, trains = data
    ev_by_run, tr_by_run = dict(list(evals.groupby(KEY))), dict(list(trains.groupby(KEY)))
    for row in summary[summary["algo"] != "none"].itertuples(index=False):
        run = (row.env, row.agent, row.algo, row.seed)
        cfg = grid_config(*run)
        ev, tr = ev_by_run[run], tr_by_run[run]
        assert ev["episode"].tolist() == list(range(cfg.eval_interval, cfg.episodes + 1, cfg.eval_interval)), run
        assert (ev["eval_episodes"] == cfg.eval_episodes).all()
        assert tr["episode"].tolist() == list(range(cfg.num_envs, cfg.episodes + 1, cfg.num_envs)), run
        for curve in (ev, tr):  # every episode lasts MAX_CYCLES steps
            assert (curve["env_steps"] == curve["episode"] * MAX_CYCLES).all(), run
        expected = marl_run_summary(vars(cfg), {"eval_curve.csv": ev, "train_curve.csv": tr})
        for column, value in expected.items():
            recorded = getattr(row, column)
            assert (pd.isna(recorded) and np.isnan(value)) or recorded == pytest.approx(value), (run, column)


def test_spikes_in_the_curves(data):
    _, evals, trains = data
    for run, tr in trains.groupby(KEY):  # QMIX and VDN learn once the buffer holds a batch of episodes
        first = 0 if run[2] == "mappo" else grid_config(*run).batch_size
        assert tr["loss"].isna().tolist() == (tr["episode"] < first).tolist(), run
    spiking = evals["agent"].map(lambda a: AGENTS[a].core in ("lif", "grsn"))
    assert evals.loc[~spiking, ["firing_rate", "spikes_per_decision"]].isna().all().all()
    rate = evals.loc[spiking, "spikes_per_decision"] / TeamConfig().hidden_size  # spikes per unit per step
    np.testing.assert_allclose(evals.loc[spiking, "firing_rate"], rate)
    assert evals.loc[spiking, "firing_rate"].between(0, 1).all()


def test_baseline_rows_are_what_the_baselines_score(data):
    """The baselines recomputed (100 episodes, seeds 0-99; the slower world-reading ones are left out to keep the
    suite fast). random, formation and scripted never read the agents' observations, so they score the same
    on both tasks; the observation-based teams differ where the landmarks are hidden."""
    summary, _, _ = data
    baseline = summary[summary["algo"] == "none"].set_index(["env", "agent"])["final_eval_return"]
    for env_id in set(summary["env"]):
        assert baseline[(env_id, "random")] == pytest.approx(random_team_returns(env_id).mean())
        assert baseline[(env_id, "memory")] == pytest.approx(observation_team_returns(env_id, True).mean())
        assert baseline[(env_id, "memoryless")] == pytest.approx(observation_team_returns(env_id, False).mean())


def test_the_grid_s_reader_accepts_the_file_and_names_what_a_cut_file_lacks(tmp_path):
    assert len(read_marl_summary(DATA)) == len(read_csv(DATA / "summary.csv", MARL_SUMMARY_COLUMNS))
    lines = (DATA / "summary.csv").read_text().splitlines()
    (tmp_path / "summary.csv").write_text("\n".join(lines[: len(lines) // 2]) + "\n")  # cut mid-file
    with pytest.raises(ValueError, match=r"lacks \d+ of the 28 runs of its grid.*grsn-edu reproduce marl"):
        read_marl_summary(tmp_path)


def test_one_loadable_agent_per_learned_group_with_its_lowest_seed(data):
    summary, _, _ = data
    groups = summary[summary["algo"] != "none"].groupby(["env", "agent", "algo"])["seed"].min()
    assert sorted(p.name for p in (DATA / "agents").glob("*.pt")) == sorted(f"{'-'.join(g)}.pt" for g in groups.index)
    for (env_id, agent, algo), seed in groups.items():
        net, cfg = load_marl_agent(DATA / "agents" / f"{env_id}-{agent}-{algo}.pt")
        assert cfg == grid_config(env_id, agent, algo, int(seed))
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


# -- data/marl_variants -------------------------------------------------------------------------------------------

#: The runs of data/marl_variants and the core options each has in place of its grid cell's (the QMIX agent's:
#: spikes read out, the core's own decay).
VARIANTS = {("simple_spread", "grsn", "mappo", 0): {"readout": "spikes", "beta": 0.9}}


def test_variant_runs_are_their_grid_cells_but_for_one_setting():
    folder = DATA.parent / "marl_variants"
    summary = read_csv(folder / "summary.csv", MARL_SUMMARY_COLUMNS)
    evals = read_csv(folder / "eval_curves.csv", KEY + MARL_EVAL_COLUMNS)
    trains = read_csv(folder / "train_curves.csv", KEY + MARL_TRAIN_COLUMNS)
    learned = summary[summary["algo"] != "none"]
    assert set(learned[KEY].itertuples(index=False, name=None)) == set(VARIANTS)
    ev_by_run, tr_by_run = dict(list(evals.groupby(KEY))), dict(list(trains.groupby(KEY)))
    for row in learned.itertuples(index=False):
        run = (row.env, row.agent, row.algo, row.seed)
        cfg = grid_config(*run)
        assert cfg.core_options != VARIANTS[run]
        cfg = dataclasses.replace(cfg, core_options=VARIANTS[run])
        expected = marl_run_summary(vars(cfg), {"eval_curve.csv": ev_by_run[run], "train_curve.csv": tr_by_run[run]})
        assert row.final_eval_return == pytest.approx(expected["final_eval_return"])
        assert row.best_eval_return == pytest.approx(expected["best_eval_return"])
        assert ev_by_run[run]["episode"].iloc[-1] == cfg.episodes
        _, saved = load_marl_agent(folder / "agents" / f"{row.env}-{row.agent}-{row.algo}.pt")
        assert saved == cfg  # the grid cell's settings, but for the one above


# -- data/marl_settings -------------------------------------------------------------------------------------------


def test_settings_data_schema_and_agreement_with_its_curves(load_script):
    folder = DATA.parent / "marl_settings"
    script = load_script("marl_settings")
    summary = read_csv(folder / "summary.csv", script.SUMMARY_COLUMNS)
    curves = {c.data_file: read_csv(folder / c.data_file, script.KEY + list(c.columns)) for c in script.GRID.curves}
    assert set(summary["variant"]) <= set(script.VARIANTS) and not summary.duplicated(script.KEY).any()
    runs = set(summary[script.KEY].itertuples(index=False, name=None))
    by_run = {name: dict(list(frame.groupby(script.KEY))) for name, frame in curves.items()}
    for name, groups in by_run.items():
        assert set(groups) == runs, f"{name} and summary.csv hold different runs"
    for row in summary.itertuples(index=False):
        cell = (row.variant, row.env, row.agent, row.seed)
        cfg = script.config(*cell)
        expected = marl_run_summary(vars(cfg), {"eval_curve.csv": by_run["eval_curves.csv"][cell],
                                                "train_curve.csv": by_run["train_curves.csv"][cell]})
        assert row.episodes == cfg.episodes == by_run["eval_curves.csv"][cell]["episode"].iloc[-1]
        assert row.final_eval_return == pytest.approx(expected["final_eval_return"])
        assert row.best_eval_return == pytest.approx(expected["best_eval_return"])
        assert row.final_train_ma20 == pytest.approx(expected["final_train_ma20"])
        updates = by_run["update_stats.csv"][cell]  # one row per rollout
        assert len(updates) == cfg.episodes // cfg.num_envs


# -- data/marl_reference ------------------------------------------------------------------------------------------


def test_reference_grid_runs_are_cells_at_the_trainers_defaults():
    """Every learned run of data/marl_reference is a cell of its grid with MAPPO's defaults, its summary row the
    summary of its curves, and its saved agent the lowest seed's with those settings. The grid fills up over
    several sittings, so the test reads what is there (at least one run)."""
    folder = DATA.parent / "marl_reference"
    summary = read_grid_summary(MARL_REFERENCE, folder)
    evals = read_csv(folder / "eval_curves.csv", KEY + MARL_EVAL_COLUMNS)
    trains = read_csv(folder / "train_curves.csv", KEY + MARL_TRAIN_COLUMNS)
    learned = summary[summary["algo"] != "none"]
    assert len(learned) >= 1
    cells = marl_cells(MARL_REFERENCE_ENVS, MARL_AGENTS, ALGOS, MARL_SEEDS, first=False)
    ev_by_run, tr_by_run = dict(list(evals.groupby(KEY))), dict(list(trains.groupby(KEY)))
    assert set(ev_by_run) == set(tr_by_run) == set(learned[KEY].itertuples(index=False, name=None))
    for row in learned.itertuples(index=False):
        run = (row.env, row.agent, row.algo, row.seed)
        cfg = cells[run]
        expected = marl_run_summary(vars(cfg), {"eval_curve.csv": ev_by_run[run], "train_curve.csv": tr_by_run[run]})
        assert row.episodes == cfg.episodes == ev_by_run[run]["episode"].iloc[-1]
        assert row.final_eval_return == pytest.approx(expected["final_eval_return"])
        assert row.best_eval_return == pytest.approx(expected["best_eval_return"])
    for (env_id, agent, algo), seed in learned.groupby(["env", "agent", "algo"])["seed"].min().items():
        _, saved = load_marl_agent(folder / "agents" / f"{env_id}-{agent}-{algo}.pt")
        assert saved == cells[(env_id, agent, algo, int(seed))]
    baselines = summary[summary["algo"] == "none"]
    assert set(baselines["env"]) == set(learned["env"]) and set(baselines["agent"]) == set(MARL_BASELINES)
