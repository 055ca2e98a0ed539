"""GRSN on the cue-recall task with its gates driven by the previous spikes, by the input, or by both.

The command that made ``data/gate_input/results.csv`` (from the project root; it resumes, so on the finished file
it has nothing left to do):

    .venv/bin/python scripts/gate_input_sweep.py              # the sweep notebook 04 loads (defaults below)

and

    .venv/bin/python scripts/gate_input_sweep.py --dry-run    # list the runs still to do, run nothing

Every run is :func:`grsn_edu.experiments.memory.train_memory_task` with the protocol of
``scripts/memory_sweep.py`` (800 Adam steps, learning rate 0.01, batch 64, 32 neurons, 4 cues, noise 0.5, 1024
test sequences), so the ``gate_input=spikes`` rows repeat the ``grsn`` rows of ``data/memory_task/results.csv``.
Only ``gate_input`` changes between the three settings. One CSV row per run, with the columns of
``data/memory_task/results.csv`` (:data:`grsn_edu.experiments.memory.RESULT_DTYPES`; read it with
:func:`grsn_edu.experiments.memory.load_memory_results`).

:func:`grsn_edu.experiments.memory.sweep_memory_task` runs the grid: the CSV is rewritten atomically after every
run, so an interrupted sweep loses at most the run in progress, and started again with the same arguments it
skips the runs already in the file. One torch thread by default, so the wall times are those of one CPU core.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grsn_edu.experiments.memory import sweep_memory_task
from grsn_edu.snn.neurons import GATE_INPUTS
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "gate_input" / "results.csv"


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gate-inputs", nargs="+", default=list(GATE_INPUTS), choices=GATE_INPUTS,
                   help="what drives the gates (default: all three)")
    p.add_argument("--delays", nargs="+", type=int, default=[1, 2, 5, 10, 20, 40],
                   help="delays D (default 1 2 5 10 20 40)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds (default 0 1 2)")
    p.add_argument("--steps", type=int, default=800, help="optimiser steps per run (default 800)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 0.01)")
    p.add_argument("--hidden-size", type=int, default=32, help="neurons H (default 32)")
    p.add_argument("--test-size", type=int, default=1024, help="held-out test sequences (default 1024)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write and resume")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--dry-run", action="store_true", help="list the runs still to do and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    check_int_arguments(p, args, {"delays": 0, "seeds": 0, "steps": 1, "hidden_size": 1, "test_size": 1,
                                  "threads": 1})
    if not args.lr > 0:
        p.error(f"--lr must be > 0, got {args.lr}")
    return args


def plan(args) -> list[dict]:
    """Every run of the grid as keyword arguments of ``train_memory_task``, short delays first."""
    return [
        dict(core_name="grsn", delay=delay, seed=seed, steps=args.steps, lr=args.lr, batch_size=64,
             hidden_size=args.hidden_size, n_cues=4, noise=0.5, test_size=args.test_size, gate_input=gate_input)
        for delay in sorted(args.delays) for seed in args.seeds for gate_input in args.gate_inputs
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    sweep_memory_task(args.out, plan(args), threads=args.threads, dry_run=args.dry_run, progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
