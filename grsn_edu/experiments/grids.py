"""The grids behind ``data/``: ``data/cartpole/`` (recurrent PPO, notebooks 05, 06, 07, 08 and 11) and ``data/marl/``
(teams of agents, notebooks 10 and 11), run by the one runner (:mod:`grsn_edu.experiments.runner`).

    grsn-edu reproduce cartpole                                  # the full grid (hours on 2 cores)
    grsn-edu reproduce cartpole --envs CartPole-V --agents gru grsn --seeds 0 1

Every agent is an agent of :data:`grsn_edu.rl.presets.AGENTS` with the trainer's defaults, exactly what
``grsn-edu train --agent NAME`` trains. The files of ``data/cartpole``:

* ``eval_curves.csv``: env, agent, seed + :data:`grsn_edu.rl.ppo.EVAL_COLUMNS` (greedy evaluations);
* ``train_curves.csv``: env, agent, seed + :data:`grsn_edu.rl.ppo.TRAIN_COLUMNS` (training episodes);
* ``summary.csv``: one row per run (:data:`SUMMARY_COLUMNS`);
* ``agents/ENV-AGENT.pt``: the trained weights and settings of the lowest seed of each (env, agent), for the
  notebooks to load with :func:`grsn_edu.rl.ppo.load_agent`.

``data/marl`` holds the same per (task, agent, algorithm, seed), plus the scripted baselines of each task
(:mod:`grsn_edu.experiments.baselines`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from grsn_edu.experiments.baselines import baseline_rows
from grsn_edu.experiments.runner import AgentFiles, Curve, Grid, read_grid_summary, run_grid
from grsn_edu.rl.mappo import FIRST_MAPPO_SETTINGS
from grsn_edu.rl.marl import ALGOS, marl_config
from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS, PPOConfig, summarize
from grsn_edu.rl.team import TEAM_EVAL_COLUMNS as MARL_EVAL_COLUMNS
from grsn_edu.rl.team import TEAM_TRAIN_COLUMNS as MARL_TRAIN_COLUMNS

__all__ = ["AGENTS", "ENVS", "SEEDS", "STEPS", "SUMMARY_COLUMNS", "CARTPOLE", "agent_config", "cartpole_cells",
           "reproduce_cartpole", "read_cartpole_summary", "ppo_run_summary",
           "MARL_AGENTS", "MARL_ENVS", "MARL_REFERENCE_ENVS", "MARL_SEEDS", "MARL_SUMMARY_COLUMNS",
           "MARL", "MARL_REFERENCE",
           "FIRST_MARL_SETTINGS", "marl_cell_config", "marl_cells", "marl_run_summary", "reproduce_marl",
           "read_marl_summary"]

# -- recurrent PPO on partially observable CartPole (data/cartpole/) ----------------------------------------------

#: The agents of the CartPole grid (:data:`grsn_edu.rl.presets.AGENTS` defines each).
AGENTS = ("mlp", "gru", "lif", "grsn", "grsn-notap", "grsn-eq17", "grsn-first-release")
#: Its tasks, seeds and budget (environment steps per run).
ENVS = ("CartPole-P", "CartPole-V")
SEEDS = (0, 1, 2, 3, 4)
STEPS = 100_000

SUMMARY_COLUMNS = [
    "env", "agent", "seed", "total_steps", "final_eval_return", "best_eval_return", "final_train_ma20",
    "steps_to_target_eval", "steps_to_target_train", "wall_time_s", "firing_rate",
]


def ppo_run_summary(config: dict, curves: dict) -> dict:
    """The summary values of a finished recurrent-PPO run (the non-key columns of :data:`SUMMARY_COLUMNS`)."""
    return {"total_steps": config["total_steps"],
            **summarize(curves["train_curve.csv"], curves["eval_curve.csv"])}


#: The CartPole grid's data files.
CARTPOLE = Grid(
    name="cartpole", key=("env", "agent", "seed"), summary_columns=tuple(SUMMARY_COLUMNS), budget="total_steps",
    summarize=ppo_run_summary,
    curves=(Curve("eval_curves.csv", "eval_curve.csv", tuple(EVAL_COLUMNS)),
            Curve("train_curves.csv", "train_curve.csv", tuple(TRAIN_COLUMNS))),
    command="grsn-edu reproduce cartpole", agents=AgentFiles(("env", "agent"), ("config", "model", "global_step")))


def agent_config(env_id: str, agent: str, seed: int, steps: int = STEPS) -> PPOConfig:
    """The :class:`PPOConfig` of one grid cell: the agent with the trainer's defaults."""
    return PPOConfig(env_id=env_id, agent=agent, seed=seed, total_steps=steps).validate()


