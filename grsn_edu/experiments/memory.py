r"""Memory tasks: supervised sequences whose answer depends on something seen many steps earlier.

The cue-recall task (:class:`CueRecallTask`) is the smallest test of recurrent memory: one of ``n_cues`` cues is
shown at step 0, distractor noise fills the next ``delay - 1`` steps, and at step ``delay`` a *go* signal asks
which cue it was. A network without memory can only guess (accuracy ``1 / n_cues``); a network whose memory
fades within a few steps fails once the delay is longer than its memory.

:func:`train_memory_task` trains any core from :func:`grsn_edu.make_core` with a linear readout on this task
(Adam, back-propagation through time, loss at the decision step only) and measures its accuracy on a fixed
held-out set. It is what ``scripts/memory_sweep.py`` runs for every (core, delay, seed), and what notebook 02
runs live.

Example:
    >>> import torch
    >>> task = CueRecallTask(n_cues=4, delay=3, noise=0.5)
    >>> x, labels = task.sample(8, torch.Generator().manual_seed(0))
    >>> tuple(x.shape), tuple(labels.shape), task.chance      # x is (T, B, I) with T = delay + 1, I = n_cues + 1
    ((4, 8, 5), (8,), 0.25)
    >>> bool((x[0, :, :4].argmax(-1) == labels).all())         # the cue at t=0 is the answer
    True
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from grsn_edu.envs.cue_recall import CueRecallTask
from grsn_edu.snn.cores import make_core
from grsn_edu.util.validation import check_int

__all__ = ["TEST_SEED", "MemoryRun", "format_options", "evaluate_accuracy", "train_memory_network", "train_memory_task", "RESULT_DTYPES", "load_memory_results", "summarize_accuracy"]


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

def format_options(options: dict) -> str:
    """Core options as a stable string, e.g. ``{"readout": "membrane"} -> "readout=membrane"``; ``{}`` -> ``""``."""
    return ";".join(f"{k}={options[k]}" for k in sorted(options))

@torch.no_grad()
def evaluate_accuracy(core: nn.Module, readout: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
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
) -> MemoryRun:
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
        ``(run, core, readout, task)``: a :class:`MemoryRun` with the accuracy, the loss curve and the wall time,
        the trained core and readout, and the task. :func:`train_memory_task` returns the run alone.

    Example:
        >>> run = train_memory_task("gru", delay=1, seed=0, hidden_size=8, steps=5, test_size=32)
        >>> run.core, len(run.losses), 0.0 <= run.accuracy <= 1.0
        ('gru', 5, True)
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
    return run, core, readout, task

def train_memory_task(*args, **kwargs) -> MemoryRun:
    """:func:`train_memory_network` (same arguments and protocol), returning only its :class:`MemoryRun`."""
    return train_memory_network(*args, **kwargs)[0]

#: The columns of ``data/memory_task/*.csv`` (written by ``scripts/memory_sweep.py``) and their dtypes.
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
    """Read a sweep CSV written by ``scripts/memory_sweep.py`` and check its schema.

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
            f"{path} not found; make it with `.venv/bin/python scripts/memory_sweep.py` (see data/memory_task/README.md)"
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
