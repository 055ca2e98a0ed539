"""Cells of the multi-agent grid with one setting changed: MAPPO's GRSN team with the agent options of QMIX and VDN.

The command that made ``data/marl_variants/`` (from the project root; a cell already there is skipped, so on the
finished data it has nothing left to do):

    .venv/bin/python scripts/marl_variants.py

``--dry-run`` lists what is left and ``--ray`` runs it on Ray. The variant is the grid's cell (simple_spread,
grsn, mappo, seed 0: ``grsn_edu.experiments.grids.marl_cell_config``) with the GRSN agent's core options as a
Q-network has them (spikes read out, the core's own decay 0.9: ``grsn_edu.rl.presets.AGENTS["grsn"]``) in place of
its policy options (spikes and membrane, decay 0.5). The files have the grid's columns (``data/marl``), the five
scripted baselines of the task included; the runs and the merge are the one grid runner's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from grsn_edu.experiments.grids import MARL, marl_cell_config
from grsn_edu.experiments.runner import add_grid_arguments, run_grid, runner_from_args
from grsn_edu.rl.presets import AGENTS

ROOT = Path(__file__).resolve().parents[1]
GRID = MARL
KEY = list(MARL.key)
#: cell -> the core options it runs with in place of the grid's
VARIANTS = {("simple_spread", "grsn", "mappo", 0): {**AGENTS["grsn"].options(value_based=True), "beta": 0.9}}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_grid_arguments(p, str(ROOT / "runs" / "marl_variants"), str(ROOT / "data" / "marl_variants"))
    return p.parse_args(argv)


def cells(args) -> dict:
    """``{(task, agent, algo, seed): config}`` of the variants."""
    return {cell: marl_cell_config(*cell, options={"core_options": options}, first=True)
            for cell, options in VARIANTS.items()}


def main(argv=None) -> None:
    args = parse_args(argv)
    run_grid(GRID, cells(args), args.runs_dir, args.data_dir, runner_from_args(args), args.dry_run)


if __name__ == "__main__":
    main()
