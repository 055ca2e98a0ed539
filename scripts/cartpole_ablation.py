"""What matters for GRSN on partially observable CartPole: one setting changed at a time, same budget and seeds.

The command that made ``data/cartpole_ablation/`` (from the project root; cells already there are skipped, so on
the finished data it has nothing left to do):

    .venv/bin/python scripts/cartpole_ablation.py --variants gates=off beta=0.9 gate_input=input readout=spikes \
        --seeds 0 1 2

and ``--dry-run`` lists the cells still to do. Without ``--variants`` every variant but ``reference`` runs; the
default seeds are 0 1 and the default budget 100k environment steps.

The reference is the grid's GRSN agent (``grsn_edu.experiments.grids.AGENTS["grsn"]``: readout="both",
gate_input="spikes", beta 0.5 at initialisation, threshold 1, forget_bias 1, hidden 64, with the trainer's
defaults, ``grsn_edu.rl.ppo.PPOConfig``) on CartPole-P; its runs are the grid's (``data/cartpole/``). Each variant
changes one thing. Runs go to ``runs/ablation/ENV-VARIANT-sSEED`` (scratch: finished runs are skipped,
interrupted ones resumed); a cell that ``data/cartpole_ablation/summary.csv`` already holds at the same budget is
skipped, and after each run the finished runs are merged (atomically) into ``summary.csv`` and
``eval_curves.csv``, keeping earlier rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.grids import agent_config
from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS, summarize, train
from grsn_edu.util.files import merge_csv, read_csv, recorded_keys
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
SUMMARY_COLUMNS = ["variant", "env", "seed", "total_steps", "final_eval_return", "best_eval_return", "final_train_ma20",
                   "steps_to_target_eval", "steps_to_target_train", "wall_time_s", "firing_rate"]


def config(variant: str, env_id: str, seed: int, steps: int):
    core_over, cfg_over = VARIANTS[variant]
    cfg = agent_config(env_id, "grsn", seed, steps)
    cfg.core_options = {**cfg.core_options, **core_over}
    return dataclasses.replace(cfg, **cfg_over).validate()


def collect(runs_dir: Path, data_dir: Path) -> pd.DataFrame:
    rows, evals = [], []
    for run in sorted(runs_dir.glob("*-s*")):
        meta = run / "variant.json"
        if not meta.is_file() or not (run / "eval_curve.csv").is_file():
            continue
        info = json.loads(meta.read_text())
        cfg = json.loads((run / "config.json").read_text())
        ev = read_csv(run / "eval_curve.csv", EVAL_COLUMNS)
        batch = cfg["num_envs"] * cfg["num_steps"]
        if int(ev["global_step"].iloc[-1]) < (cfg["total_steps"] // batch) * batch:
            continue  # unfinished
        tr = read_csv(run / "train_curve.csv", TRAIN_COLUMNS)
        key = {"variant": info["variant"], "env": cfg["env_id"], "seed": cfg["seed"]}
        evals.append(ev.assign(**key))
        rows.append({**key, "total_steps": cfg["total_steps"], **summarize(tr, ev)})
    merge_csv(data_dir / "eval_curves.csv", pd.concat(evals) if evals else pd.DataFrame(columns=KEY), KEY,
              KEY + EVAL_COLUMNS)
    return merge_csv(data_dir / "summary.csv", pd.DataFrame(rows, columns=SUMMARY_COLUMNS), KEY, SUMMARY_COLUMNS)


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v != "reference"],
                   help=f"any of: {', '.join(VARIANTS)} (default: all but 'reference', which is the grid's grsn run)")
    p.add_argument("--env", default="CartPole-P")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--runs-dir", default=str(ROOT / "runs" / "ablation"))
    p.add_argument("--data-dir", default=str(ROOT / "data" / "cartpole_ablation"))
    p.add_argument("--dry-run", action="store_true", help="list the cells still to do and exit")
    args = p.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    check_int_arguments(p, args, {"seeds": 0, "steps": 1})
    return args


def cells(args) -> list[tuple]:
    """The (variant, env, seed) cells of the command line, in the order they run (seed-major)."""
    return [(v, args.env, s) for s in args.seeds for v in args.variants]


def pending_cells(args) -> list[tuple]:
    """The cells of :func:`cells` that ``--data-dir``'s ``summary.csv`` does not hold at ``--steps``."""
    recorded = recorded_keys(Path(args.data_dir) / "summary.csv", SUMMARY_COLUMNS, KEY, "total_steps", args.steps)
    return [cell for cell in cells(args) if cell not in recorded]


def main(argv=None):
    args = parse_args(argv)
    runs_dir, data_dir = Path(args.runs_dir), Path(args.data_dir)
    todo = cells(args)
    pending = pending_cells(args)
    if args.dry_run:
        print(f"{data_dir}: {len(todo) - len(pending)} of {len(todo)} cells already there, {len(pending)} to do")
        for variant, env_id, seed in pending:
            print(f"  {variant} {env_id} seed {seed}")
        return
    for i, (variant, env_id, seed) in enumerate(todo):
        run = runs_dir / f"{env_id}-{variant}-s{seed}"
        cfg = config(variant, env_id, seed, args.steps)
        if (variant, env_id, seed) not in pending:
            print(f"[{i + 1}/{len(todo)}] {variant} {env_id} seed {seed} already in {data_dir}, skipped")
            continue
        done = False
        if (run / "eval_curve.csv").is_file():
            ev = pd.read_csv(run / "eval_curve.csv")
            batch = cfg.num_envs * cfg.num_steps
            done = len(ev) > 0 and int(ev["global_step"].iloc[-1]) >= (cfg.total_steps // batch) * batch
        if done:
            print(f"[{i + 1}/{len(todo)}] {run} finished, skipped")
        else:
            run.mkdir(parents=True, exist_ok=True)
            (run / "variant.json").write_text(json.dumps({"variant": variant}) + "\n")
            print(f"[{i + 1}/{len(todo)}] {run}")
            train(cfg, run, resume=(run / "checkpoint.pt").is_file())
        collect(runs_dir, data_dir)


if __name__ == "__main__":
    main()
