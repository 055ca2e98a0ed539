"""data/ppo_speed/ (one run of each trainer side by side, scripts/peer_ppo.py) loads, matches its schema, and its
summary rows are the summary of their curves."""

from pathlib import Path

import pandas as pd
import pytest

from grsn_edu.util.files import read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "ppo_speed"


def test_the_readme_command_made_these_rows(peer_benchmark):
    text = (DATA / "README.md").read_text()
    command = next(line for line in text.splitlines() if line.startswith(".venv/bin/python scripts/peer_ppo.py"))
    args = peer_benchmark.parse_args(command.split()[2:])
    summary = read_csv(DATA / "summary.csv", peer_benchmark.SUMMARY_COLUMNS)
    cells = {(e, a, s) for e in args.envs for a in args.agents for s in args.seeds}
    assert set(summary[peer_benchmark.KEY].itertuples(index=False, name=None)) == cells
    assert (summary["total_steps"] == args.steps).all()
    assert not set(args.seeds) & {0, 1, 2, 3, 4}  # held out: no other table uses its seed


def test_summary_is_the_summary_of_the_curves(peer_benchmark):
    peer = peer_benchmark
    summary = read_csv(DATA / "summary.csv", peer.SUMMARY_COLUMNS)
    curves = read_csv(DATA / "eval_curves.csv", peer.EVAL_COLUMNS)
    assert len(summary) == 3 and not summary.duplicated(peer.KEY).any()
    for _, row in summary.iterrows():
        curve = curves[(curves.env == row.env) & (curves.agent == row.agent) & (curves.seed == row.seed)]
        assert curve["global_step"].is_monotonic_increasing and (curve["eval_episodes"] == 20).all()
        assert curve["global_step"].iloc[-1] > row.total_steps - 1024  # the budget, to the last whole rollout
        expected = {**dict(zip(peer.KEY, (row.env, row.agent, row.seed))),
                    **peer.peer_run_summary({"total_steps": int(row.total_steps)}, {"eval_curve.csv": curve})}
        for column in peer.SUMMARY_COLUMNS:
            got, want = row[column], expected[column]
            assert (pd.isna(got) and pd.isna(want)) or got == pytest.approx(want), (row.agent, column)