def cartpole_cells(envs=ENVS, agents=AGENTS, seeds=SEEDS, steps: int = STEPS) -> dict:
    """``{(env, agent, seed): PPOConfig}``, seed-major: every agent gets seed 0 before any gets seed 1, so a
    partial grid is still balanced."""
    return {(e, a, s): agent_config(e, a, s, steps) for s in seeds for e in envs for a in agents}


def reproduce_cartpole(envs, agents, seeds, steps: int, runs_dir: Path, data_dir: Path, runner=None,
                       dry_run: bool = False):
    """Run (or resume, or skip) every (env, agent, seed) and merge the finished runs into ``data_dir``
    (:func:`~grsn_edu.experiments.runner.run_grid`)."""
    return run_grid(CARTPOLE, cartpole_cells(envs, agents, seeds, steps), runs_dir, data_dir, runner, dry_run)


def read_cartpole_summary(data_dir="data/cartpole", complete: bool = True) -> pd.DataFrame:
    """``data/cartpole/summary.csv``, checked against its schema and (``complete``) the grid's every run."""
    planned = [k for k in cartpole_cells()] if complete else None
    return read_grid_summary(CARTPOLE, data_dir, planned)


# -- cooperative multi-agent grid (data/marl/) --------------------------------------------------------------------

#: Agents, tasks and seeds of the multi-agent grid (MAPPO on both tasks; QMIX and VDN on simple_spread, seed 0).
MARL_AGENTS = ("mlp", "gru", "lif", "grsn")
MARL_ENVS = ("simple_spread", "spread_memory")
#: The tasks of the grid at MAPPO's reference settings (:data:`MARL_REFERENCE`): the memory task is spread_glimpse,
#: where the agents never see their own velocity, so momentum cannot carry the glimpse of the landmarks.
MARL_REFERENCE_ENVS = ("simple_spread", "spread_glimpse")
MARL_SEEDS = (0, 1, 2)
MARL_SUMMARY_COLUMNS = ["env", "agent", "algo", "seed", "episodes", "final_eval_return", "best_eval_return",
                        "final_train_ma20", "spikes_per_decision", "wall_time_s"]


def marl_run_summary(config: dict, curves: dict) -> dict:
    """The summary values of a finished multi-agent run (the non-key columns of :data:`MARL_SUMMARY_COLUMNS`)."""
    ev, tr = curves["eval_curve.csv"], curves["train_curve.csv"]
    return {"episodes": config["episodes"], "final_eval_return": float(ev["eval_return_mean"].iloc[-1]),
            "best_eval_return": float(ev["eval_return_mean"].max()),
            "final_train_ma20": float(tr["team_return"].tail(20).mean()),
            "spikes_per_decision": float(ev["spikes_per_decision"].iloc[-1]),
            "wall_time_s": float(ev["wall_time_s"].iloc[-1])}


