"""data/marl_grsn_gap/ (scripts/grsn_gap.py) loads, matches its schema and agrees with itself: every run is a
variant of the script's, at its budget, with the reference grid's settings but for its core options; each summary
row is the summary of its curves; the report scores every run from the evaluations of its last quarter."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import import_file

from grsn_edu.envs.spread import MAX_CYCLES
from grsn_edu.experiments.grids import marl_cell_config, marl_run_summary
from grsn_edu.experiments.runner import read_grid_summary
from grsn_edu.rl.presets import AGENTS
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARL_TRAIN_COLUMNS
from grsn_edu.util.files import read_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "marl_grsn_gap"


@pytest.fixture(scope="module")
def gap():
    return import_file("scripts", "grsn_gap")


@pytest.fixture(scope="module")
def data(gap):
    key = list(gap.KEY)
    return (read_grid_summary(gap.GRID, DATA), read_csv(DATA / "eval_curves.csv", key + MARL_EVAL_COLUMNS),
            read_csv(DATA / "train_curves.csv", key + MARL_TRAIN_COLUMNS))


def test_every_run_is_a_variant_at_the_budget(gap, data):
    summary, evals, trains = data
    key = list(gap.KEY)
    runs = set(summary[key].itertuples(index=False, name=None))
    assert runs and runs <= set(gap.cells(list(gap.VARIANTS), sorted(set(summary["seed"]))))
    assert (summary["episodes"] == gap.EPISODES).all()
    for curves in (evals, trains):
        assert set(curves[key].itertuples(index=False, name=None)) == runs


def test_each_variant_changes_the_core_options_and_nothing_else(gap):
    for (env_id, agent, algo, variant, seed), cfg in gap.cells(list(gap.VARIANTS), [0]).items():
        reference = marl_cell_config(env_id, agent, algo, seed)
        assert cfg.core_options == {**AGENTS[agent].options(), **gap.VARIANTS[variant]} != reference.core_options
        assert cfg.episodes == gap.EPISODES
        changed = {f for f in vars(cfg) if getattr(cfg, f) != getattr(reference, f)}
        assert changed == {"core_options", "episodes"}


def test_summary_rows_are_the_summary_of_their_curves(gap, data):
    summary, evals, trains = data
    key = list(gap.KEY)
    ev_by_run, tr_by_run = dict(list(evals.groupby(key))), dict(list(trains.groupby(key)))
    for row in summary.itertuples(index=False):
        run = tuple(getattr(row, k) for k in key)
        cfg = gap.cells([row.variant], [row.seed])[run]
        ev, tr = ev_by_run[run], tr_by_run[run]
        assert ev["episode"].tolist() == list(range(cfg.eval_interval, cfg.episodes + 1, cfg.eval_interval)), run
        assert (ev["env_steps"] == ev["episode"] * MAX_CYCLES).all()
        expected = marl_run_summary(vars(cfg), {"eval_curve.csv": ev, "train_curve.csv": tr})
        for column, value in expected.items():
            recorded = getattr(row, column)
            assert (pd.isna(recorded) and np.isnan(value)) or recorded == pytest.approx(value), (run, column)


def test_the_report_scores_the_last_quarter_of_every_run_and_of_the_reference(gap, data):
    summary, evals, _ = data
    table = gap.report(DATA, ROOT / "data" / "marl_reference")
    low, high = gap.WINDOW
    assert (low, high) == (3 * gap.EPISODES // 4, gap.EPISODES)
    assert (table["evaluations"] == len(range(6400, gap.EPISODES + 1, 6400)[-8:])).all()  # 8 of 31 evaluations
    for row in summary.itertuples(index=False):
        inside = evals[(evals["variant"] == row.variant) & (evals["seed"] == row.seed)
                       & (evals["episode"] > low) & (evals["episode"] <= high)]
        scored = table[(table["variant"] == row.variant) & (table["seed"] == row.seed)]["score"]
        assert scored.tolist() == pytest.approx([inside["eval_return_mean"].mean()])
    assert set(table.loc[table["variant"] == "(the agent's own)", "agent"]) == {"gru", "grsn"}


def test_the_command_line_names_what_it_does_not_know(gap):
    with pytest.raises(SystemExit):
        gap.parse_args(["--variants", "readout=sideways"])
    with pytest.raises(SystemExit):
        gap.parse_args(["--seeds", "-1"])
