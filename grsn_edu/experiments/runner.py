"""One runner for every grid of runs behind ``data/``: plan the cells, run the pending ones (here or on Ray),
merge the finished runs into the data files, and read those files back checked.

A *grid* (:class:`Grid`) says what its data files hold: the key columns that name a cell (e.g. env, agent,
seed), the summary columns, the curves copied from each run, and the command that regenerates them. A grid
*script* (``grsn-edu reproduce``, ``scripts/cartpole_ablation.py``, ...) only says which cells it wants and the
settings of each (a :class:`~grsn_edu.rl.ppo.PPOConfig` or a team config) and hands them to :func:`run_grid`:

    run_grid(CARTPOLE, {("CartPole-P", "grsn", 0): config, ...}, runs_dir, data_dir)

Each cell's run goes to its own folder under ``runs_dir`` (scratch, never committed), named by its key, with
``cell.json`` holding the key. A cell is skipped when ``summary.csv`` already holds it at the same budget, or
when its run folder holds a finished run (the trainer's ``finished.json``:
:func:`grsn_edu.rl.training.finished_summary`); an interrupted run is resumed from its checkpoint. After every
run the finished runs under ``runs_dir`` are merged into the data files (atomically), replacing rows of the same
key and keeping the rest. ``runner(cells, after_each)`` makes the pending cells: :func:`run_cells_here` (one
after the other, in this process) or :func:`grsn_edu.experiments.ray_grid.ray_runner` (one Ray task each).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from grsn_edu.rl.marl import train_team
from grsn_edu.rl.ppo import PPOConfig, train
from grsn_edu.rl.training import finished_summary
from grsn_edu.util.files import load_checkpoint, merge_csv, read_csv, save_checkpoint, write_json

__all__ = ["Curve", "AgentFiles", "Grid", "GridCell", "run_name", "plan_grid", "run_cells_here", "run_grid",
           "collect", "read_grid_summary", "add_grid_arguments", "runner_from_args", "check_variants",
           "CELL_FILE"]

#: The file in a run folder that names its cell (the grid's key columns and their values).
CELL_FILE = "cell.json"


@dataclass(frozen=True)
class Curve:
    """A curve copied from every run into one data file: ``data_file`` (e.g. ``eval_curves.csv``) holds the key
    columns and ``columns`` of each run's ``run_file`` (e.g. ``eval_curve.csv``)."""

    data_file: str
    run_file: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class AgentFiles:
    """Trained weights kept in ``data_dir/agents/``: one file per group of cells (``group`` columns, named by their
    values joined with ``-``), from the group's lowest seed, with the checkpoint entries ``payload``."""

    group: tuple[str, ...]
    payload: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """What the data files of a grid hold.

    Attributes:
        name: the data folder's name, e.g. ``cartpole``.
        key: the columns that name a cell; one of them is ``seed``.
        summary_columns: the columns of ``summary.csv`` (the key first).
        budget: the summary column of the run's budget (its config field of the same name); a row recorded at
            another budget is not the same cell.
        summarize: ``summarize(config dict, {run file: curve})`` -> the summary values of a finished run.
        curves: the curves kept per run.
        command: the command that regenerates the data folder (said in every error about its files).
        agents: the trained weights kept, or None.
        extra_rows: ``extra_rows(summary)`` -> rows the grid adds to its summary that are not runs (scripted
            baselines, with a budget of 0), computed only for what the summary does not hold yet; None for none.
        run_files: the files of a run that ``summarize`` reads (besides the curves').
    """

    name: str
    key: tuple[str, ...]
    summary_columns: tuple[str, ...]
    budget: str
    summarize: Callable[[dict, dict], dict]
    curves: tuple[Curve, ...] = ()
    command: str = ""
    agents: AgentFiles | None = None
    extra_rows: Callable[[pd.DataFrame], list[dict]] | None = None
    run_files: tuple[str, ...] = field(default=("eval_curve.csv", "train_curve.csv"))


@dataclass(frozen=True)
class GridCell:
    """One run of a grid still to be made: its key, where it goes and its settings (a ``PPOConfig`` or a team
    config). :meth:`train` makes it, resuming from the run folder's checkpoint when there is one, so a cell whose
    worker died part-way is finished by running it again."""

    key: dict
    run: Path
    config: object  # PPOConfig, a team config, or settings with ``train_run(run, resume, progress)``

    @property
    def label(self) -> str:
        return " ".join(f"{v}" if k != "seed" else f"seed {v}" for k, v in self.key.items())

    def train(self, progress: bool = True) -> Path:
        write_json(self.run / CELL_FILE, self.key)
        resume = (self.run / "checkpoint.pt").is_file()
        if hasattr(self.config, "train_run"):  # a trainer from outside the package (e.g. the peer's)
            self.config.train_run(self.run, resume=resume, progress=progress)
        elif isinstance(self.config, PPOConfig):
            train(self.config, self.run, resume=resume, progress=progress)
        else:
            train_team(self.config, self.run, resume=resume, progress=progress)
        return self.run


