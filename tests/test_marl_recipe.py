"""scripts/marl_recipe.py: variants are one change from the grid's config; runs merge into data/; bad input errors."""

import pandas as pd
import pytest

from grsn_edu.rl.qmix import MARLConfig



def test_each_variant_changes_exactly_its_settings(load_script):
    script = load_script("marl_recipe")
    base = script.config("reference", "simple_spread", "grsn", "qmix", 0)
    assert base.target_update_interval == 100 and base.core_options == {"readout": "both"}  # the first recipe
    assert MARLConfig().target_update_interval == 200  # what the grid uses now
    for variant, overrides in script.VARIANTS.items():
        cfg = script.config(variant, "simple_spread", "grsn", "qmix", 0)
        changed = {k for k, v in vars(cfg).items() if vars(base)[k] != v}
        assert changed == set(overrides), variant
    assert script.config("readout=spikes", "simple_spread", "grsn", "qmix", 0).core_options == {"readout": "spikes"}
    assert script.config("reference", "simple_spread", "gru", "qmix", 0).core_options == {}


def test_tiny_run_merges_into_data_and_is_skipped_after(tmp_path, monkeypatch, capsys, load_script):
    script = load_script("marl_recipe")
    monkeypatch.setitem(script.VARIANTS, "tiny", {"episodes": 6, "batch_size": 2, "eval_interval": 3, "eval_episodes": 1,
                                                  "hidden_size": 8, "buffer_episodes": 10})
    args = ["--variants", "tiny", "--runs-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "data")]
    assert script.main(args) == 0
    summary = pd.read_csv(tmp_path / "data" / "summary.csv")
    assert list(summary.columns) == script.SUMMARY_COLUMNS and summary["variant"].tolist() == ["tiny"]
    assert summary["episodes"].item() == 6
    script.main(args)
    assert "already in" in capsys.readouterr().out


def test_unknown_variant_is_a_clear_error(capsys, load_script):
    with pytest.raises(SystemExit):
        load_script("marl_recipe").main(["--variants", "lr=1"])
    assert "unknown variants" in capsys.readouterr().err
