"""What matters for GRSN on partially observable CartPole: one setting changed at a time, same budget and seeds.

The command that made ``data/cartpole_ablation/`` (from the project root; cells already there are skipped, so on
the finished data it has nothing left to do):

    .venv/bin/python scripts/cartpole_ablation.py --variants gates=off beta=0.9 gate_input=input readout=spikes \
        --seeds 0 1 2

and ``--dry-run`` lists the cells still to do; ``--ray`` runs them on Ray. Without ``--variants`` every variant
but ``reference`` runs; the default seeds are 0 1 and the default budget 100k environment steps.

The reference is the grid's GRSN agent (``grsn_edu.rl.presets.AGENTS["grsn"]`` with the trainer's defaults,
``grsn_edu.rl.ppo.PPOConfig``) on CartPole-P; its runs are the grid's (``data/cartpole/``). Each variant changes
one thing. The runs and the merge into ``data/cartpole_ablation/`` are the one grid runner's
(:mod:`grsn_edu.experiments.runner`).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from grsn_edu.experiments.grids import SUMMARY_COLUMNS, agent_config, ppo_run_summary
from grsn_edu.experiments.runner import (
    Curve,
    Grid,
    add_grid_arguments,
    check_variants,
    run_grid,
    runner_from_args,
)
from grsn_edu.rl.ppo import EVAL_COLUMNS
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]

#: variant name -> (core option overrides, PPOConfig overrides)
VARIANTS = {
    "reference": ({}, {}),
    "readout=spikes": ({"readout": "spikes"}, {}),
    "readout=membrane": ({"readout": "membrane"}, {}),
    "gate_input=input": ({"gate_input": "input"}, {}),
    "gates=off": ({"gates": False}, {}),
    "beta=0.9": ({"beta": 0.9}, {}),  # the core's own default
    "forget_bias=3": ({"forget_bias": 3.0}, {}),
    "hidden=128": ({}, {"hidden_size": 128}),
    "lr=1e-3": ({}, {"learning_rate": 1e-3}),
}
KEY = ["variant", "env", "seed"]
GRID = Grid(name="cartpole_ablation", key=tuple(KEY), summary_columns=("variant", "env", *SUMMARY_COLUMNS[2:]),
                budget="total_steps", summarize=ppo_run_summary,
                curves=(Curve("eval_curves.csv", "eval_curve.csv", tuple(EVAL_COLUMNS)),),
                command="scripts/cartpole_ablation.py (data/cartpole_ablation/README.md)")
SUMMARY_COLUMNS = list(GRID.summary_columns)


def config(variant: str, env_id: str, seed: int, steps: int):
    """The grid's GRSN on ``env_id`` with the variant's one change."""
    core_over, cfg_over = VARIANTS[variant]
    cfg = agent_config(env_id, "grsn", seed, steps)
    return dataclasses.replace(cfg, core_options={**cfg.core_options, **core_over}, **cfg_over).validate()


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v != "reference"],
                   help=f"any of: {', '.join(VARIANTS)} (default: all but 'reference', which is the grid's grsn run)")
    p.add_argument("--env", default="CartPole-P")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--steps", type=int, default=100_000)
    add_grid_arguments(p, str(ROOT / "runs" / "ablation"), str(ROOT / "data" / "cartpole_ablation"))
    args = p.parse_args(argv)
    check_variants(p, args.variants, VARIANTS)
    check_int_arguments(p, args, {"seeds": 0, "steps": 1})
    return args


def cells(args) -> dict:
    """``{(variant, env, seed): PPOConfig}`` of the command line, in the order they run (seed-major)."""
    return {(v, args.env, s): config(v, args.env, s, args.steps) for s in args.seeds for v in args.variants}


def main(argv=None):
    args = parse_args(argv)
    run_grid(GRID, cells(args), args.runs_dir, args.data_dir, runner_from_args(args), args.dry_run)


if __name__ == "__main__":
    main()