def run_name(key: dict) -> str:
    """The run folder name of a cell: its key's values joined with ``-``, the seed as ``sN``, e.g.
    ``CartPole-P-grsn-s0``."""
    return "-".join(f"s{v}" if k == "seed" else str(v) for k, v in key.items())


def _recorded(grid: Grid, data_dir: Path) -> dict:
    """``{key tuple: budget}`` of the runs ``data_dir/summary.csv`` holds."""
    path = Path(data_dir) / "summary.csv"
    if not path.is_file():
        return {}
    summary = read_csv(path, list(grid.summary_columns))
    return {tuple(row[:-1]): row[-1] for row in summary[[*grid.key, grid.budget]].itertuples(index=False, name=None)}


def plan_grid(grid: Grid, cells: dict, runs_dir: Path, data_dir: Path) -> tuple[list, list[GridCell]]:
    """``(done, pending)``: the cells (key tuples) already in ``data_dir`` or finished under ``runs_dir``, and the
    :class:`GridCell` s still to run. ``cells`` maps key tuples (in the order of ``grid.key``) to settings."""
    recorded = _recorded(grid, data_dir)
    done, pending = [], []
    for key, config in cells.items():
        key_dict = dict(zip(grid.key, key))
        run = Path(runs_dir) / run_name(key_dict)
        budget = getattr(config, grid.budget)
        if recorded.get(tuple(key)) == budget or finished_summary(run) is not None:
            done.append(tuple(key))
        else:
            pending.append(GridCell(key_dict, run, config))
    return done, pending


def run_cells_here(cells: list[GridCell], after_each) -> None:
    """The local runner: each cell in turn, in this process, then ``after_each()`` (the grid's merge into data/)."""
    for i, cell in enumerate(cells):
        resume = (cell.run / "checkpoint.pt").is_file()
        print(f"[{i + 1}/{len(cells)}] {cell.run}{' (resuming)' if resume else ''}", flush=True)
        cell.train()
        after_each()


def run_grid(grid: Grid, cells: dict, runs_dir, data_dir, runner=None, dry_run: bool = False) -> pd.DataFrame | None:
    """Run (or resume, or skip) every cell and merge the finished runs into ``data_dir`` after each.

    Args:
        grid: what the data files hold.
        cells: ``{key tuple: settings}``, in the order to run them (every setting is validated before any run).
        runs_dir, data_dir: the run folders (scratch) and the data folder.
        runner: ``runner(pending cells, after_each)`` (default :func:`run_cells_here`).
        dry_run: only print what is done and what is still to do.

    Returns:
        The merged summary (None on a dry run).
    """
    for config in cells.values():
        config.validate()
    runs_dir, data_dir = Path(runs_dir), Path(data_dir)
    done, pending = plan_grid(grid, cells, runs_dir, data_dir)
    print(f"{data_dir}: {len(done)} of {len(cells)} cells done, {len(pending)} to run", flush=True)
    if dry_run:
        for cell in pending:
            print(f"  {cell.label}")
        return None
    (runner or run_cells_here)(pending, lambda: collect(grid, runs_dir, data_dir))
    return collect(grid, runs_dir, data_dir)


def _finished_runs(grid: Grid, runs_dir: Path):
    """``(run folder, key dict, config dict, curves)`` of every finished run of ``grid`` under ``runs_dir``."""
    for run in sorted(Path(runs_dir).glob("*")):
        cell_path = run / CELL_FILE
        if not cell_path.is_file() or finished_summary(run) is None:
            continue
        key = json.loads(cell_path.read_text())
        if sorted(key) != sorted(grid.key):
            continue  # a run of another grid sharing the folder
        config = json.loads((run / "config.json").read_text())
        columns = {c.run_file: c.columns for c in grid.curves}
        names = dict.fromkeys([*grid.run_files, *columns])
        curves = {name: read_csv(run / name, list(columns.get(name, ()))) for name in names}
        yield run, {k: key[k] for k in grid.key}, config, curves


