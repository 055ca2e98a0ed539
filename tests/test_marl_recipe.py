"""scripts/marl_recipe.py: variants are one change from the grid's config; runs merge into data/; bad input errors."""

import dataclasses

import pandas as pd
import pytest

from grsn_edu.experiments.grids import marl_cell_config
from grsn_edu.rl.qmix import MARLConfig


def grid_config(env_id: str, agent: str, mixer: str, seed: int) -> MARLConfig:
    """The config ``grsn-edu reproduce marl`` trains for one cell (data/marl)."""
    return marl_cell_config(env_id, agent, mixer, seed)


def test_each_variant_changes_exactly_its_settings(load_script):
    script = load_script("marl_recipe")
    base = script.config("reference", "simple_spread", "grsn", "qmix", 0)
    for variant, overrides in script.VARIANTS.items():
        cfg = script.config(variant, "simple_spread", "grsn", "qmix", 0)
        changed = {k for k, v in vars(cfg).items() if vars(base)[k] != v}
        assert changed == set(overrides), variant
    assert script.config("readout=spikes", "simple_spread", "grsn", "qmix", 0).core_options == {"readout": "spikes"}


@pytest.mark.parametrize("agent", ["grsn", "lif", "gru", "mlp"])
def test_the_two_fixes_turn_the_first_recipe_into_the_grid(load_script, agent):
    """The QMIX/VDN settings of the grid in data/marl are the first recipe with the two changes found here (the
    target refresh, and for spiking agents the spike readout), and differ from it in nothing else but the budget
    and the number of episodes played together."""
    script = load_script("marl_recipe")
    first = script.config("reference", "spread_memory", agent, "vdn", 2)
    fixed = script.config("target_update=200", "spread_memory", agent, "vdn", 2)
    if "readout" in fixed.core_options:
        spikes = script.VARIANTS["readout=spikes"]["core_options"]
        fixed = dataclasses.replace(fixed, core_options={**fixed.core_options, **spikes})
    budget = {k: getattr(fixed, k) for k in ("episodes", "num_envs", "eval_interval")}
    assert fixed == dataclasses.replace(grid_config("spread_memory", agent, "vdn", 2), **budget)
    assert first != fixed


def test_tiny_run_merges_into_data_and_is_skipped_after(tmp_path, monkeypatch, capsys, load_script):
    script = load_script("marl_recipe")
    monkeypatch.setitem(script.VARIANTS, "tiny", {"episodes": 6, "batch_size": 2, "eval_interval": 3,
                                                  "eval_episodes": 1, "hidden_size": 8, "buffer_episodes": 10})
    args = ["--variants", "tiny", "--runs-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "data")]
    assert script.main(args) == 0
    summary = pd.read_csv(tmp_path / "data" / "summary.csv")
    evals = pd.read_csv(tmp_path / "data" / "eval_curves.csv")
    assert list(summary.columns) == script.SUMMARY_COLUMNS and summary["variant"].tolist() == ["tiny"]
    assert summary["episodes"].item() == 6 and evals["episode"].tolist() == [3, 6]
    assert summary["final_eval_return"].item() == evals["eval_return_mean"].iloc[-1]
    capsys.readouterr()
    script.main(args)  # recorded: skipped, nothing trained, the files unchanged
    assert "1 of 1 cells done, 0 to run" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "data" / "summary.csv").equals(summary)


def test_unknown_variant_is_a_clear_error(capsys, load_script):
    with pytest.raises(SystemExit):
        load_script("marl_recipe").main(["--variants", "lr=1"])
    assert "unknown variants" in capsys.readouterr().err
