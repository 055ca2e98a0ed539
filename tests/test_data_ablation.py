"""data/cartpole_ablation/ loads and matches its schema (written by scripts/cartpole_ablation.py)."""

from pathlib import Path

import pytest

from grsn_edu.rl.ppo import EVAL_COLUMNS
from grsn_edu.util.files import read_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "cartpole_ablation"
KEY = ["variant", "env", "seed"]


def test_readme_gives_the_regenerating_command():
    assert "scripts/cartpole_ablation.py" in (DATA / "README.md").read_text()


def test_summary_and_curves_schema(load_script):
    script = load_script("cartpole_ablation")
    summary = read_csv(DATA / "summary.csv", script.SUMMARY_COLUMNS)
    evals = read_csv(DATA / "eval_curves.csv", KEY + EVAL_COLUMNS)
    assert list(summary.columns) == script.SUMMARY_COLUMNS and list(evals.columns) == KEY + EVAL_COLUMNS
    assert len(summary) > 0 and not summary.duplicated(KEY).any()
    assert set(summary["variant"]) <= set(script.VARIANTS)
    assert summary["final_eval_return"].between(8, 500).all()
    assert (summary["best_eval_return"] >= summary["final_eval_return"]).all()
    for _, row in summary.iterrows():
        ev = evals[(evals.variant == row.variant) & (evals.env == row.env) & (evals.seed == row.seed)]
        assert len(ev) >= 5 and ev["eval_return_mean"].iloc[-1] == pytest.approx(row.final_eval_return)


def test_unknown_variant_is_a_clear_error(load_script, capsys):
    with pytest.raises(SystemExit):
        load_script("cartpole_ablation").main(["--variants", "beta=0.1"])
    assert "unknown variants" in capsys.readouterr().err