def collect(grid: Grid, runs_dir, data_dir) -> pd.DataFrame:
    """Merge every finished run of ``grid`` under ``runs_dir`` into ``data_dir``; returns the merged summary.

    Runs still in progress are left out, so the data never mixes budgets. Rows already in ``data_dir`` for runs
    that are not under ``runs_dir`` are kept.
    """
    data_dir = Path(data_dir)
    key = list(grid.key)
    rows, curves, finished = [], {c.data_file: [] for c in grid.curves}, {}
    for run, key_dict, config, run_curves in _finished_runs(grid, runs_dir):
        finished[tuple(key_dict.values())] = run
        rows.append({**key_dict, **grid.summarize(config, run_curves)})
        for c in grid.curves:
            curves[c.data_file].append(run_curves[c.run_file][list(c.columns)].assign(**key_dict))
    if not rows and not (data_dir / "summary.csv").is_file():
        raise FileNotFoundError(f"no finished runs under {runs_dir} and no {data_dir / 'summary.csv'} to keep")
    for c in grid.curves:
        frames = curves[c.data_file]
        merge_csv(data_dir / c.data_file, pd.concat(frames) if frames else pd.DataFrame(columns=key), key,
                  key + list(c.columns))
    summary = merge_csv(data_dir / "summary.csv", pd.DataFrame(rows, columns=list(grid.summary_columns)), key,
                        list(grid.summary_columns))
    if grid.extra_rows is not None:
        extra = grid.extra_rows(summary)
        if extra:
            summary = merge_csv(data_dir / "summary.csv", pd.DataFrame(extra, columns=list(grid.summary_columns)),
                                key, list(grid.summary_columns))
    if grid.agents is not None:
        _save_agents(grid, summary, finished, data_dir)
    return summary


def _save_agents(grid: Grid, summary: pd.DataFrame, finished: dict, data_dir: Path) -> None:
    """Copy the weights of each group's lowest-seed run into ``data_dir/agents/GROUP.pt`` when that run is among
    the finished runs just collected; otherwise the file already there stays."""
    group = list(grid.agents.group)
    runs = summary[summary[grid.budget] > 0]  # trained runs (a grid's scripted baselines have no budget)
    for values, rows in runs.groupby(group):
        values = values if isinstance(values, tuple) else (values,)
        seed = int(rows["seed"].min())
        key = tuple(dict(zip(group, values), seed=seed)[k] for k in grid.key)
        target = data_dir / "agents" / ("-".join(map(str, values)) + ".pt")
        run = finished.get(key)
        if run is not None and (run / "checkpoint.pt").is_file():
            ckpt = load_checkpoint(run / "checkpoint.pt")
            save_checkpoint(target, {**{k: ckpt[k] for k in grid.agents.payload}, "seed": seed})
        elif not target.is_file():
            print(f"note: no checkpoint for {'-'.join(map(str, values))} seed {seed} under the runs folder and none "
                  f"in {target}")


def read_grid_summary(grid: Grid, data_dir, planned: list[tuple] | None = None) -> pd.DataFrame:
    """``data_dir/summary.csv`` checked: its schema, no duplicate cell, and (given ``planned`` key tuples) every
    planned cell present. A file that fails says what is wrong and the command that regenerates it."""
    path = Path(data_dir) / "summary.csv"
    redo = f"; regenerate it with: {grid.command}" if grid.command else "; regenerate it with its README's command"
    try:
        summary = read_csv(path, list(grid.summary_columns))
    except (FileNotFoundError, ValueError) as err:
        raise type(err)(f"{err}{redo}") from None
    keys = list(summary[list(grid.key)].itertuples(index=False, name=None))
    duplicated = sorted({k for k in keys if keys.count(k) > 1}, key=str)
    if duplicated:
        raise ValueError(f"{path} holds cells twice: {duplicated[:5]}{redo}")
    if planned is not None:
        have = set(keys)
        missing = [tuple(k) for k in planned if tuple(k) not in have]
        if missing:
            shown = ", ".join(" ".join(map(str, k)) for k in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise ValueError(f"{path} lacks {len(missing)} of the {len(planned)} runs of its grid ({shown}{more}): "
                             f"the file is incomplete or cut short{redo}")
    return summary


def add_grid_arguments(parser: argparse.ArgumentParser, runs_dir: str, data_dir: str) -> None:
    """The options every grid command shares: where runs and data go, a dry run, Ray."""
    parser.add_argument("--runs-dir", default=runs_dir, help=f"the run folders, scratch (default {runs_dir})")
    parser.add_argument("--data-dir", default=data_dir, help=f"where the merged results go (default {data_dir})")
    parser.add_argument("--dry-run", action="store_true", help="list the cells still to run and exit")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="run each cell as a Ray task (one CPU each): on the cluster at ADDRESS ('auto' or "
                             "HOST:PORT), or without ADDRESS on a local Ray started for the call")


def runner_from_args(args):
    """The runner the parsed options ask for: Ray's (imported only then) or None (run here)."""
    if getattr(args, "ray", None) is None:
        return None
    from grsn_edu.experiments.ray_grid import ray_runner

    return ray_runner(None if args.ray == "local" else args.ray)


def check_variants(parser: argparse.ArgumentParser, chosen: list[str], known) -> None:
    """Stop the command line with a message naming every unknown variant and the known ones."""
    unknown = [v for v in chosen if v not in known]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(known)}")
