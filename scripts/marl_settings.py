"""What each of MAPPO's reference settings changes: the defaults, and the settings used before, one at a time.

``grsn_edu.rl.mappo.MAPPOConfig``'s defaults are the settings of MAPPO's reference code for the particle-world
tasks; :data:`~grsn_edu.rl.mappo.FIRST_MAPPO_SETTINGS` are those the first multi-agent grid ran with
(``data/marl/``). Each variant here is the defaults with one group of settings put back as it was before, so the
table shows what each group is worth; ``first`` puts them all back. ``critic=tanh`` and ``time_limit=end`` are two
choices of the reference code that the defaults do not follow (a tanh critic; the time limit taken as the end of
the task, no bootstrapped value). The commands that made
``data/marl_settings/`` (from the project root; cells already there are skipped, interrupted runs resumed):

    .venv/bin/python scripts/marl_settings.py --agent gru --seeds 0 1
    .venv/bin/python scripts/marl_settings.py --table                    # the table of what data/ holds

``--dry-run`` lists the cells still to do, ``--ray`` runs them on Ray. Every run is 80,000 episodes of simple_spread
(2M environment steps), one thread; returns are team returns (summed over the 3 agents and 25 steps) of 20 greedy
episodes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.aggregate import sort_in_order
from grsn_edu.experiments.grids import marl_run_summary
from grsn_edu.experiments.runner import (
    Curve,
    Grid,
    add_grid_arguments,
    check_variants,
    read_grid_summary,
    run_grid,
    runner_from_args,
)
from grsn_edu.rl.mappo import FIRST_MAPPO_SETTINGS, MAPPO_UPDATE_COLUMNS, MAPPOConfig
from grsn_edu.rl.team import TEAM_EVAL_COLUMNS, TEAM_TRAIN_COLUMNS
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]

#: Every run's budget and evaluation interval (the first settings' rollouts of 32 divide both).
BUDGET = {"episodes": 80_000, "eval_interval": 6_400}


def _first(*names: str) -> dict:
    return {name: FIRST_MAPPO_SETTINGS[name] for name in names}


#: variant name -> settings laid over the defaults (``first``: every one of the settings used before)
VARIANTS = {
    "defaults": {},
    "rollout=32x2": _first("num_envs", "num_minibatches"),
    "returns_scaled": _first("normalize_returns", "value_norm"),
    "squared_value_loss": _first("huber_delta"),
    "critic=tanh128": _first("critic_hidden", "critic_activation", "critic_init"),
    "head_gain=default": _first("head_gain"),
    "critic=tanh": {"critic_activation": "tanh"},  # the reference's spread script: tanh, 64 units, orthogonal
    "time_limit=end": {"bootstrap_time_limit": False},  # the reference's: no top-up at the time limit
    "first": {k: v for k, v in FIRST_MAPPO_SETTINGS.items() if k not in BUDGET},
}
KEY = ["variant", "env", "agent", "seed"]
SUMMARY_COLUMNS = [*KEY, "episodes", "final_eval_return", "best_eval_return", "final_train_ma20",
                   "spikes_per_decision", "wall_time_s"]
GRID = Grid(name="marl_settings", key=tuple(KEY), summary_columns=tuple(SUMMARY_COLUMNS), budget="episodes",
            summarize=marl_run_summary,
            curves=(Curve("eval_curves.csv", "eval_curve.csv", tuple(TEAM_EVAL_COLUMNS)),
                    Curve("train_curves.csv", "train_curve.csv", tuple(TEAM_TRAIN_COLUMNS)),
                    Curve("update_stats.csv", "update_stats.csv", tuple(MAPPO_UPDATE_COLUMNS))),
            command="scripts/marl_settings.py (data/marl_settings/README.md)")
AGENTS = ("mlp", "gru", "lif", "grsn")


def config(variant: str, env_id: str, agent: str, seed: int) -> MAPPOConfig:
    """The defaults of (task, agent, seed) at this script's budget, with the variant's settings laid over."""
    cfg = MAPPOConfig(env_id=env_id, agent=agent, seed=seed, **BUDGET)
    return dataclasses.replace(cfg, **VARIANTS[variant]).validate()


def table(data_dir: Path) -> pd.DataFrame:
    """Per (task, agent, variant): seeds, median and range of the final greedy team return, median wall time."""
    summary = read_grid_summary(GRID, data_dir)
    summary = sort_in_order(summary, ["env", "agent", "variant"], "variant", VARIANTS)
    return (summary.groupby(["env", "agent", "variant"], sort=False)
            .agg(seeds=("seed", "count"), median_final_eval=("final_eval_return", "median"),
                 min_final_eval=("final_eval_return", "min"), max_final_eval=("final_eval_return", "max"),
                 median_wall_time_s=("wall_time_s", "median"))
            .reset_index())


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"any of: {', '.join(VARIANTS)}")
    p.add_argument("--env", default="simple_spread", choices=["simple_spread", "spread_memory"])
    p.add_argument("--agent", default="gru", choices=AGENTS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--table", action="store_true", help="only print the table of what data/ holds")
    add_grid_arguments(p, str(ROOT / "runs" / "marl_settings"), str(ROOT / "data" / "marl_settings"))
    args = p.parse_args(argv)
    check_variants(p, args.variants, VARIANTS)
    check_int_arguments(p, args, {"seeds": 0})
    return args


def cells(args) -> dict:
    """``{(variant, env, agent, seed): MAPPOConfig}`` of the command line, in running order."""
    return {(v, args.env, args.agent, s): config(v, args.env, args.agent, s) for s in args.seeds for v in args.variants}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.table:
        print(table(Path(args.data_dir)).to_string(index=False, float_format="%.1f"))
        return 0
    run_grid(GRID, cells(args), args.runs_dir, args.data_dir, runner_from_args(args), args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
