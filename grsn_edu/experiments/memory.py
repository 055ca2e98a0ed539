"""The memory-task protocol: train a core with a linear readout to recall a cue, and sweeps of such runs.

The task is :class:`~grsn_edu.envs.cue_recall.CueRecallTask`: one of ``n_cues`` cues at step 0, distractor
noise on the ``delay`` steps after it, the answer asked for at the last of them; without memory only a guess is left
(accuracy ``1 / n_cues``).

:func:`train_memory_task` trains any core from :func:`grsn_edu.make_core` with a linear readout on this task
(Adam, back-propagation through time, loss at the decision step only) and measures its accuracy on a fixed
held-out set. It is what ``scripts/memory_sweep.py`` runs for every (core, delay, seed), and what notebook 02
runs live. :func:`sweep_memory_task` runs a list of them into one CSV, resuming where an interrupted sweep stopped
(``scripts/memory_sweep.py`` and ``scripts/gate_input_sweep.py`` are two grids of it).

Example:
    >>> run = train_memory_task("gru", delay=2, steps=5, hidden_size=4, test_size=16)
    >>> run.core, run.delay, 0.0 <= run.accuracy <= 1.0
    ('gru', 2, True)
"""

from __future__ import annotations

import csv
import inspect
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn
from tqdm.auto import tqdm

from grsn_edu.envs.cue_recall import CueRecallTask
from grsn_edu.snn.cores import make_core
from grsn_edu.util.files import atomic_write
from grsn_edu.util.validation import check_int

__all__ = ["TEST_SEED", "MemoryRun", "TrainedMemoryNetwork", "format_options", "evaluate_accuracy",
           "train_memory_network", "train_memory_task", "RESULT_DTYPES", "load_memory_results", "summarize_accuracy",
           "RUN_KEY_COLUMNS", "run_key", "planned_row", "read_sweep_rows", "pending_runs", "sweep_memory_task"]


#: Seed of the held-out test set. It is the same for every core and every training seed, so accuracies at one
#: delay are measured on exactly the same sequences.
TEST_SEED = 2025


@dataclass
class MemoryRun:
    """The record of one training run on the cue-recall task (one row of ``data/memory_task/results.csv``).

    Attributes:
        core: core name (``make_core``'s ``name``).
        delay: D of the task.
        seed: training seed (initial weights and training batches).
        accuracy: fraction correct on the held-out test set after training, in [0, 1].
        test_loss: cross-entropy on the held-out test set after training.
        final_loss: mean training loss over the last 10 % of steps.
        wall_time_s: training time, seconds (without building the test set and evaluating).
        steps, batch_size, lr, hidden_size, n_cues, noise, test_size: the protocol.
        options: the core options used (``readout``, ``forget_bias``, ...).
        n_params: trainable parameters of core + readout.
        chance: accuracy of guessing, ``1 / n_cues``.
        losses: training loss at every step, length ``steps``.
    """

    core: str
    delay: int
    seed: int
    accuracy: float
    test_loss: float
    final_loss: float
    wall_time_s: float
    steps: int
    batch_size: int
    lr: float
    hidden_size: int
    n_cues: int
    noise: float
    test_size: int
    options: dict = field(default_factory=dict)
    n_params: int = 0
    chance: float = 0.0
    losses: list[float] = field(default_factory=list, repr=False)

    def as_row(self) -> dict:
        """A flat dict for a CSV row: everything but the loss curve; ``options`` as sorted ``key=value;...``."""
        row = asdict(self)
        row.pop("losses")
        row["options"] = format_options(self.options)
        return row


class TrainedMemoryNetwork(NamedTuple):
    """What :func:`train_memory_network` returns; a tuple, so ``run, core, readout, task = ...`` unpacks it.

    Attributes:
        run: the :class:`MemoryRun` (accuracy, loss curve, wall time, protocol).
        core: the trained core.
        readout: the trained ``nn.Linear(core.output_size, n_cues)``.
        task: the :class:`CueRecallTask` it was trained and tested on.
    """

    run: MemoryRun
    core: nn.Module
    readout: nn.Linear
    task: CueRecallTask


def format_options(options: dict) -> str:
    """Core options as a stable string, e.g. ``{"readout": "membrane"} -> "readout=membrane"``; ``{}`` -> ``""``."""
    return ";".join(f"{k}={options[k]}" for k in sorted(options))