#: The first multi-agent grid's data files (``data/marl``, 1M steps, MAPPO with :data:`FIRST_MARL_SETTINGS`);
#: each task's scripted baselines are added once (algo ``none``).
MARL = Grid(
    name="marl", key=("env", "agent", "algo", "seed"), summary_columns=tuple(MARL_SUMMARY_COLUMNS),
    budget="episodes", summarize=marl_run_summary,
    curves=(Curve("eval_curves.csv", "eval_curve.csv", tuple(MARL_EVAL_COLUMNS)),
            Curve("train_curves.csv", "train_curve.csv", tuple(MARL_TRAIN_COLUMNS))),
    command="grsn-edu reproduce marl (see data/marl/README.md for the QMIX and VDN cells)",
    agents=AgentFiles(("env", "agent", "algo"), ("config", "model", "episode", "task_sizes")),
    extra_rows=baseline_rows)

#: The multi-agent grid at MAPPO's reference settings (the trainers' defaults), ``data/marl_reference``: the same
#: files as :data:`MARL`.
MARL_REFERENCE = Grid(
    name="marl_reference", key=MARL.key, summary_columns=MARL.summary_columns, budget="episodes",
    summarize=marl_run_summary, curves=MARL.curves,
    command="grsn-edu reproduce marl-reference (see data/marl_reference/README.md)",
    agents=MARL.agents, extra_rows=baseline_rows)

#: The settings the first grid (:data:`MARL`) laid over each algorithm's defaults: MAPPO's as they were before the
#: reference code's were adopted (:data:`grsn_edu.rl.mappo.FIRST_MAPPO_SETTINGS`); QMIX and VDN's unchanged.
FIRST_MARL_SETTINGS = {"mappo": FIRST_MAPPO_SETTINGS}


def marl_cell_config(env_id: str, agent: str, algo: str, seed: int, episodes: int | None = None,
                     options: dict | None = None, first: bool = False):
    """The settings of one multi-agent grid cell (validated): the agent with the algorithm's defaults, or with
    the first grid's settings (``first``, :data:`FIRST_MARL_SETTINGS`)."""
    settings = dict(FIRST_MARL_SETTINGS.get(algo, {})) if first else {}
    if episodes is not None:
        settings["episodes"] = episodes
    settings.update(options or {})
    return marl_config(algo, env_id=env_id, agent=agent, seed=seed, **settings).validate()


def marl_cells(envs=MARL_ENVS, agents=MARL_AGENTS, algos=("mappo",), seeds=MARL_SEEDS, episodes: int | None = None,
               options: dict | None = None, first: bool = True) -> dict:
    """``{(task, agent, algo, seed): config}``, seed-major: the first grid's (``first``) or at the defaults."""
    for algo in algos:
        if algo not in ALGOS:
            raise ValueError(f"unknown algorithm {algo!r}; known: {', '.join(ALGOS)}")
    return {(e, a, m, s): marl_cell_config(e, a, m, s, episodes, options, first)
            for s in seeds for e in envs for a in agents for m in algos}


def reproduce_marl(envs, agents, algos, seeds, episodes: int | None, runs_dir: Path, data_dir: Path,
                   options: dict | None = None, runner=None, dry_run: bool = False, reference: bool = False):
    """Run (or resume, or skip) every (task, agent, algorithm, seed) and merge the finished runs into
    ``data_dir``: the first grid's cells, or (``reference``) the cells at the trainers' defaults. ``options`` are
    further settings for every run (e.g. a small ``num_envs`` for a quick check of the whole pipeline)."""
    grid = MARL_REFERENCE if reference else MARL
    return run_grid(grid, marl_cells(envs, agents, algos, seeds, episodes, options, first=not reference), runs_dir,
                    data_dir, runner, dry_run)


def read_marl_summary(data_dir="data/marl", complete: bool = True) -> pd.DataFrame:
    """``data/marl/summary.csv``, checked against its schema and (``complete``) every run of the grid: MAPPO with
    every agent on both tasks and seeds, QMIX and VDN with the GRU and GRSN agents on simple_spread, seed 0."""
    planned = None
    if complete:
        planned = [*marl_cells(), *marl_cells(("simple_spread",), ("gru", "grsn"), ("qmix", "vdn"), (0,))]
    return read_grid_summary(MARL, data_dir, planned)
