"""data/peer_ppo/ loads, matches its schema, and its summary rows are the summary of its curves."""

from pathlib import Path

import pandas as pd
import pytest

from grsn_edu.util.files import read_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "peer_ppo"


@pytest.fixture
def peer(peer_benchmark):
    return peer_benchmark


def test_readme_commands_are_the_scripts(peer):
    text = (DATA / "README.md").read_text()
    assert "scripts/peer_ppo.py --agents sb3-recurrentppo" in text
    peer.parse_args(["--agents", "sb3-recurrentppo"])  # the README's command parses


def test_summary_is_the_summary_of_the_curves(peer):
    summary = read_csv(DATA / "summary.csv", peer.SUMMARY_COLUMNS)
    curves = read_csv(DATA / "eval_curves.csv", peer.EVAL_COLUMNS)
    assert len(summary) > 0 and not summary.duplicated(peer.KEY).any()
    assert set(map(tuple, curves[peer.KEY].drop_duplicates().values)) == set(map(tuple, summary[peer.KEY].values))
    for _, row in summary.iterrows():
        curve = curves[(curves.env == row.env) & (curves.agent == row.agent) & (curves.seed == row.seed)]
        assert curve["global_step"].is_monotonic_increasing
        assert curve["global_step"].iloc[-1] >= row.total_steps  # the run finished its budget
        assert (curve["eval_episodes"] == 20).all()
        expected = {**dict(zip(peer.KEY, (row.env, row.agent, row.seed))),
                    **peer.peer_run_summary({"total_steps": int(row.total_steps)}, {"eval_curve.csv": curve})}
        for column in peer.SUMMARY_COLUMNS:
            got, want = row[column], expected[column]
            assert (pd.isna(got) and pd.isna(want)) or got == pytest.approx(want), (row.env, row.agent, column)
