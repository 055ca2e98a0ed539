"""What every trainer does around its algorithm: seeding, the run folder, checkpoints and resuming.

A run folder holds ``config.json`` (the settings), ``train_curve.csv`` and ``eval_curve.csv`` (one row per
training episode and per evaluation), for trainers that log them ``update_stats.csv`` (one row per update of the
learner) and ``checkpoint.pt``. Every file is written atomically
(:mod:`grsn_edu.util.files`), so an interrupted run leaves whole files behind, and
``RunFolder(...).resume(...)`` continues from the last checkpoint.

A trainer reads:

    cfg.validate(); seed_run(cfg)                            # before building anything random
    ... build networks and optimiser ...
    run = RunFolder(out_dir, cfg, TRAIN_COLUMNS, EVAL_COLUMNS)
    saved = run.resume({"model": net, "optimizer": opt}) if resume else {}
    run.write_config()
    for ...:
        run.train_rows.append(...); run.eval_rows.append(...)
        run.save({"model": net, "optimizer": opt}, step=...)   # curves and checkpoint
    run.finish(summary)                                        # the run has ended: finished.json
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from grsn_edu.util.files import load_checkpoint, save_checkpoint, write_csv, write_json

__all__ = ["seed_everything", "seed_run", "load_run_config", "RunFolder", "FINISHED_FILE", "finished_summary"]

#: The file a trainer writes into its run folder when the run has ended (its summary): the one sign that a run
#: is finished, which the grids read (:func:`finished_summary`).
FINISHED_FILE = "finished.json"


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global random generators."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what library code may draw from
    torch.manual_seed(seed)


def seed_run(cfg) -> None:
    """Set torch's thread count (``cfg.threads``) and seed every global generator with ``cfg.seed``."""
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)


def finished_summary(run_dir: str | Path) -> dict | None:
    """The summary a trainer wrote when the run in ``run_dir`` ended (:data:`FINISHED_FILE`); None while the run
    has not ended (or ``run_dir`` is no run folder)."""
    path = Path(run_dir) / FINISHED_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is damaged ({err}); delete it and run the same command again to finish the run "
                         "from its checkpoint") from None


def load_run_config(config_class, run_dir: str | Path):
    """The settings saved in a run folder's ``config.json``, as ``config_class``."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no config.json); train first with grsn-edu")
    config = json.loads(path.read_text())
    return config_class.from_dict(config) if hasattr(config_class, "from_dict") else config_class(**config)


class RunFolder:
    """The files of one training run, and the rows of its two curves.

    Args:
        path: the run folder (created on the first write).
        cfg: the run's settings, a dataclass with the same fields as the class it is rebuilt from.
        train_columns, eval_columns: the columns of ``train_curve.csv`` and ``eval_curve.csv``.
        update_columns: the columns of ``update_stats.csv``; None: the trainer writes no such file.

    Attributes:
        train_rows, eval_rows, update_rows: the curves so far (lists of dicts), restored by :meth:`resume`.
    """

    def __init__(self, path: str | Path, cfg, train_columns: list[str], eval_columns: list[str],
                 update_columns: list[str] | None = None):
        self.path, self.cfg = Path(path), cfg
        self.train_columns, self.eval_columns, self.update_columns = train_columns, eval_columns, update_columns
        self.train_rows: list[dict] = []
        self.eval_rows: list[dict] = []
        self.update_rows: list[dict] = []
        self._wall_before, self._t0 = 0.0, time.perf_counter()

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.pt"

    def wall_time(self) -> float:
        """Seconds of training so far, over every session of this run."""
        return self._wall_before + time.perf_counter() - self._t0

    def resume(self, parts: dict) -> dict:
        """Load the checkpoint into ``parts`` and restore the curves, the clock and the global random generators.

        Args:
            parts: ``{checkpoint key: object with load_state_dict}``, e.g. ``{"model": net, "optimizer": opt}``.

        Returns:
            The checkpoint (its counters: steps, episodes ... whatever :meth:`save` was given).

        Raises:
            ValueError: if the saved settings differ from ``cfg``.
        """
        ckpt = load_checkpoint(self.checkpoint_path)
        config_class = type(self.cfg)
        saved = dataclasses.asdict(config_class.from_dict(ckpt["config"]) if hasattr(config_class, "from_dict")
                                   else config_class(**ckpt["config"]))
        now = dataclasses.asdict(self.cfg)
        if saved != now:
            diff = {k: (v, now[k]) for k, v in saved.items() if now[k] != v}
            raise ValueError(f"cannot resume {self.path}: its settings differ from these (saved, now): {diff}")
        for key, part in parts.items():
            part.load_state_dict(ckpt[key])
        self.train_rows, self.eval_rows = ckpt["train_rows"], ckpt["eval_rows"]
        self.update_rows = ckpt.get("update_rows", [])  # checkpoints written before update stats were kept lack them
        self._wall_before, self._t0 = ckpt["wall_time_s"], time.perf_counter()
        if "torch_rng" in ckpt:  # checkpoints of multi-agent runs written before the generators were saved lack them
            torch.set_rng_state(ckpt["torch_rng"])
            np.random.set_state(ckpt["numpy_rng"])  # noqa: NPY002 - restores the generator seeded above
            random.setstate(ckpt["python_rng"])
        return ckpt

    def write_config(self) -> None:
        """Write ``config.json``."""
        write_json(self.path / "config.json", dataclasses.asdict(self.cfg))

    def curves(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(train curve, eval curve)`` as DataFrames."""
        return (pd.DataFrame(self.train_rows, columns=self.train_columns),
                pd.DataFrame(self.eval_rows, columns=self.eval_columns))

    def write_curves(self) -> None:
        """Write ``train_curve.csv`` and ``eval_curve.csv`` (and ``update_stats.csv`` when it has columns)."""
        train_curve, eval_curve = self.curves()
        write_csv(self.path / "train_curve.csv", train_curve)
        write_csv(self.path / "eval_curve.csv", eval_curve)
        if self.update_columns is not None:
            write_csv(self.path / "update_stats.csv", pd.DataFrame(self.update_rows, columns=self.update_columns))

    def finish(self, summary: dict) -> None:
        """Mark the run as ended: write its ``summary`` as :data:`FINISHED_FILE` (after the last checkpoint)."""
        write_json(self.path / FINISHED_FILE, summary)

    def save(self, parts: dict, **counters) -> None:
        """Write both curves and the checkpoint: settings, ``parts``' state dicts, ``counters``, curves, clock and
        global random generators."""
        self.write_curves()
        save_checkpoint(self.checkpoint_path, {
            "config": dataclasses.asdict(self.cfg), **{k: part.state_dict() for k, part in parts.items()}, **counters,
            "wall_time_s": self.wall_time(), "train_rows": self.train_rows, "eval_rows": self.eval_rows,
            **({"update_rows": self.update_rows} if self.update_columns is not None else {}),
            "torch_rng": torch.get_rng_state(), "python_rng": random.getstate(),
            "numpy_rng": np.random.get_state(),  # noqa: NPY002 - the global generator seeded by seed_everything
        })
