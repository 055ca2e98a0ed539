"""Print the README's result tables (markdown) from the data/ folders.

    .venv/bin/python scripts/summary_tables.py cartpole
    .venv/bin/python scripts/summary_tables.py ablation
    .venv/bin/python scripts/summary_tables.py marl
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from grsn_edu.reproduce import MARL_SUMMARY_COLUMNS, SUMMARY_COLUMNS, summary_table
from grsn_edu.runs import read_csv

ROOT = Path(__file__).resolve().parents[1]


def _markdown(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append("-" if pd.isna(v) else f"{v:.0f}" if isinstance(v, (float, int)) and not isinstance(v, bool) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cartpole() -> str:
    summary = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    table = summary_table(summary)
    table.columns = ["env", "agent", "seeds", "seeds reaching 475 (greedy eval)", "median steps to 475 (greedy eval)",
                     "median final greedy eval return", "min", "max", "median final training return (MA20)"]
    return _markdown(table)


def ablation() -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("cartpole_ablation", ROOT / "scripts" / "cartpole_ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ab = read_csv(ROOT / "data" / "cartpole_ablation" / "summary.csv", module.SUMMARY_COLUMNS)
    grid = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    ref = grid[(grid.agent == "grsn") & grid.env.isin(ab.env.unique()) & grid.seed.isin(ab.seed.unique())]
    ref = ref.assign(variant="reference (grid's grsn)")[module.SUMMARY_COLUMNS]
    both = pd.concat([ref, ab])
    table = both[["variant", "env", "seed", "final_eval_return", "best_eval_return", "final_train_ma20",
                  "steps_to_target_eval"]].copy()
    table.columns = ["variant (one change from the reference)", "env", "seed", "final greedy eval return",
                     "best greedy eval return", "final training return (MA20)", "first step with greedy eval >= 475"]
    return _markdown(table)


def marl() -> str:
    summary = read_csv(ROOT / "data" / "marl" / "summary.csv", MARL_SUMMARY_COLUMNS)
    g = summary.groupby(["env", "agent", "mixer"], sort=False)
    table = g.agg(seeds=("seed", "count"), median_final_greedy_team_return=("final_eval_return", "median"),
                  min=("final_eval_return", "min"), max=("final_eval_return", "max"),
                  spikes_per_decision=("spikes_per_decision", "median")).reset_index()
    return _markdown(table)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["cartpole", "ablation", "marl"])
    args = p.parse_args(argv)
    try:
        print({"cartpole": cartpole, "ablation": ablation, "marl": marl}[args.what]())
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"summary_tables: {err}")


if __name__ == "__main__":
    main()
