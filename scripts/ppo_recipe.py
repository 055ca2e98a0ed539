"""Which PPO settings make recurrent PPO solve partially observable CartPole: the peer's recipe, then one change at a
time from it, same budget and seeds.

The commands that made ``data/ppo_recipe/`` (from the project root; cells already there are skipped, so on the
finished data they have nothing left to do) are listed in ``data/ppo_recipe/README.md``; ``--dry-run`` lists the
cells a command would still run. Without ``--variants`` only ``peer`` runs; the default seeds are 0 1 2 and the
default budget 100k environment steps.

The reference, ``peer``, is every setting of sb3-contrib's RecurrentPPO on its own CartPoleNoVel test
(:data:`PEER`: 8 environments x 128 steps, 4 minibatches of 2 whole environment sequences (256 steps), 10 epochs,
learning rate 7e-4 constant, gamma 0.99, lambda 0.98, max_grad_norm 1, return normalisation, a 64-unit tanh layer
in the value head, PyTorch's default head initialisation, hidden 64) in this project's trainer, with the grid's
GRU core (``grsn_edu.experiments.grids.AGENTS["gru"]``). Each other variant changes one thing of ``peer``:
most put back one of the project's defaults (``grsn_edu.rl.ppo.PPOConfig``), ``grsn`` swaps the core for the
grid's GRSN. Runs go to ``runs/ppo_recipe/ENV-VARIANT-sSEED`` (scratch: finished runs are skipped, interrupted
ones resumed); a cell that ``data/ppo_recipe/summary.csv`` already holds at the same budget is skipped, and after
each run the finished runs are merged (atomically) into ``summary.csv``, ``eval_curves.csv`` and
``update_stats.csv``, keeping earlier rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.grids import agent_config
from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS, UPDATE_COLUMNS, summarize, train
from grsn_edu.util.files import merge_csv, read_csv, recorded_keys
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]

#: sb3-contrib RecurrentPPO's settings as PPOConfig fields. Its value loss has no factor 1/2 (vf_coef 0.5 there is
#: 1.0 here); its batch_size=256 of a 1024-step rollout is 4 minibatches.
PEER = {
    "num_envs": 8, "num_steps": 128, "num_minibatches": 4, "update_epochs": 10, "learning_rate": 7e-4,
    "anneal_lr": False, "gamma": 0.99, "gae_lambda": 0.98, "clip_coef": 0.2, "max_grad_norm": 1.0, "ent_coef": 0.0,
    "vf_coef": 1.0, "normalize_returns": True, "advantage_norm": "minibatch", "value_hidden": 64,
    "head_init": "default", "hidden_size": 64,
}

#: variant name -> (grid agent, PPOConfig overrides on top of PEER)
VARIANTS = {
    "peer": ("gru", {}),
    "hidden=128": ("gru", {"hidden_size": 128}),
    "normalize_returns=off": ("gru", {"normalize_returns": False}),
    "rollout=32x1": ("gru", {"num_steps": 32, "num_minibatches": 1}),  # the earlier default: 8 x 32, one minibatch
    "minibatches=1": ("gru", {"num_minibatches": 1}),
    "lr=1e-3-annealed": ("gru", {"learning_rate": 1e-3, "anneal_lr": True}),
    "gamma=0.98,lambda=0.8": ("gru", {"gamma": 0.98, "gae_lambda": 0.8}),
    "max_grad_norm=0.5": ("gru", {"max_grad_norm": 0.5}),
    "value_hidden=0": ("gru", {"value_hidden": 0}),
    "head_init=orthogonal": ("gru", {"head_init": "orthogonal"}),
    "vf_coef=0.5": ("gru", {"vf_coef": 0.5}),
    "advantage_norm=batch": ("gru", {"advantage_norm": "batch"}),
    "advantage_norm=off": ("gru", {"advantage_norm": "off"}),
    "ent_coef=0.01": ("gru", {"ent_coef": 0.01}),
    # GRSN with the core's own beta at initialisation, 0.9 (the grid's GRSN starts at 0.5, the authors' tau = 2)
    "grsn": ("grsn", {"core_options": {"readout": "both", "beta": 0.9}}),
    "grsn,hidden=128": ("grsn", {"core_options": {"readout": "both", "beta": 0.9}, "hidden_size": 128}),
    "grsn,lr=3e-4": ("grsn", {"core_options": {"readout": "both", "beta": 0.9}, "learning_rate": 3e-4}),
    "grsn,beta=0.5": ("grsn", {"core_options": {"readout": "both", "beta": 0.5}}),
    "grsn,gate_input=input": ("grsn", {"core_options": {"readout": "both", "gate_input": "input"}}),
    "grsn,readout=membrane": ("grsn", {"core_options": {"readout": "membrane"}}),
    "rollout=32x32": ("gru", {"num_envs": 32, "num_steps": 32}),
    "rollout=64x16": ("gru", {"num_envs": 64, "num_steps": 16}),
    "rollout=32x32,lr=3e-4-annealed": ("gru", {"num_envs": 32, "num_steps": 32, "anneal_lr": True,
                                               "learning_rate": 3e-4}),
    "grsn,beta=0.5,rollout=32x32": ("grsn", {"core_options": {"readout": "both", "beta": 0.5}, "num_envs": 32,
                                             "num_steps": 32}),
    "grsn,beta=0.5,rollout=32x32,lr-annealed": ("grsn", {"core_options": {"readout": "both", "beta": 0.5},
                                                         "num_envs": 32, "num_steps": 32, "anneal_lr": True}),
    "grsn,beta=0.5,rollout=32x32,lr=3e-4-annealed": ("grsn", {"core_options": {"readout": "both", "beta": 0.5},
                                                              "num_envs": 32, "num_steps": 32, "anneal_lr": True,
                                                              "learning_rate": 3e-4}),
    "grsn,beta=0.5,rollout=64x16": ("grsn", {"core_options": {"readout": "both", "beta": 0.5}, "num_envs": 64,
                                             "num_steps": 16}),
}
KEY = ["variant", "env", "seed"]
SUMMARY_COLUMNS = ["variant", "env", "seed", "total_steps", "final_eval_return", "best_eval_return", "final_train_ma20",
                   "steps_to_target_eval", "steps_to_target_train", "wall_time_s", "firing_rate"]


def config(variant: str, env_id: str, seed: int, steps: int):
    """The :class:`~grsn_edu.rl.ppo.PPOConfig` of one cell."""
    agent, overrides = VARIANTS[variant]
    return dataclasses.replace(agent_config(env_id, agent, seed, steps), **{**PEER, **overrides}).validate()


def _finished(run: Path) -> bool:
    if not (run / "eval_curve.csv").is_file() or not (run / "config.json").is_file():
        return False
    cfg = json.loads((run / "config.json").read_text())
    ev = pd.read_csv(run / "eval_curve.csv")
    batch = cfg["num_envs"] * cfg["num_steps"]
    return len(ev) > 0 and int(ev["global_step"].iloc[-1]) >= (cfg["total_steps"] // batch) * batch


def collect(runs_dir: Path, data_dir: Path) -> pd.DataFrame:
    """Merge every finished run under ``runs_dir`` into the data files; returns the merged summary."""
    rows, evals, updates = [], [], []
    for run in sorted(runs_dir.glob("*-s*")):
        if not (run / "variant.json").is_file() or not _finished(run):
            continue
        info = json.loads((run / "variant.json").read_text())
        cfg = json.loads((run / "config.json").read_text())
        key = {"variant": info["variant"], "env": cfg["env_id"], "seed": cfg["seed"]}
        ev = read_csv(run / "eval_curve.csv", EVAL_COLUMNS)
        tr = read_csv(run / "train_curve.csv", TRAIN_COLUMNS)
        evals.append(ev.assign(**key))
        updates.append(read_csv(run / "update_stats.csv", UPDATE_COLUMNS).assign(**key))
        rows.append({**key, "total_steps": cfg["total_steps"], **summarize(tr, ev)})
    empty = pd.DataFrame(columns=KEY)
    merge_csv(data_dir / "eval_curves.csv", pd.concat(evals) if evals else empty, KEY, KEY + EVAL_COLUMNS)
    merge_csv(data_dir / "update_stats.csv", pd.concat(updates) if updates else empty, KEY, KEY + UPDATE_COLUMNS)
    return merge_csv(data_dir / "summary.csv", pd.DataFrame(rows, columns=SUMMARY_COLUMNS), KEY, SUMMARY_COLUMNS)


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["peer"], help=f"any of: {', '.join(VARIANTS)} (default: peer)")
    p.add_argument("--envs", nargs="+", default=["CartPole-P", "CartPole-V"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--runs-dir", default=str(ROOT / "runs" / "ppo_recipe"))
    p.add_argument("--data-dir", default=str(ROOT / "data" / "ppo_recipe"))
    p.add_argument("--dry-run", action="store_true", help="list the cells still to do and exit")
    args = p.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    check_int_arguments(p, args, {"seeds": 0, "steps": 1})
    return args


def cells(args) -> list[tuple]:
    """The (variant, env, seed) cells of the command line, in the order they run (seed-major, then env)."""
    return [(v, e, s) for s in args.seeds for e in args.envs for v in args.variants]


def pending_cells(args) -> list[tuple]:
    """The cells of :func:`cells` that ``--data-dir``'s ``summary.csv`` does not hold at ``--steps``."""
    recorded = recorded_keys(Path(args.data_dir) / "summary.csv", SUMMARY_COLUMNS, KEY, "total_steps", args.steps)
    return [cell for cell in cells(args) if cell not in recorded]


