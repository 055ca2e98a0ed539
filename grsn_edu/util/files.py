"""Run folders: atomic writes of curves, configs and checkpoints, and loading them with clear errors.

Nothing is ever left half-written: every file is written to a temporary file in the same folder and moved into
place with ``os.replace``, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import torch

__all__ = ["atomic_write", "write_csv", "write_json", "save_checkpoint", "load_checkpoint", "read_csv", "merge_csv",
           "recorded_keys"]


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it onto ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private (0600); give it the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_csv(path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as CSV (no index), atomically."""
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(path, obj) -> None:
    """Write JSON (indented, sorted keys), atomically."""

    def _write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")

    atomic_write(path, _write)


def save_checkpoint(path, payload: dict) -> None:
    """``torch.save`` a dict, atomically."""
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint`, with a clear error if it is missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train first (grsn-edu train ...) or check the run folder")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise ValueError(f"checkpoint {path} is unreadable ({type(err).__name__}: {err}); "
                         "delete it and retrain") from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise ValueError(f"checkpoint {path} does not hold a grsn-edu model; delete it and retrain")
    return payload


def read_csv(path, columns: list[str]) -> pd.DataFrame:
    """Read a CSV and check it has ``columns``; a clear error if the file is missing, empty or of another schema."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"missing data file {path}; its folder's README.md gives the command that makes it")
    try:
        frame = pd.read_csv(path)
    except Exception as err:
        raise ValueError(f"{path} is not a readable CSV ({err}); "
                         "regenerate it with the command in its README.md") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}; regenerate it with the command in its README.md")
    return frame


def recorded_keys(summary_path, columns: list[str], key: list[str], budget_column: str, budget: int) -> set:
    """Keys (tuples of ``key`` columns) of the rows of a summary CSV whose ``budget_column`` equals ``budget``.

    Empty if the file does not exist yet. Experiment grids use it to skip cells that ``data/`` already holds.
    """
    summary_path = Path(summary_path)
    if not summary_path.is_file():
        return set()
    summary = read_csv(summary_path, columns)
    done = summary[summary[budget_column] == budget]
    return set(done[key].itertuples(index=False, name=None))


def merge_csv(path, new: pd.DataFrame, key: list[str], columns: list[str]) -> pd.DataFrame:
    """Merge ``new`` into the CSV at ``path`` (atomically) and return the result, sorted by ``key``.

    Rows of ``new`` replace the file's rows with the same ``key``; the file's other rows are kept; ``columns`` is
    the schema (checked on the file, and the column order written). Run folders are scratch, ``data/`` lasts:
    this is how results from several sessions accumulate.
    """
    path = Path(path)
    if path.is_file():
        old = read_csv(path, columns)[columns]
        if len(new):
            fresh = set(new[key].itertuples(index=False, name=None))
            keep = [k not in fresh for k in old[key].itertuples(index=False, name=None)]
            new = pd.concat([old[keep], new[columns]])
        else:
            new = old
    elif not len(new):
        return pd.DataFrame(columns=columns)
    merged = new[columns].sort_values(key, kind="stable").reset_index(drop=True)
    write_csv(path, merged)
    return merged
