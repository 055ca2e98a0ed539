"""GRSN on the cue-recall task with its gates driven by the previous spikes, by the input, or by both.

    .venv/bin/python scripts/gate_input_sweep.py              # the sweep notebook 03 loads (defaults below)
    .venv/bin/python scripts/gate_input_sweep.py --dry-run    # list the runs still to do, run nothing

Every run is :func:`grsn_edu.experiments.memory.train_memory_task` with the protocol of ``scripts/memory_sweep.py`` (800 Adam
steps, learning rate 0.01, batch 64, 32 neurons, 4 cues, noise 0.5, 1024 test sequences), so the
``gate_input=spikes`` rows repeat the ``grsn`` rows of ``data/memory_task/results.csv``. Only ``gate_input``
changes between the three settings. One CSV row per run, with the columns of ``data/memory_task/results.csv``
(:data:`grsn_edu.experiments.memory.RESULT_DTYPES`; read it with :func:`grsn_edu.experiments.memory.load_memory_results`).

The CSV is rewritten atomically after every run (temporary file, ``fsync``, then ``os.replace``): an interrupted
sweep loses at most the run in progress, and started again with the same arguments it skips the runs already
in the file. One torch thread by default, so the wall times are those of one CPU core.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from grsn_edu.snn.neurons import GATE_INPUTS
from grsn_edu.experiments.memory import RESULT_DTYPES, format_options, train_memory_task

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "gate_input" / "results.csv"
COLUMNS = list(RESULT_DTYPES)
#: the columns that identify a run; a planned run whose values are already in the file is skipped
KEY_COLUMNS = ["core", "delay", "seed", "lr", "options", "steps", "batch_size", "hidden_size", "n_cues", "noise",
               "test_size"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gate-inputs", nargs="+", default=list(GATE_INPUTS), choices=GATE_INPUTS,
                   help="what drives the gates (default: all three)")
    p.add_argument("--delays", nargs="+", type=int, default=[1, 2, 5, 10, 20, 40], help="delays D (default 1 2 5 10 20 40)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds (default 0 1 2)")
    p.add_argument("--steps", type=int, default=800, help="optimiser steps per run (default 800)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 0.01)")
    p.add_argument("--hidden-size", type=int, default=32, help="neurons H (default 32)")
    p.add_argument("--test-size", type=int, default=1024, help="held-out test sequences (default 1024)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write and resume")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--dry-run", action="store_true", help="list the runs still to do and exit")
    args = p.parse_args(argv)
    if any(d < 0 for d in args.delays) or any(s < 0 for s in args.seeds):
        p.error("--delays and --seeds must be >= 0")
    if min(args.steps, args.hidden_size, args.test_size, args.threads) < 1 or not args.lr > 0:
        p.error("--steps, --hidden-size, --test-size, --threads must be >= 1 and --lr > 0")
    return args


def run_key(row: dict) -> tuple:
    """A run's identity as strings, so that rows read back from the CSV compare equal to planned ones."""
    return tuple(repr(float(row[c])) if c in ("lr", "noise") else str(row[c]) for c in KEY_COLUMNS)


def plan(args) -> list[dict]:
    """Every run of the grid as keyword arguments of ``train_memory_task``, short delays first."""
    return [
        dict(core_name="grsn", delay=delay, seed=seed, steps=args.steps, lr=args.lr, batch_size=64,
             hidden_size=args.hidden_size, n_cues=4, noise=0.5, test_size=args.test_size, gate_input=gate_input)
        for delay in sorted(args.delays) for seed in args.seeds for gate_input in args.gate_inputs
    ]


def planned_key(run: dict) -> tuple:
    row = dict(run, core=run["core_name"], options=format_options({"gate_input": run["gate_input"]}))
    return run_key(row)


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise SystemExit(f"{path} has columns {reader.fieldnames}, expected {COLUMNS}; choose another --out")
        return list(reader)


def write_rows_atomically(path: Path, rows: list[dict]) -> None:
    """Write the CSV to a temporary file beside ``path``, then rename it over ``path`` (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes the file private (0600); results are meant to be read by anyone
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = read_rows(args.out)
    done = {run_key(r) for r in rows}
    runs = plan(args)
    todo = [r for r in runs if planned_key(r) not in done]
    print(f"{args.out}: {len(runs) - len(todo)} of {len(runs)} runs done, {len(todo)} to do", flush=True)
    if args.dry_run:
        for r in todo:
            print(f"  gate_input={r['gate_input']:6s} D={r['delay']:<3d} seed={r['seed']}")
        return 0
    start = time.perf_counter()
    for i, r in enumerate(todo, 1):
        result = train_memory_task(**r)
        row = result.as_row()
        row["threads"] = args.threads
        rows.append(row)
        write_rows_atomically(args.out, rows)
        print(f"[{i}/{len(todo)}] gate_input={r['gate_input']:6s} D={r['delay']:<3d} seed={r['seed']} "
              f"acc={result.accuracy:.3f} ({result.wall_time_s:.1f} s)", flush=True)
    print(f"done: {len(todo)} runs in {time.perf_counter() - start:.0f} s; {len(rows)} rows in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
