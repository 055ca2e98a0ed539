"""data/ppo_recipe/ loads, matches its schema and agrees with itself (written by scripts/ppo_recipe.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grsn_edu.rl.ppo import EVAL_COLUMNS, UPDATE_COLUMNS, summarize
from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "ppo_recipe"


@pytest.fixture
def script(load_script):
    return load_script("ppo_recipe")


@pytest.fixture
def recorded(script):
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", script.KEY + EVAL_COLUMNS)
    updates = read_csv(DATA / "update_stats.csv", script.KEY + UPDATE_COLUMNS)
    return summary, evals, updates


def _keys(frame, key):
    return set(frame[key].itertuples(index=False, name=None))


def test_files_match_their_schema_and_cover_the_same_runs(script, recorded):
    summary, evals, updates = recorded
    assert len(summary) > 0 and not summary.duplicated(script.KEY).any()
    assert set(summary["variant"]) <= set(script.VARIANTS)
    assert not evals.duplicated(script.KEY + ["global_step"]).any()
    assert not updates.duplicated(script.KEY + ["update"]).any()
    assert _keys(evals, script.KEY) == _keys(summary, script.KEY), "eval curves and summary rows differ"
    assert _keys(updates, script.KEY) == _keys(summary, script.KEY), "update statistics and summary rows differ"


def test_summary_rows_are_the_summary_of_their_curves(script, recorded):
    """Every summary number but the training-curve ones is what ``summarize`` makes of the run's eval curve."""
    summary, evals, _ = recorded
    curves = dict(list(evals.groupby(script.KEY)))
    for row in summary.itertuples(index=False):
        ev = curves[(row.variant, row.env, row.seed)]
        cfg = script.config(row.variant, row.env, row.seed, row.total_steps)
        batch = cfg.num_envs * cfg.num_steps
        assert ev["global_step"].is_monotonic_increasing
        assert ev["global_step"].iloc[-1] == (row.total_steps // batch) * batch, "the run did not finish"
        assert (ev["eval_episodes"] == cfg.eval_episodes).all()
        last_train = pd.DataFrame({"global_step": ev["global_step"].iloc[-1:],
                                   "return_ma20": ev["train_return_ma20"].iloc[-1:]})
        for column, value in summarize(last_train, ev).items():
            if column == "steps_to_target_train":
                continue  # needs the training curve, which this folder does not keep
            recorded_value = getattr(row, column)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                assert pd.isna(recorded_value), (row.variant, row.env, row.seed, column)
            else:
                assert recorded_value == pytest.approx(value), (row.variant, row.env, row.seed, column)


def test_update_statistics_follow_the_runs_settings(script, recorded):
    """One row per update of the run's settings: its step count, its learning-rate schedule, sane statistics."""
    summary, _, updates = recorded
    groups = dict(list(updates.groupby(script.KEY)))
    for row in summary.itertuples(index=False):
        stats = groups[(row.variant, row.env, row.seed)].sort_values("update")
        cfg = script.config(row.variant, row.env, row.seed, row.total_steps)
        batch = cfg.num_envs * cfg.num_steps
        num_updates = row.total_steps // batch
        assert stats["update"].tolist() == list(range(1, num_updates + 1))
        assert stats["global_step"].tolist() == [batch * u for u in range(1, num_updates + 1)]
        schedule = [cfg.learning_rate * ((1 - u / num_updates) if cfg.anneal_lr else 1.0) for u in range(num_updates)]
        assert stats["learning_rate"].tolist() == pytest.approx(schedule)
        assert stats["clip_fraction"].between(0, 1).all() and (stats["approx_kl"] > -1e-6).all()
        assert stats["entropy"].between(0, np.log(2) + 1e-6).all() and (stats["explained_variance"] <= 1).all()
        assert (stats["value_loss"] >= 0).all()


def test_spiking_variants_record_firing_rates(script, recorded):
    summary, _, _ = recorded
    spiking = summary["variant"].map(lambda v: script.VARIANTS[v][0] != "gru")
    assert summary.loc[spiking, "firing_rate"].between(0, 1).all()
    assert summary.loc[~spiking, "firing_rate"].isna().all()


def test_every_variant_is_one_change_from_the_peer_recipe(script):
    reference = script.config("peer", "CartPole-P", 0, 100_000)
    for name, (agent, overrides) in script.VARIANTS.items():
        cfg = script.config(name, "CartPole-P", 0, 100_000)
        changed = {k for k in vars(cfg) if getattr(cfg, k) != getattr(reference, k)}
        if agent == "gru":
            assert changed == set(overrides), name
        else:
            assert changed - set(overrides) <= {"agent", "core_options"}, name


def test_unknown_variant_is_a_clear_error(script, capsys):
    with pytest.raises(SystemExit):
        script.main(["--variants", "lr=1"])
    assert "unknown variants" in capsys.readouterr().err


def test_dry_run_lists_what_is_not_recorded_and_trains_nothing(script, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    first = summary.iloc[:1]
    first.to_csv(data / "summary.csv", index=False)
    variant, env, seed = first.iloc[0][script.KEY]
    script.main(["--variants", variant, "--envs", env, "--seeds", str(seed), "99", "--dry-run", "--data-dir",
                 str(data), "--runs-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert "1 of 2 cells done, 1 to run" in out and f"{variant} {env} seed 99" in out
    assert not (tmp_path / "runs").exists()