@torch.no_grad()
def evaluate_accuracy(core: nn.Module, readout: nn.Module, x: torch.Tensor,
                      labels: torch.Tensor) -> tuple[float, float]:
    """Accuracy and cross-entropy of ``core`` + ``readout`` at the last step of ``x``.

    Args:
        core: a core from :func:`grsn_edu.make_core`.
        readout: maps ``(B, core.output_size)`` to ``(B, n_cues)`` logits.
        x: ``(T, B, I)``, decision at step ``T - 1``.
        labels: ``(B,)``.

    Returns:
        ``(accuracy, loss)`` as floats.
    """
    out, _ = core(x, core.initial_state(x.shape[1]))
    logits = readout(out[-1])
    loss = nn.functional.cross_entropy(logits, labels)
    accuracy = (logits.argmax(-1) == labels).float().mean()
    return float(accuracy), float(loss)


def train_memory_network(
    core_name: str,
    delay: int,
    seed: int = 0,
    hidden_size: int = 32,
    steps: int = 400,
    batch_size: int = 64,
    lr: float = 3e-3,
    n_cues: int = 4,
    noise: float = 0.5,
    test_size: int = 512,
    grad_clip: float = 1.0,
    progress: bool = False,
    **core_options,
) -> TrainedMemoryNetwork:
    r"""Train a core + linear readout on :class:`CueRecallTask` and measure its held-out accuracy.

    The network is ``logits = W o_D + b`` with ``o_D`` the core's output at the decision step D; the loss is the
    cross-entropy there (nothing is asked at other steps). Training is full back-propagation through time over
    the whole sequence ``(T, B, I) = (D + 1, batch_size, n_cues + 1)``, Adam with learning rate ``lr``, gradient
    norm clipped to ``grad_clip``, a fresh batch every step. The same protocol (budget, optimiser, learning rate,
    clipping) is used for every core.

    Deterministic on CPU: the seed fixes the initial weights (``torch.manual_seed(seed)`` before building) and
    the training batches (a ``torch.Generator`` seeded with ``seed``). The test set is fixed by
    :data:`TEST_SEED`, the same for every core and seed. The number of torch threads is left to the caller
    (``torch.set_num_threads(1)`` for sweeps on a shared machine).

    Args:
        core_name: ``mlp``, ``gru``, ``lif``, ``grsn``, ``rleaky`` or ``slstm``.
        delay: D, steps from cue to decision.
        seed: training seed, an int >= 0.
        hidden_size: H of the core.
        steps: optimiser steps.
        batch_size: sequences per step.
        lr: Adam learning rate.
        n_cues, noise: the task (see :class:`CueRecallTask`).
        test_size: sequences in the held-out test set.
        grad_clip: maximum gradient norm (``float("inf")`` to switch clipping off).
        progress: show a tqdm progress bar with the running loss.
        **core_options: passed to :func:`grsn_edu.make_core`, e.g. ``readout="membrane"``, ``forget_bias=2.0``.

    Returns:
        A :class:`TrainedMemoryNetwork` ``(run, core, readout, task)``: the :class:`MemoryRun` with the accuracy,
        the loss curve and the wall time, the trained core and readout, and the task. :func:`train_memory_task`
        returns the run alone.

    Example:
        >>> run, core, readout, task = train_memory_network("gru", delay=1, seed=0, hidden_size=8, steps=5,
        ...                                                 test_size=32)
        >>> run.core, len(run.losses), readout.out_features, task.seq_len
        ('gru', 5, 4, 2)
    """
    task = CueRecallTask(n_cues=n_cues, delay=delay, noise=noise)
    seed = check_int("seed", seed, minimum=0)
    check_int("steps", steps)
    check_int("batch_size", batch_size)
    check_int("test_size", test_size)
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0):
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    if not (isinstance(grad_clip, (int, float)) and grad_clip > 0):
        raise ValueError(f"grad_clip must be > 0 (inf switches clipping off), got {grad_clip!r}")

    torch.manual_seed(seed)
    core = make_core(core_name, task.input_size, hidden_size, **core_options)
    readout = nn.Linear(core.output_size, task.n_cues)
    params = list(core.parameters()) + list(readout.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    batches = torch.Generator().manual_seed(seed)

    losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"{core_name} D={delay} seed={seed}", disable=not progress, leave=False)
    for _ in bar:
        x, labels = task.sample(batch_size, batches)
        out, _ = core(x, core.initial_state(batch_size))
        loss = nn.functional.cross_entropy(readout(out[task.decision_step]), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if math.isfinite(grad_clip):
            nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        losses.append(loss.item())
        if progress and len(losses) % 20 == 0:
            bar.set_postfix(loss=f"{sum(losses[-20:]) / 20:.3f}")
    wall_time = time.perf_counter() - start
    bar.close()

    x_test, y_test = task.sample(test_size, torch.Generator().manual_seed(TEST_SEED))
    accuracy, test_loss = evaluate_accuracy(core, readout, x_test, y_test)
    tail = losses[-max(1, steps // 10):]
    run = MemoryRun(
        core=core_name,
        delay=delay,
        seed=seed,
        accuracy=accuracy,
        test_loss=test_loss,
        final_loss=sum(tail) / len(tail),
        wall_time_s=wall_time,
        steps=steps,
        batch_size=batch_size,
        lr=float(lr),
        hidden_size=hidden_size,
        n_cues=n_cues,
        noise=float(noise),
        test_size=test_size,
        options=dict(core_options),
        n_params=sum(p.numel() for p in params if p.requires_grad),
        chance=task.chance,
        losses=losses,
    )
    return TrainedMemoryNetwork(run, core, readout, task)


def train_memory_task(*args, **kwargs) -> MemoryRun:
    """:func:`train_memory_network` (same arguments and protocol), returning only its :class:`MemoryRun`."""
    return train_memory_network(*args, **kwargs).run


#: The columns of a sweep CSV (``data/memory_task/*.csv``, ``data/gate_input/results.csv``, written by
#: :func:`sweep_memory_task`) and their dtypes.
RESULT_DTYPES = {
    "core": "object",
    "delay": "int64",
    "seed": "int64",
    "accuracy": "float64",
    "test_loss": "float64",
    "final_loss": "float64",
    "wall_time_s": "float64",
    "steps": "int64",
    "batch_size": "int64",
    "lr": "float64",
    "hidden_size": "int64",
    "n_cues": "int64",
    "noise": "float64",
    "test_size": "int64",
    "options": "object",
    "n_params": "int64",
    "chance": "float64",
    "threads": "int64",
}

def load_memory_results(path):
    """Read a sweep CSV (written by :func:`sweep_memory_task`) and check its schema.

    Args:
        path: the CSV, e.g. ``data/memory_task/results.csv``.

    Returns:
        A pandas DataFrame, one row per run, with the columns and dtypes of :data:`RESULT_DTYPES`
        (``options`` is ``""`` for a core's defaults).

    Raises:
        FileNotFoundError: the file is missing (the error says how to make it).
        ValueError: columns missing or unexpected, or values out of range.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found; make it with `.venv/bin/python scripts/memory_sweep.py` "
            "(see data/memory_task/README.md)"
        )
    df = pd.read_csv(path, dtype={"options": str, "core": str}, keep_default_na=False)
    if list(df.columns) != list(RESULT_DTYPES):
        raise ValueError(f"{path}: columns {list(df.columns)}, expected {list(RESULT_DTYPES)}")
    df = df.astype(RESULT_DTYPES)
    if not df["accuracy"].between(0, 1).all():
        raise ValueError(f"{path}: accuracy outside [0, 1]")
    return df

def summarize_accuracy(results, by=("core", "delay")):
    """Mean, standard deviation, min, max and number of seeds of the accuracy, per ``by`` group.

    Args:
        results: a DataFrame like :func:`load_memory_results` returns.
        by: the grouping columns.

    Returns:
        A DataFrame indexed by ``by`` with columns ``mean``, ``std``, ``min``, ``max``, ``seeds``.
    """
    grouped = results.groupby(list(by))["accuracy"]
    return grouped.agg(mean="mean", std="std", min="min", max="max", seeds="count")


# -- sweeps: many runs into one CSV, resumable ---------------------------------------------------------------------

#: The columns of a sweep CSV that identify a run: a planned run whose values are already in the file is not run
#: again. ``grad_clip`` is not among them (nor in the CSV): every sweep uses the default.
RUN_KEY_COLUMNS = ["core", "delay", "seed", "lr", "options", "steps", "batch_size", "hidden_size", "n_cues", "noise",
                   "test_size"]
_TRAINING_ARGUMENTS = inspect.signature(train_memory_network)


def run_key(row: dict) -> tuple:
    """The identity of a run (a CSV row, or :func:`planned_row` of a planned run) as a tuple of strings.

    Numbers are compared as their text, floats through ``repr(float(...))``, so that a row read back from the CSV
    (all strings) equals the row of the run that wrote it: ``{"lr": "0.01", ...}`` and ``{"lr": 0.01, ...}`` give
    the same key.
    """
    return tuple(repr(float(row[c])) if c in ("lr", "noise") else str(row[c]) for c in RUN_KEY_COLUMNS)


def planned_row(run: dict) -> dict:
    """The :data:`RUN_KEY_COLUMNS` of a planned run, given as keyword arguments of :func:`train_memory_task`.

    Arguments left out take the function's defaults; keyword arguments that are not its own are core options.

    Example:
        >>> row = planned_row(dict(core_name="grsn", delay=5, seed=1, lr=0.01, gate_input="input"))
        >>> row["core"], row["options"], row["steps"], row["test_size"]
        ('grsn', 'gate_input=input', 400, 512)
    """
    bound = _TRAINING_ARGUMENTS.bind(**run)
    bound.apply_defaults()
    args = dict(bound.arguments)
    row = {c: args[c] for c in RUN_KEY_COLUMNS if c in args}
    row["core"] = args["core_name"]
    row["options"] = format_options(args["core_options"])
    return row


def read_sweep_rows(path) -> list[dict]:
    """The rows of a sweep CSV as dicts of strings (``[]`` if the file does not exist yet).

    Raises:
        ValueError: the file's columns are not :data:`RESULT_DTYPES` (it is another kind of file).
    """
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != list(RESULT_DTYPES):
            raise ValueError(f"{path} has columns {reader.fieldnames}, expected {list(RESULT_DTYPES)}; move it away "
                             "or choose another --out")
        # options is a string column: an empty value is "no options", not missing
        return [{k: (v if v is not None else "") for k, v in row.items()} for row in reader]


def _write_sweep_rows(path: Path, rows: list[dict]) -> None:
    def write(tmp):
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(RESULT_DTYPES))
            writer.writeheader()
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename, so a crash leaves the old file or the new one

    atomic_write(path, write)


def pending_runs(path, runs: list[dict]) -> list[dict]:
    """The runs of ``runs`` (keyword arguments of :func:`train_memory_task`) that the sweep CSV ``path`` lacks."""
    done = {run_key(row) for row in read_sweep_rows(path)}
    return [run for run in runs if run_key(planned_row(run)) not in done]


def _describe(row: dict) -> str:
    return (f"{row['core']:7s} D={row['delay']:<3} seed={row['seed']} lr={float(row['lr']):g} "
            f"{row['options']:28s}")


def sweep_memory_task(path, runs: list[dict], threads: int = 1, dry_run: bool = False,
                      progress: bool = True) -> list[dict]:
    """Train every run of ``runs`` that the CSV ``path`` does not hold yet; one row per run, saved after each.

    Each run is :func:`train_memory_task` with the run's keyword arguments; its row is
    :meth:`MemoryRun.as_row` plus the torch thread count (the columns of :data:`RESULT_DTYPES`). Rows already in
    the file stay as they are. The whole file is rewritten atomically after every run (temporary file,
    ``fsync``, ``os.replace``), so an interrupted sweep loses at most the run in progress, and called again with
    the same runs it continues where it stopped. Runs with other settings (learning rate, options, steps, ...)
    have other keys (:data:`RUN_KEY_COLUMNS`), so several sweeps can share one file.

    Args:
        path: the CSV to extend (made if missing).
        runs: keyword arguments of :func:`train_memory_task`, one dict per run, in the order to run them.
        threads: torch threads for the training (``torch.set_num_threads``), recorded in every new row.
        dry_run: only print the runs still to do.
        progress: progress bars for the sweep and for each run.

    Returns:
        The rows of the file afterwards (those read back as strings, then the new ones).

    Raises:
        ValueError: ``path`` exists with other columns, or ``threads`` is not an integer >= 1.
    """
    path = Path(path)
    threads = check_int("threads", threads)
    rows = read_sweep_rows(path)
    todo = pending_runs(path, runs)
    print(f"{path}: {len(runs) - len(todo)} of {len(runs)} runs done, {len(todo)} to do", flush=True)
    if dry_run:
        for run in todo:
            print(f"  {_describe(planned_row(run))}")
        return rows
    torch.set_num_threads(threads)
    start = time.perf_counter()
    bar = tqdm(todo, desc="sweep", unit="run", disable=not progress)
    for run in bar:
        bar.set_postfix(core=run["core_name"], D=run["delay"], seed=run["seed"])
        result = train_memory_task(**run, progress=progress)
        row = result.as_row()
        row["threads"] = threads
        rows.append(row)
        _write_sweep_rows(path, rows)
        tqdm.write(f"{_describe(row)} acc={result.accuracy:.3f} loss={result.final_loss:.3f} "
                   f"({result.wall_time_s:.1f} s)", file=sys.stdout)
    print(f"done: {len(todo)} runs in {time.perf_counter() - start:.0f} s; {len(rows)} rows in {path}", flush=True)
    return rows
