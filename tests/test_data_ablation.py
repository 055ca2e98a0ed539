"""data/cartpole_ablation/ loads, matches its schema and agrees with itself (written by scripts/cartpole_ablation.py).

``tests/test_packaging.py`` checks that the commands in its README make exactly these rows.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.rl.ppo import EVAL_COLUMNS, summarize
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "cartpole_ablation"


@pytest.fixture
def script(load_script):
    return load_script("cartpole_ablation")


def test_summary_and_curves_schema(script):
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", script.KEY + EVAL_COLUMNS)
    assert list(summary.columns) == script.SUMMARY_COLUMNS and list(evals.columns) == script.KEY + EVAL_COLUMNS
    assert len(summary) > 0 and not summary.duplicated(script.KEY).any()
    assert set(summary["variant"]) <= set(script.VARIANTS) - {"reference"}  # the reference is the grid's run
    assert not evals.duplicated(script.KEY + ["global_step"]).any()
    curves = set(evals[script.KEY].itertuples(index=False, name=None))
    assert curves == set(summary[script.KEY].itertuples(index=False, name=None)), "curves without a summary row"


def test_summary_rows_are_the_summary_of_their_curves(script):
    """Every summary number but the training-curve ones is what ``summarize`` makes of the run's eval curve."""
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", script.KEY + EVAL_COLUMNS)
    curves = dict(list(evals.groupby(script.KEY)))
    for row in summary.itertuples(index=False):
        ev = curves[(row.variant, row.env, row.seed)]
        cfg = script.config(row.variant, row.env, row.seed, row.total_steps)
        batch = cfg.num_envs * cfg.num_steps
        assert ev["global_step"].is_monotonic_increasing
        assert ev["global_step"].iloc[-1] == (row.total_steps // batch) * batch, "the run did not finish"
        assert (ev["eval_episodes"] == cfg.eval_episodes).all()
        # the eval curve records the training moving average at each evaluation: the last is the final one
        last_train = pd.DataFrame({"global_step": ev["global_step"].iloc[-1:],
                                   "return_ma20": ev["train_return_ma20"].iloc[-1:]})
        expected = summarize(last_train, ev)
        for column, value in expected.items():
            if column == "steps_to_target_train":
                continue  # needs the training curve, which this folder does not keep
            recorded = getattr(row, column)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                assert pd.isna(recorded), (row.variant, row.seed, column)
            else:
                assert recorded == pytest.approx(value), (row.variant, row.seed, column)


def test_firing_rates_are_fractions(script):
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", script.KEY + EVAL_COLUMNS)
    assert summary["firing_rate"].between(0, 1).all() and evals["firing_rate"].between(0, 1).all()  # GRSN spikes


def test_unknown_variant_is_a_clear_error(script, capsys):
    with pytest.raises(SystemExit):
        script.main(["--variants", "beta=0.1"])
    assert "unknown variants" in capsys.readouterr().err


def test_dry_run_lists_what_is_not_recorded_and_trains_nothing(script, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    summary[summary["seed"] == 0].to_csv(data / "summary.csv", index=False)
    script.main(["--variants", "beta=0.9", "gates=off", "--seeds", "0", "1", "--dry-run", "--data-dir", str(data),
                 "--runs-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert "2 of 4 cells done, 2 to run" in out
    assert "beta=0.9 CartPole-P seed 1" in out and "gates=off CartPole-P seed 1" in out
    assert not (tmp_path / "runs").exists()
