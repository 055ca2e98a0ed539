"""Print the README's result tables (markdown) from the data/ folders.

    .venv/bin/python scripts/summary_tables.py cartpole
    .venv/bin/python scripts/summary_tables.py ablation
    .venv/bin/python scripts/summary_tables.py marl
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.grids import MARL_SUMMARY_COLUMNS, SUMMARY_COLUMNS, summary_table
from grsn_edu.util.files import read_csv
from grsn_edu.util.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def cartpole() -> str:
    summary = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    table = summary_table(summary)
    table.columns = ["env", "agent", "seeds", "seeds reaching 475 (greedy eval)", "median steps to 475 (greedy eval)",
                     "median final greedy eval return", "min", "max", "median final training return (MA20)"]
    return markdown_table(table)


def ablation() -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("cartpole_ablation", ROOT / "scripts" / "cartpole_ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ab = read_csv(ROOT / "data" / "cartpole_ablation" / "summary.csv", module.SUMMARY_COLUMNS)
    grid = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    ref = grid[(grid.agent == "grsn") & grid.env.isin(ab.env.unique()) & grid.seed.isin(ab.seed.unique())]
    ref = ref.assign(variant="reference (grid's grsn)")[module.SUMMARY_COLUMNS]
    both = pd.concat([ref, ab]).rename(columns={"variant": "agent"})
    table = summary_table(both)
    table.columns = ["env", "variant (one change from the reference)", "seeds", "seeds reaching 475 (greedy eval)",
                     "median steps to 475 (greedy eval)", "median final greedy eval return", "min", "max",
                     "median final training return (MA20)"]
    return markdown_table(table)


def marl() -> str:
    """Per (task, agent, mixer): seeds, median and range of the final greedy team return, the share of the gap from
    random to the scripted controller that the median closes, spikes per agent decision."""
    summary = read_csv(ROOT / "data" / "marl" / "summary.csv", MARL_SUMMARY_COLUMNS)
    rows = []
    for (env_id, agent, mixer), g in summary.groupby(["env", "agent", "mixer"], sort=False):
        base = summary[summary.env == env_id].set_index("agent")["final_eval_return"]
        median = g["final_eval_return"].median()
        baseline = mixer == "none"
        rows.append({"task": env_id, "agent": agent, "mixer": "-" if baseline else mixer,
                     "seeds": "100 episodes" if baseline else str(len(g)),
                     "median final greedy team return": median,
                     "min": float("nan") if baseline else g["final_eval_return"].min(),
                     "max": float("nan") if baseline else g["final_eval_return"].max(),
                     "gap closed, random -> scripted":
                         f"{(median - base['random']) / (base['scripted'] - base['random']):.0%}",
                     "spikes per agent decision": g["spikes_per_decision"].median()})
    order = {"random": 0, "formation": 1, "scripted": 2, "mlp": 3, "lif": 4, "gru": 5, "grsn": 6}
    table = pd.DataFrame(rows).sort_values(["task", "agent", "mixer"],
                                           key=lambda c: c.map(order) if c.name == "agent" else c)
    return markdown_table(table)


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
