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
found here (target refresh every 200 episodes, spike readout), at a larger budget with batched episodes. Runs go to
``runs/marl_recipe/`` (scratch); cells already in ``data/marl_recipe/summary.csv`` are skipped, and after each run
the finished runs are merged into it and into ``eval_curves.csv`` atomically. Returns are team returns (summed
over the 3 agents and 25 steps) of 20 greedy episodes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.grids import MARL_AGENTS, marl_run_summary, read_finished_marl_run
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARLConfig, train_marl
from grsn_edu.util.files import merge_csv, read_csv
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
SUMMARY_COLUMNS = KEY + ["episodes", "final_eval_return", "best_eval_return", "final_train_ma20", "wall_time_s"]


def config(variant: str, env_id: str, agent: str, mixer: str, seed: int) -> MARLConfig:
    """The first recipe's config of (task, agent, mixer, seed) with the variant's one change."""
    spec = MARL_AGENTS[agent]
    overrides = {**FIRST_RECIPE, **VARIANTS[variant]}
    options = dict(spec["core_options"])
    if "readout" in options:
        options["readout"] = FIRST_SPIKING_READOUT
    options.update(overrides.pop("core_options", {}))
    cfg = MARLConfig(env_id=env_id, core=spec["core"], mixer=mixer, seed=seed, core_options=options)
    return dataclasses.replace(cfg, **overrides).validate()


def collect(runs_dir: Path, data_dir: Path) -> pd.DataFrame:
    """Merge the finished runs under ``runs_dir`` into ``data_dir``; returns the merged summary."""
    rows, evals = [], []
    for run in sorted(runs_dir.glob("*-s*")):
        finished = read_finished_marl_run(run) if (run / "variant.json").is_file() else None
        if finished is None:
            continue
        cfg, ev, tr = finished
        info = json.loads((run / "variant.json").read_text())
        key = {"variant": info["variant"], "env": cfg["env_id"], "agent": info["agent"], "mixer": cfg["mixer"],
               "seed": cfg["seed"]}
        evals.append(ev.assign(**key))
        rows.append({**key, **marl_run_summary(cfg, ev, tr)})  # columns beyond SUMMARY_COLUMNS are dropped below
    merge_csv(data_dir / "eval_curves.csv", pd.concat(evals) if evals else pd.DataFrame(columns=KEY), KEY,
              KEY + MARL_EVAL_COLUMNS)
    return merge_csv(data_dir / "summary.csv", pd.DataFrame(rows, columns=SUMMARY_COLUMNS), KEY, SUMMARY_COLUMNS)


def table(data_dir: Path) -> pd.DataFrame:
    """Per (task, agent, mixer, variant): seeds, median final and best greedy team return, median wall time."""
    summary = read_csv(data_dir / "summary.csv", SUMMARY_COLUMNS)
    order = {name: i for i, name in enumerate(VARIANTS)}
    summary = summary.sort_values(["env", "agent", "mixer", "variant"],
                                  key=lambda c: c.map(order) if c.name == "variant" else c)
    return (summary.groupby(["env", "agent", "mixer", "variant"], sort=False)
            .agg(seeds=("seed", "count"), median_final_eval=("final_eval_return", "median"),
                 median_best_eval=("best_eval_return", "median"), median_wall_time_s=("wall_time_s", "median"))
            .reset_index())


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"any of: {', '.join(VARIANTS)}")
    p.add_argument("--env", default="simple_spread", choices=["simple_spread", "spread_memory"])
    p.add_argument("--agent", default="gru", choices=list(MARL_AGENTS))
    p.add_argument("--mixer", default="qmix", choices=["qmix", "vdn"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--runs-dir", default=str(ROOT / "runs" / "marl_recipe"))
    p.add_argument("--data-dir", default=str(ROOT / "data" / "marl_recipe"))
    p.add_argument("--table", action="store_true", help="only print the table of what data/ holds")
    p.add_argument("--dry-run", action="store_true", help="list the cells still to do and exit")
    args = p.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    check_int_arguments(p, args, {"seeds": 0})
    return args


def cells(args) -> list[tuple]:
    """The cells of the command line as :data:`KEY` tuples (variant, env, agent, mixer, seed), in running order."""
    return [(v, args.env, args.agent, args.mixer, s) for s in args.seeds for v in args.variants]


def pending_cells(args) -> list[tuple]:
    """The cells of :func:`cells` that ``--data-dir``'s ``summary.csv`` does not hold (a variant fixes its budget,
    so any recorded row is a finished cell)."""
    summary_path = Path(args.data_dir) / "summary.csv"
    recorded = (set(read_csv(summary_path, SUMMARY_COLUMNS)[KEY].itertuples(index=False, name=None))
                if summary_path.is_file() else set())
    return [cell for cell in cells(args) if cell not in recorded]


def main(argv=None) -> int:
    args = parse_args(argv)
    runs_dir, data_dir = Path(args.runs_dir), Path(args.data_dir)
    if args.table:
        print(table(data_dir).to_string(index=False, float_format="%.1f"))
        return 0
    todo = cells(args)
    configs = {cell: config(*cell) for cell in todo}  # validate every cell before training any
    pending = pending_cells(args)
    if args.dry_run:
        print(f"{data_dir}: {len(todo) - len(pending)} of {len(todo)} cells already there, {len(pending)} to do")
        for cell in pending:
            print("  " + " ".join(map(str, cell)))
        return 0
    for i, cell in enumerate(todo):
        variant, env_id, agent, mixer, seed = cell
        name = f"{env_id}-{agent}-{mixer}-{variant}-s{seed}"
        if cell not in pending:
            print(f"[{i + 1}/{len(todo)}] {name} already in {data_dir}, skipped")
            continue
        run = runs_dir / name
        run.mkdir(parents=True, exist_ok=True)
        (run / "variant.json").write_text(json.dumps({"variant": variant, "agent": agent}) + "\n")
        print(f"[{i + 1}/{len(todo)}] {run}", flush=True)
        train_marl(configs[cell], run, resume=(run / "checkpoint.pt").is_file())
        collect(runs_dir, data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
