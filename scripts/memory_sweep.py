"""Accuracy on the cue-recall memory task for a grid of cores x delays x seeds (x learning rates), saved as CSV.

    .venv/bin/python scripts/memory_sweep.py                      # the sweep notebook 02 loads (defaults below)
    .venv/bin/python scripts/memory_sweep.py --cores grsn --delays 20 40 --option grsn:readout=membrane \\
        --out data/memory_task/variants.csv                        # one variant of one core
    .venv/bin/python scripts/memory_sweep.py --dry-run             # list the runs still to do, run nothing

Every run is :func:`grsn_edu.experiments.memory.train_memory_task` (same budget, optimiser and learning rate for every core)
and becomes one CSV row. The CSV is rewritten atomically after every run (temporary file, then ``os.replace``),
so an interrupted sweep loses at most the run in progress; started again with the same arguments, it skips the
runs already in the file and continues where it stopped. Runs with other settings (learning rate, options,
steps, ...) are told apart by those columns, so several sweeps may share one file.

One torch thread by default: the numbers (and the measured wall times) are those of a single CPU core.
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
from tqdm import tqdm

from grsn_edu import CORE_NAMES
from grsn_edu.experiments.memory import MemoryRun, format_options, train_memory_task

ROOT = Path(__file__).resolve().parents[1]
#: The cores of the main sweep, spelled out so that the default grid stays the same if cores are added later.
DEFAULT_CORES = ["mlp", "gru", "lif", "grsn", "rleaky", "slstm"]
DEFAULT_OUT = ROOT / "data" / "memory_task" / "results.csv"

#: CSV columns, in order: MemoryRun's fields without the loss curve, then the torch thread count.
COLUMNS = [name for name in MemoryRun.__dataclass_fields__ if name != "losses"] + ["threads"]

#: Columns that identify a run; a row with the same values is not run again.
KEY_COLUMNS = ["core", "delay", "seed", "lr", "options", "steps", "batch_size", "hidden_size", "n_cues", "noise", "test_size"]


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
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cores", nargs="+", default=DEFAULT_CORES, help=f"cores to train (default: {' '.join(DEFAULT_CORES)})")
    p.add_argument("--delays", nargs="+", type=int, default=[1, 2, 5, 10, 20, 40], help="delays D (default 1 2 5 10 20 40)")
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
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"CSV to write and resume (default {DEFAULT_OUT.relative_to(ROOT)})")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--dry-run", action="store_true", help="list the runs still to do and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)

    unknown = [c for c in args.cores if c not in CORE_NAMES]
    if unknown:
        p.error(f"unknown core(s) {', '.join(unknown)}; known cores: {', '.join(CORE_NAMES)}")
    if len(set(args.cores)) != len(args.cores):
        p.error("--cores lists a core twice")
    if any(d < 0 for d in args.delays):
        p.error(f"--delays must be >= 0, got {args.delays}")
    if any(s < 0 for s in args.seeds):
        p.error(f"--seeds must be >= 0, got {args.seeds}")
    if any(not lr > 0 for lr in args.lrs):
        p.error(f"--lrs must be > 0, got {args.lrs}")
    for name in ("steps", "batch_size", "hidden_size", "test_size", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.n_cues < 2:
        p.error(f"--n-cues must be >= 2, got {args.n_cues}")
    if not args.noise >= 0:
        p.error(f"--noise must be >= 0, got {args.noise}")
    if args.out.suffix != ".csv":
        p.error(f"--out must be a .csv file, got {args.out}")
    args.options = parse_options(args.option, args.cores, p)
    return args


def run_key(row: dict) -> tuple:
    """The identity of a run, as strings, so that rows read back from the CSV compare equal to planned ones."""
    out = []
    for col in KEY_COLUMNS:
        value = row[col]
        out.append(repr(float(value)) if col in ("lr", "noise") else str(value))
    return tuple(out)


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise SystemExit(
                f"{path} has columns {reader.fieldnames}, expected {COLUMNS}; move it away or choose another --out"
            )
        # options is a string column: an empty value is "no options", not missing
        return [{k: (v if v is not None else "") for k, v in row.items()} for row in reader]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_rows_atomically(path: Path, rows: list[dict]) -> None:
    """Write the whole CSV to a temporary file beside ``path``, then rename it over ``path`` (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private (0600); give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


def key_of_planned(run: dict, options: dict) -> tuple:
    row = {k: run[k] for k in KEY_COLUMNS if k in run}
    row["core"] = run["core_name"]
    row["options"] = format_options(options)
    return run_key(row)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = read_rows(args.out)
    done = {run_key(r) for r in rows}
    todo = [r for r in plan(args) if key_of_planned(r, args.options[r["core_name"]]) not in done]
    total = len(plan(args))
    print(f"{args.out}: {total - len(todo)} of {total} runs already done, {len(todo)} to do", flush=True)
    if args.dry_run:
        for r in todo:
            print(f"  {r['core_name']:7s} D={r['delay']:<3d} seed={r['seed']} lr={r['lr']:g} {format_options(args.options[r['core_name']])}")
        return 0
    start = time.perf_counter()
    bar = tqdm(todo, desc="sweep", unit="run", disable=args.quiet)
    for r in bar:
        bar.set_postfix(core=r["core_name"], D=r["delay"], seed=r["seed"])
        result = train_memory_task(**r, progress=not args.quiet)
        row = result.as_row()
        row["threads"] = args.threads
        rows.append(row)
        write_rows_atomically(args.out, rows)
        tqdm.write(
            f"{result.core:7s} D={result.delay:<3d} seed={result.seed} lr={result.lr:g} "
            f"{format_options(result.options):28s} acc={result.accuracy:.3f} loss={result.final_loss:.3f} "
            f"({result.wall_time_s:.1f} s)",
            file=sys.stdout,
        )
    print(f"done: {len(todo)} runs in {time.perf_counter() - start:.0f} s; {len(rows)} rows in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
