r"""Accuracy on the cue-recall memory task for a grid of cores x delays x seeds (x learning rates), saved as CSV.

The commands that made ``data/memory_task/`` (from the project root; each resumes, so on the finished files they
have nothing left to do):

    .venv/bin/python scripts/memory_sweep.py                      # results.csv: 6 cores x 6 delays x 3 seeds
    .venv/bin/python scripts/memory_sweep.py --delays 20 --seeds 100 --lrs 0.001 0.003 0.01 \
        --out data/memory_task/lr_pilot.csv                        # lr_pilot.csv
    S=".venv/bin/python scripts/memory_sweep.py --delays 20 40 --out data/memory_task/variants.csv"   # variants.csv:
    $S --cores grsn --option grsn:readout=membrane
    $S --cores grsn --option grsn:forget_bias=0
    $S --cores grsn --option grsn:gates=false
    $S --cores grsn --option grsn:gate_input=input
    $S --cores grsn --option grsn:beta=0.5
    $S --cores grsn --lrs 0.003
    $S --cores slstm --option slstm:readout=membrane
    $S --cores lif --option lif:readout=membrane
    $S --cores rleaky --option rleaky:readout=membrane
    $S --cores gru --steps 2400
    $S --cores slstm --delays 5 10 --option slstm:readout=membrane
    $S --cores slstm --delays 1 5 --option slstm:threshold=1.0

(a later ``--delays`` replaces the one in ``$S``),

    A=".venv/bin/python scripts/memory_sweep.py --cores grsn-first-release --out data/memory_task/first_release.csv"
    $A                                               # the first released GRSN cell, membrane reset at each call
    $A --option grsn-first-release:reset_membrane_each_call=false    # the same cell, membrane carried (TAP)
    .venv/bin/python scripts/memory_sweep.py --cores grsn-eq17 --out data/memory_task/eq17.csv    # the Eq. 17 cell

(a core option is ``--option CORE:KEY=VALUE``; its value is read by :func:`parse_value`), and

    .venv/bin/python scripts/memory_sweep.py --dry-run             # list the runs still to do, run nothing

Every run is :func:`grsn_edu.experiments.memory.train_memory_task` (same budget, optimiser and learning rate for
every core) and becomes one CSV row; :func:`grsn_edu.experiments.memory.sweep_memory_task` runs the grid. The CSV
is rewritten atomically after every run, so an interrupted sweep loses at most the run in progress; started again
with the same arguments, it skips the runs already in the file and continues where it stopped. Runs with other
settings (learning rate, options, steps, ...) are told apart by those columns, so several sweeps may share one
file.

One torch thread by default: the numbers (and the measured wall times) are those of a single CPU core.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grsn_edu import CORE_NAMES
from grsn_edu.experiments.memory import sweep_memory_task
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]
#: The cores of the main sweep, spelled out so that the default grid stays the same if cores are added later.
DEFAULT_CORES = ["mlp", "gru", "lif", "grsn", "rleaky", "slstm"]
DEFAULT_OUT = ROOT / "data" / "memory_task" / "results.csv"


def parse_value(text: str):
    """``"true"``/``"false"`` -> bool, then int, then float, else the string itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_options(specs: list[str], cores: list[str], parser: argparse.ArgumentParser) -> dict[str, dict]:
    """``["grsn:readout=membrane", ...]`` -> ``{"grsn": {"readout": "membrane"}, ...}``."""
    options: dict[str, dict] = {core: {} for core in cores}
    for spec in specs:
        core, sep, assignment = spec.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not key or not value:
            parser.error(f"--option must look like CORE:KEY=VALUE (e.g. grsn:readout=membrane), got {spec!r}")
        if core not in cores:
            parser.error(f"--option {spec!r} names core {core!r}, which is not in --cores {' '.join(cores)}")
        options[core][key] = parse_value(value)
    return options


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cores", nargs="+", default=DEFAULT_CORES,
                   help=f"cores to train (default: {' '.join(DEFAULT_CORES)})")
    p.add_argument("--delays", nargs="+", type=int, default=[1, 2, 5, 10, 20, 40],
                   help="delays D (default 1 2 5 10 20 40)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds (default 0 1 2)")
    p.add_argument("--lrs", nargs="+", type=float, default=[1e-2], help="Adam learning rates (default 0.01)")
    p.add_argument("--steps", type=int, default=800, help="optimiser steps per run (default 800)")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per step (default 64)")
    p.add_argument("--hidden-size", type=int, default=32, help="hidden units H of every core (default 32)")
    p.add_argument("--n-cues", type=int, default=4, help="cues to tell apart; chance = 1/n_cues (default 4)")
    p.add_argument("--noise", type=float, default=0.5, help="std of the distractor noise (default 0.5)")
    p.add_argument("--test-size", type=int, default=1024, help="held-out test sequences (default 1024)")
    p.add_argument(
        "--option", action="append", default=[], metavar="CORE:KEY=VALUE",
        help="a core option, repeatable, e.g. grsn:forget_bias=0 or lif:readout=membrane",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"CSV to write and resume (default {DEFAULT_OUT.relative_to(ROOT)})")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--dry-run", action="store_true", help="list the runs still to do and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)

    unknown = [c for c in args.cores if c not in CORE_NAMES]
    if unknown:
        p.error(f"unknown core(s) {', '.join(unknown)}; known cores: {', '.join(CORE_NAMES)}")
    if len(set(args.cores)) != len(args.cores):
        p.error("--cores lists a core twice")
    check_int_arguments(p, args, {"delays": 0, "seeds": 0, "steps": 1, "batch_size": 1, "hidden_size": 1,
                                  "test_size": 1, "threads": 1, "n_cues": 2})
    if any(not lr > 0 for lr in args.lrs):
        p.error(f"--lrs must be > 0, got {args.lrs}")
    if not args.noise >= 0:
        p.error(f"--noise must be >= 0, got {args.noise}")
    if args.out.suffix != ".csv":
        p.error(f"--out must be a .csv file, got {args.out}")
    args.options = parse_options(args.option, args.cores, p)
    return args


def plan(args) -> list[dict]:
    """Every run of the grid, cheapest delays first so that partial results cover every core early."""
    runs = []
    for delay in sorted(args.delays):
        for seed in args.seeds:
            for lr in args.lrs:
                for core in args.cores:
                    runs.append(
                        dict(
                            core_name=core, delay=delay, seed=seed, lr=lr, steps=args.steps,
                            batch_size=args.batch_size, hidden_size=args.hidden_size, n_cues=args.n_cues,
                            noise=args.noise, test_size=args.test_size, **args.options[core],
                        )
                    )
    return runs


def main(argv=None) -> int:
    args = parse_args(argv)
    sweep_memory_task(args.out, plan(args), threads=args.threads, dry_run=args.dry_run, progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