def main(argv=None):
    args = parse_args(argv)
    runs_dir, data_dir = Path(args.runs_dir), Path(args.data_dir)
    todo = cells(args)
    for variant, env_id, seed in todo:
        config(variant, env_id, seed, args.steps)  # every cell's settings are valid before any run starts
    pending = pending_cells(args)
    if args.dry_run:
        print(f"{data_dir}: {len(todo) - len(pending)} of {len(todo)} cells already there, {len(pending)} to do")
        for variant, env_id, seed in pending:
            print(f"  {variant} {env_id} seed {seed}")
        return
    for i, (variant, env_id, seed) in enumerate(todo):
        run = runs_dir / f"{env_id}-{variant}-s{seed}"
        if (variant, env_id, seed) not in pending:
            print(f"[{i + 1}/{len(todo)}] {variant} {env_id} seed {seed} already in {data_dir}, skipped")
            continue
        if _finished(run):
            print(f"[{i + 1}/{len(todo)}] {run} finished, skipped")
        else:
            run.mkdir(parents=True, exist_ok=True)
            (run / "variant.json").write_text(json.dumps({"variant": variant}) + "\n")
            print(f"[{i + 1}/{len(todo)}] {run}", flush=True)
            train(config(variant, env_id, seed, args.steps), run, resume=(run / "checkpoint.pt").is_file(),
                  progress=False)
        collect(runs_dir, data_dir)


if __name__ == "__main__":
    main()
