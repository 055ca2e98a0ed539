"""Why the first QMIX recipe diverged, and what fixed it: one training setting changed at a time.

The commands that made ``data/marl_recipe/`` (from the project root; cells already there are skipped, so on the
finished data they have nothing left to do), and the one that prints its table:

    .venv/bin/python scripts/marl_recipe.py --agent grsn --env simple_spread \
        --variants reference obs_clip=3 readout=spikes lr=2e-4 gamma=0.95 target_update=200
    .venv/bin/python scripts/marl_recipe.py --agent gru --env spread_memory --variants reference
    .venv/bin/python scripts/marl_recipe.py --table                           # print the table of what is in data/

``--dry-run`` lists the cells still to do.

The reference is the grid's *first* recipe (:data:`FIRST_RECIPE`: ``grsn_edu.rl.qmix.MARLConfig`` defaults but with
the target network refreshed every 100 episodes, and spiking agents' Q heads reading spikes and membrane), under
which GRSN+QMIX runs collapsed below the random team, played one episode at a time for 3000 episodes (75,000
environment steps). Each variant changes one setting of it. The QMIX/VDN runs of ``data/marl`` use both fixes
found here (target refresh every 200 episodes, spike readout), at a larger budget with batched episodes. The runs
and the merge into ``data/marl_recipe/`` are the one grid runner's (:mod:`grsn_edu.experiments.runner`). Returns
are team returns (summed over the 3 agents and 25 steps) of 20 greedy episodes.
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
from grsn_edu.rl.presets import AGENTS
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARLConfig
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]

#: variant name -> MARLConfig overrides (``core_options`` entries are merged into the agent's core options)
VARIANTS = {
    "reference": {},
    "obs_clip=3": {"obs_clip": 3.0},
    "readout=spikes": {"core_options": {"readout": "spikes"}},
    "lr=2e-4": {"lr": 2e-4},
    "gamma=0.95": {"gamma": 0.95},
    "target_update=200": {"target_update_interval": 200},
    "updates_per_episode=4": {"updates_per_episode": 4},
    "hidden=128": {"hidden_size": 128},
    "episodes=9000": {"episodes": 9000},
}
#: The first recipe of the grid, which the variants change one setting at a time. It was run one episode at a
#: time (``num_envs=1``: one episode, then one update) for 3000 episodes, evaluated every 200.
FIRST_RECIPE = {"target_update_interval": 100, "num_envs": 1, "episodes": 3000, "eval_interval": 200}
FIRST_SPIKING_READOUT = "both"
KEY = ["variant", "env", "agent", "mixer", "seed"]
SUMMARY_COLUMNS = [*KEY, "episodes", "final_eval_return", "best_eval_return", "final_train_ma20", "wall_time_s"]
GRID = Grid(name="marl_recipe", key=tuple(KEY), summary_columns=tuple(SUMMARY_COLUMNS), budget="episodes",
              summarize=marl_run_summary,
              curves=(Curve("eval_curves.csv", "eval_curve.csv", tuple(MARL_EVAL_COLUMNS)),),
              command="scripts/marl_recipe.py (data/marl_recipe/README.md)")
#: The team agents the recipe was tried with.
RECIPE_AGENTS = ("mlp", "gru", "lif", "grsn")


def config(variant: str, env_id: str, agent: str, mixer: str, seed: int) -> MARLConfig:
    """The first recipe's config of (task, agent, mixer, seed) with the variant's one change."""
    overrides = {**FIRST_RECIPE, **VARIANTS[variant]}
    options = {"readout": FIRST_SPIKING_READOUT} if "readout" in AGENTS[agent].options(value_based=True) else {}
    options.update(overrides.pop("core_options", {}))
    cfg = MARLConfig(env_id=env_id, agent=agent, mixer=mixer, seed=seed, core_options=options)
    return dataclasses.replace(cfg, **overrides).validate()


def table(data_dir: Path) -> pd.DataFrame:
    """Per (task, agent, mixer, variant): seeds, median final and best greedy team return, median wall time."""
    summary = read_grid_summary(GRID, data_dir)
    summary = sort_in_order(summary, ["env", "agent", "mixer", "variant"], "variant", VARIANTS)
    return (summary.groupby(["env", "agent", "mixer", "variant"], sort=False)
            .agg(seeds=("seed", "count"), median_final_eval=("final_eval_return", "median"),
                 median_best_eval=("best_eval_return", "median"), median_wall_time_s=("wall_time_s", "median"))
            .reset_index())


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"any of: {', '.join(VARIANTS)}")
    p.add_argument("--env", default="simple_spread", choices=["simple_spread", "spread_memory"])
    p.add_argument("--agent", default="gru", choices=RECIPE_AGENTS)
    p.add_argument("--mixer", default="qmix", choices=["qmix", "vdn"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--table", action="store_true", help="only print the table of what data/ holds")
    add_grid_arguments(p, str(ROOT / "runs" / "marl_recipe"), str(ROOT / "data" / "marl_recipe"))
    args = p.parse_args(argv)
    check_variants(p, args.variants, VARIANTS)
    check_int_arguments(p, args, {"seeds": 0})
    return args


def cells(args) -> dict:
    """``{(variant, env, agent, mixer, seed): MARLConfig}`` of the command line, in running order."""
    return {(v, args.env, args.agent, args.mixer, s): config(v, args.env, args.agent, args.mixer, s)
            for s in args.seeds for v in args.variants}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.table:
        print(table(Path(args.data_dir)).to_string(index=False, float_format="%.1f"))
        return 0
    run_grid(GRID, cells(args), args.runs_dir, args.data_dir, runner_from_args(args), args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
