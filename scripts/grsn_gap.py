"""Where GRSN's gap to the GRU comes from on simple_spread: MAPPO's GRSN team with one core setting changed at a
time, at a quarter of the reference budget (about 5M environment steps), beside the reference grid's own GRSN and GRU
runs at the same point of their training.

The command that makes ``data/marl_grsn_gap/`` (from the project root; a cell already there is skipped):

    .venv/bin/python scripts/grsn_gap.py                          # every variant, seed 0
    .venv/bin/python scripts/grsn_gap.py --variants readout=spikes --seeds 1
    .venv/bin/python scripts/grsn_gap.py --report                 # the table, from the data files alone

Each cell is the reference grid's cell (``grsn_edu.experiments.grids.marl_cell_config``: simple_spread, grsn,
mappo, MAPPO's reference settings) with the core options of its variant (:data:`VARIANTS`) laid over the agent's
own (``readout="both"``, ``beta=0.5``: ``grsn_edu.rl.presets.AGENTS["grsn"]``) and a budget of
:data:`EPISODES` episodes. MAPPO's learning rate is constant, so the first 5M steps of a 20M run of the reference
grid are the 5M run of the same seed: the reference points are read from ``data/marl_reference/eval_curves.csv``
and are not run again. The score is the mean greedy team return of the evaluations in the last quarter of the budget
(:data:`WINDOW`), which averages out the noise of a single evaluation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.grids import MARL, marl_cell_config, marl_run_summary
from grsn_edu.experiments.runner import (
    Grid,
    add_grid_arguments,
    check_variants,
    read_grid_summary,
    run_grid,
    runner_from_args,
)
from grsn_edu.util.files import read_csv

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python scripts/grsn_gap.py"
#: variant name -> the core options it lays over the GRSN agent's own
VARIANTS = {
    "readout=spikes": {"readout": "spikes"},
    "readout=membrane": {"readout": "membrane"},
    "beta=0.9": {"beta": 0.9},
    "gate_input=both": {"gate_input": "both"},
}
#: about 5M environment steps of the 25-step task (4.96M: a multiple of MAPPO's evaluation interval, 6,400 episodes)
EPISODES = 198_400
#: the evaluations that make a run's score: those in the last quarter of the budget, (3/4 x EPISODES, EPISODES]
WINDOW = (3 * EPISODES // 4, EPISODES)
KEY = ("env", "agent", "algo", "variant", "seed")

GRID = Grid(
    name="marl_grsn_gap", key=KEY, summary_columns=(*KEY, *MARL.summary_columns[4:]), budget="episodes",
    summarize=marl_run_summary, curves=MARL.curves, command=COMMAND)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_grid_arguments(p, str(ROOT / "runs" / "marl_grsn_gap"), str(ROOT / "data" / "marl_grsn_gap"))
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), metavar="VARIANT",
                   help=f"which variants (default all: {', '.join(VARIANTS)})")
    p.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds (default 0)")
    p.add_argument("--report", action="store_true", help="print the table from the data files and exit")
    args = p.parse_args(argv)
    check_variants(p, args.variants, VARIANTS)
    if any(s < 0 for s in args.seeds):
        p.error("--seeds must be >= 0")
    return args


def cells(variants, seeds) -> dict:
    """``{(task, agent, algo, variant, seed): config}``, seed-major."""
    return {("simple_spread", "grsn", "mappo", v, s):
            marl_cell_config("simple_spread", "grsn", "mappo", s, EPISODES, {"core_options": VARIANTS[v]})
            for s in seeds for v in variants}


def late_scores(eval_curves: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per run (``by`` columns): the mean greedy team return of the evaluations inside :data:`WINDOW`, and how many
    there were."""
    low, high = WINDOW
    inside = eval_curves[(eval_curves["episode"] > low) & (eval_curves["episode"] <= high)]
    return inside.groupby(by)["eval_return_mean"].agg(score="mean", evaluations="count").reset_index()


def report(data_dir: Path, reference_dir: Path) -> pd.DataFrame:
    """The table: each variant's score beside the reference grid's GRSN and GRU at the same budget, per seed."""
    reference = read_csv(reference_dir / "eval_curves.csv", ["env", "agent", "algo", "seed", "episode",
                                                               "eval_return_mean"])
    reference = reference[(reference["env"] == "simple_spread") & (reference["algo"] == "mappo")
                          & reference["agent"].isin(["gru", "grsn"])]
    rows = late_scores(reference, ["agent", "seed"]).assign(variant="(the agent's own)")
    if (data_dir / "summary.csv").is_file():
        read_grid_summary(GRID, data_dir)
        curves = read_csv(data_dir / "eval_curves.csv", [*KEY, "episode", "eval_return_mean"])
        rows = pd.concat([rows, late_scores(curves, ["agent", "variant", "seed"])], ignore_index=True)
    return rows[["agent", "variant", "seed", "score", "evaluations"]].sort_values(["agent", "variant", "seed"])


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.report:
        run_grid(GRID, cells(args.variants, args.seeds), args.runs_dir, args.data_dir, runner_from_args(args),
                 args.dry_run)
    if args.report or not args.dry_run:
        table = report(Path(args.data_dir), ROOT / "data" / "marl_reference")
        print(f"mean greedy team return of the evaluations after {WINDOW[0]:,} of {WINDOW[1]:,} episodes "
              "(simple_spread, MAPPO)")
        print(table.to_markdown(index=False, floatfmt=".1f"))


if __name__ == "__main__":
    main()
