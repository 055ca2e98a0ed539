"""The grids behind ``data/``: ``data/cartpole/`` (recurrent PPO, notebooks 04, 05 and 08) and ``data/marl/``
(teams of agents, notebooks 07 and 08).

    grsn-edu reproduce cartpole                                  # the full grid (hours on 2 cores)
    grsn-edu reproduce cartpole --envs CartPole-V --agents gru grsn --seeds 0 1

Each run goes to its own folder under ``--runs-dir``; a finished run is skipped and an interrupted one resumed,
so the grid can be run in pieces. ``data/`` is the lasting record (run folders are scratch, not committed): a
cell already in ``summary.csv`` at the same budget is skipped, and after every run the finished runs under
``--runs-dir`` are merged into the data files (atomically), replacing rows of the same (env, agent, seed) and
keeping the rest:

* ``eval_curves.csv``: env, agent, seed + :data:`grsn_edu.rl.ppo.EVAL_COLUMNS` (greedy evaluations);
* ``train_curves.csv``: env, agent, seed + :data:`grsn_edu.rl.ppo.TRAIN_COLUMNS` (training episodes);
* ``summary.csv``: one row per run (:data:`SUMMARY_COLUMNS`);
* ``agents/ENV-AGENT.pt``: the trained weights and settings of the lowest seed of each (env, agent), for the
  notebooks to load with :func:`grsn_edu.rl.ppo.load_agent`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from grsn_edu.envs.spread import (
    ObservationSpreadTeam,
    make_marl_env,
    spread_controller_actions,
    spread_formation_actions,
)
from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.rl.episodes import play_parallel_episode
from grsn_edu.rl.marl import config_from_dict, marl_config, train_team
from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS, PPOConfig, summarize, train
from grsn_edu.rl.team import TEAM_EVAL_COLUMNS as MARL_EVAL_COLUMNS
from grsn_edu.rl.team import TEAM_TRAIN_COLUMNS as MARL_TRAIN_COLUMNS
from grsn_edu.util.files import load_checkpoint, merge_csv, read_csv, recorded_keys, save_checkpoint

__all__ = ["AGENTS", "SUMMARY_COLUMNS", "agent_config", "GridCell", "run_cells_here", "reproduce_cartpole",
           "collect", "summary_table",
           "MARL_AGENTS", "MARL_SUMMARY_COLUMNS", "MARL_BASELINES", "random_team_returns", "scripted_team_returns",
           "formation_team_returns", "observation_team_returns", "baseline_team_returns",
           "constant_action_team_returns", "policy_team_returns", "marl_cell_config", "read_finished_marl_run",
           "marl_run_summary", "run_key", "reproduce_marl", "collect_marl"]

#: The agents of the CartPole grid: core, sub-steps and core options. Spiking agents read the membrane
#: potential as well as the spikes (``readout="both"``): see notebook 05 for what the readout changes. This
#: project's GRSN starts from a membrane decay of 0.5 (``beta``; the core's default is 0.9, which the cue-recall task
#: of notebook 02 needs): the authors' tau = 2 is that decay, and on CartPole-P it is the setting that solved
#: (``data/ppo_recipe/``). ``grsn-authors`` is the authors' cell as they run it, its membrane reset at every call
#: (acting: every environment step; training: the start of every stored sequence).
AGENTS = {
    "mlp": {"core": "mlp", "substeps": 1, "core_options": {}},
    "gru": {"core": "gru", "substeps": 1, "core_options": {}},
    "lif": {"core": "lif", "substeps": 1, "core_options": {"readout": "both"}},
    "grsn": {"core": "grsn", "substeps": 1, "core_options": {"readout": "both", "beta": 0.5}},
    "grsn-notap": {"core": "grsn", "substeps": 4, "core_options": {"readout": "both", "beta": 0.5}},
    "grsn-authors": {"core": "grsn-authors", "substeps": 1, "core_options": {"readout": "both"}},
}

SUMMARY_COLUMNS = [
    "env", "agent", "seed", "total_steps", "final_eval_return", "best_eval_return", "final_train_ma20",
    "steps_to_target_eval", "steps_to_target_train", "wall_time_s", "firing_rate",
]


def agent_config(env_id: str, agent: str, seed: int, steps: int) -> PPOConfig:
    """The :class:`PPOConfig` of one grid cell."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}; known agents: {', '.join(AGENTS)}")
    spec = AGENTS[agent]
    return PPOConfig(env_id=env_id, core=spec["core"], seed=seed, total_steps=steps, substeps=spec["substeps"],
                     core_options=dict(spec["core_options"])).validate()


def _finished(run: Path, steps: int) -> bool:
    path = run / "eval_curve.csv"
    if not path.is_file():
        return False
    curve = pd.read_csv(path)
    cfg = json.loads((run / "config.json").read_text())
    batch = cfg["num_envs"] * cfg["num_steps"]
    return len(curve) > 0 and int(curve["global_step"].iloc[-1]) >= (steps // batch) * batch


@dataclass(frozen=True)
class GridCell:
    """One run of a grid still to be made: where it goes and its settings (a ``PPOConfig`` or a team config).

    :meth:`train` makes it, resuming from the run folder's checkpoint when there is one, so a cell whose worker
    died part-way is finished by running it again."""

    label: str
    run: Path
    config: object

    def train(self, progress: bool = True) -> Path:
        resume = (self.run / "checkpoint.pt").is_file()
        if isinstance(self.config, PPOConfig):
            train(self.config, self.run, resume=resume, progress=progress)
        else:
            train_team(self.config, self.run, resume=resume, progress=progress)
        return self.run


def run_cells_here(cells: list[GridCell], after_each) -> None:
    """The local runner: each cell in turn, in this process, then ``after_each()`` (the grid's merge into data/)."""
    for i, cell in enumerate(cells):
        resume = (cell.run / "checkpoint.pt").is_file()
        print(f"[{i + 1}/{len(cells)}] {cell.run}{' (resuming)' if resume else ''}")
        cell.train()
        after_each()


def reproduce_cartpole(envs, agents, seeds, steps: int, runs_dir: Path, data_dir: Path, runner=None) -> None:
    """Run (or resume, or skip) every (env, agent, seed) and rewrite the data files after each run.

    ``runner(cells, after_each)`` makes the pending :class:`GridCell` s (default :func:`run_cells_here`;
    :func:`grsn_edu.experiments.ray_grid.ray_runner` spreads them over a Ray cluster)."""
    # seed-major order: every agent gets seed 0 before any gets seed 1, so a partial grid is still balanced
    cells = [(e, a, s) for s in seeds for e in envs for a in agents]
    for e, a, s in cells:
        agent_config(e, a, s, steps)  # validate the whole grid before spending hours on it
    recorded = recorded_keys(Path(data_dir) / "summary.csv", SUMMARY_COLUMNS, ["env", "agent", "seed"],
                             "total_steps", steps)
    pending = []
    for i, (env_id, agent, seed) in enumerate(cells):
        run = Path(runs_dir) / f"{env_id}-{agent}-s{seed}"
        if (env_id, agent, seed) in recorded:
            print(f"[{i + 1}/{len(cells)}] {env_id} {agent} seed {seed} already in {data_dir}, skipped")
        elif _finished(run, steps):
            print(f"[{i + 1}/{len(cells)}] {run} finished, skipped")
        else:
            pending.append(GridCell(f"{env_id} {agent} seed {seed}", run, agent_config(env_id, agent, seed, steps)))
    (runner or run_cells_here)(pending, lambda: collect(runs_dir, data_dir))
    collect(runs_dir, data_dir)


def _save_agents(summary: pd.DataFrame, group_key: list[str], run_name, data_dir: Path, payload,
                 finished: set) -> None:
    """Save the lowest seed of each group as ``agents/<group>.pt`` when its run folder is here and finished.

    ``finished`` holds the run folders whose runs are complete (the ones merged into the data). When the lowest
    seed's folder is gone (an earlier session's scratch) or holds an unfinished run (the same cell started again
    elsewhere), the agent file already in ``data_dir`` stays.
    """
    for group, rows in summary.groupby(group_key):
        group = group if isinstance(group, tuple) else (group,)
        seed = int(rows["seed"].min())
        run = run_name(*group, seed)
        ckpt_path = run / "checkpoint.pt"
        target = data_dir / "agents" / ("-".join(group) + ".pt")
        if run in finished and ckpt_path.is_file():
            save_checkpoint(target, {**payload(load_checkpoint(ckpt_path)), "seed": seed})
        elif not target.is_file():
            print(f"note: no checkpoint for {'-'.join(group)} seed {seed} under the runs folder and none in {target}")


def collect(runs_dir: Path, data_dir: Path) -> pd.DataFrame:
    """Merge every *finished* run folder under ``runs_dir`` into the data files; returns the merged summary.

    Runs still in progress (or interrupted) are left out, so the data never mixes budgets. Rows already in
    ``data_dir`` for runs that are not under ``runs_dir`` are kept.
    """
    evals, trains, rows, finished = [], [], [], set()
    for run in sorted(Path(runs_dir).glob("*-s*")):
        if not (run / "config.json").is_file():
            continue
        cfg = json.loads((run / "config.json").read_text())
        if not _finished(run, cfg["total_steps"]):
            continue
        finished.add(run)
        agent = cfg["core"] + ("-notap" if cfg["substeps"] > 1 else "")
        key = {"env": cfg["env_id"], "agent": agent, "seed": cfg["seed"]}
        ev = read_csv(run / "eval_curve.csv", EVAL_COLUMNS)
        tr = read_csv(run / "train_curve.csv", TRAIN_COLUMNS)
        evals.append(ev.assign(**key))
        trains.append(tr.assign(**key))
        rows.append({**key, "total_steps": cfg["total_steps"], **summarize(tr, ev)})
    first = ["env", "agent", "seed"]
    data_dir = Path(data_dir)
    if not rows and not (data_dir / "summary.csv").is_file():
        raise FileNotFoundError(f"no finished runs under {runs_dir} and no {data_dir / 'summary.csv'} to keep")
    new_summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    empty = pd.DataFrame(columns=first)
    merge_csv(data_dir / "eval_curves.csv", pd.concat(evals) if evals else empty, first, first + EVAL_COLUMNS)
    merge_csv(data_dir / "train_curves.csv", pd.concat(trains) if trains else empty, first, first + TRAIN_COLUMNS)
    summary = merge_csv(data_dir / "summary.csv", new_summary, first, SUMMARY_COLUMNS)
    _save_agents(summary, ["env", "agent"], lambda e, a, s: Path(runs_dir) / f"{e}-{a}-s{s}", data_dir,
                 lambda ckpt: {"config": ckpt["config"], "model": ckpt["model"], "global_step": ckpt["global_step"]},
                 finished)
    return summary


def summary_table(summary: pd.DataFrame, target: float = 475.0) -> pd.DataFrame:
    """Per (env, agent): seeds, how many reached ``target`` in greedy evaluation, median steps to it, final returns.

    Medians of steps-to-target are over the seeds that reached it; the spread is the min-max of the final greedy
    evaluation return over seeds.
    """
    def agg(g):
        reached = g["steps_to_target_eval"].dropna()
        return pd.Series({
            "seeds": len(g),
            f"reached_{int(target)}_eval": int(len(reached)),
            "median_steps_to_target_eval": float(reached.median()) if len(reached) else float("nan"),
            "median_final_eval_return": float(g["final_eval_return"].median()),
            "min_final_eval_return": float(g["final_eval_return"].min()),
            "max_final_eval_return": float(g["final_eval_return"].max()),
            "median_final_train_ma20": float(g["final_train_ma20"].median()),
        })

    return summary.groupby(["env", "agent"], sort=False).apply(agg, include_groups=False).reset_index()


# -- cooperative multi-agent grid (data/marl/) ------------------------------------------------------------------------

#: Agents of the multi-agent grid: core and core options, by algorithm family. With QMIX and VDN, spiking agents'
#: Q heads read the spikes only: reading the membrane too let GRSN+QMIX runs diverge, the membrane being
#: unbounded in the spread tasks' unbounded world (``scripts/marl_recipe.py`` and ``data/marl_recipe/``). With
#: MAPPO (``policy_core_options``) they read spikes and membrane and GRSN starts from a membrane decay of 0.5, as
#: the CartPole grid's recurrent-PPO agents do (``data/marl_variants/`` has MAPPO's GRSN team with the QMIX
#: options beside it).
MARL_AGENTS = {
    "mlp": {"core": "mlp", "core_options": {}, "policy_core_options": {}},
    "gru": {"core": "gru", "core_options": {}, "policy_core_options": {}},
    "lif": {"core": "lif", "core_options": {"readout": "spikes"}, "policy_core_options": {"readout": "both"}},
    "grsn": {"core": "grsn", "core_options": {"readout": "spikes"},
             "policy_core_options": {"readout": "both", "beta": 0.5}},
}
MARL_SUMMARY_COLUMNS = ["env", "agent", "algo", "seed", "episodes", "final_eval_return", "best_eval_return",
                        "final_train_ma20", "spikes_per_decision", "wall_time_s"]

#: The scripted baselines of the multi-agent tasks, recorded with ``algo`` ``none``: ``random`` (uniform
#: actions, the floor), ``formation`` (a landmark-blind fixed formation), ``memoryless`` and ``memory``
#: (decentralised controllers on the agents' own observations, without and with a memory of the landmarks:
#: :class:`~grsn_edu.envs.spread.ObservationSpreadTeam`) and ``scripted`` (a full-state controller, a ceiling).
MARL_BASELINES = ("random", "formation", "memoryless", "memory", "scripted")


def random_team_returns(env_id: str, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Team returns (summed over agents and steps) of uniformly random actions: the floor of every task."""
    rng = np.random.default_rng(seed)
    return policy_team_returns(env_id, lambda env: {a: int(rng.integers(env.action_space(a).n)) for a in env.agents},
                               episodes, seed)


def scripted_team_returns(env_id: str, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Team returns of :func:`grsn_edu.envs.spread.spread_controller_actions`, a full-state hand-written controller:
    a ceiling for the learned teams (it sees what the agents cannot)."""
    return policy_team_returns(env_id, spread_controller_actions, episodes, seed)


def formation_team_returns(env_id: str, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Team returns of :func:`grsn_edu.envs.spread.spread_formation_actions`, a landmark-blind fixed formation:
    what a team scores without using the landmarks at all."""
    return policy_team_returns(env_id, spread_formation_actions, episodes, seed)


def observation_team_returns(env_id: str, memory: bool, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Team returns of :class:`~grsn_edu.envs.spread.ObservationSpreadTeam` (a decentralised scripted team on the
    agents' own observations; ``memory``: it remembers the landmarks it saw), ``episodes`` episodes played
    together with reset seeds ``seed, seed + 1, ...``."""
    envs = make_team_envs(env_id, episodes)
    team, total = ObservationSpreadTeam(memory), np.zeros(episodes)
    obs, _ = envs.reset(range(seed, seed + episodes))
    while not envs.ended.all():
        obs, _, rewards, _, _ = envs.step(team(obs))
        total += rewards.sum(1)
    return total


def baseline_team_returns(env_id: str, name: str, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Team returns of one of :data:`MARL_BASELINES` on a spread task."""
    if name == "random":
        return random_team_returns(env_id, episodes, seed)
    if name == "formation":
        return formation_team_returns(env_id, episodes, seed)
    if name == "scripted":
        return scripted_team_returns(env_id, episodes, seed)
    if name in ("memory", "memoryless"):
        return observation_team_returns(env_id, name == "memory", episodes, seed)
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(MARL_BASELINES)}")


def constant_action_team_returns(env_id: str, action: int, episodes: int = 20, seed: int = 10_000) -> np.ndarray:
    """Team returns when every agent takes ``action`` at every step: what a team that ignores its observations
    scores. The defaults are the reset seeds of a seed-0 run's greedy evaluation."""
    return policy_team_returns(env_id, lambda env: {a: action for a in env.agents}, episodes, seed)


def policy_team_returns(env_id: str, policy, episodes: int, seed: int) -> np.ndarray:
    """Team returns of a scripted ``policy(env) -> actions`` (it reads the world, not the observations) over
    ``episodes`` episodes reset with seeds ``seed, seed + 1, ...``."""
    env = make_marl_env(env_id)
    out = []
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        team_return, _ = play_parallel_episode(env, lambda obs: policy(env), obs)
        out.append(team_return)
    env.close()
    return np.array(out)


def marl_cell_config(env_id: str, agent: str, algo: str, seed: int, episodes: int, options: dict | None = None):
    """The settings of one multi-agent grid cell (validated)."""
    if agent not in MARL_AGENTS:
        raise ValueError(f"unknown agent {agent!r}; known agents: {', '.join(MARL_AGENTS)}")
    spec = MARL_AGENTS[agent]
    core_options = spec["policy_core_options"] if algo == "mappo" else spec["core_options"]
    return marl_config(algo, env_id=env_id, core=spec["core"], seed=seed, episodes=episodes,
                       core_options=dict(core_options), **(options or {})).validate()


def reproduce_marl(envs, agents, algos, seeds, episodes: int, runs_dir: Path, data_dir: Path,
                   options: dict | None = None, runner=None) -> None:
    """Run (or resume, or skip) every (task, agent, algorithm, seed); rewrite ``data_dir`` after each run.

    ``options`` are further settings for every run (e.g. a small ``num_envs`` for a quick check of the whole
    pipeline); the grid's data uses the defaults. ``runner`` as in :func:`reproduce_cartpole`.

    Files: ``summary.csv`` (:data:`MARL_SUMMARY_COLUMNS`, plus one row per :data:`MARL_BASELINES` baseline and
    task with algo ``none``), ``eval_curves.csv`` and ``train_curves.csv`` (task, agent, algo, seed + the run's
    curve columns), ``agents/TASK-AGENT-ALGO.pt``.
    """
    cells = [(e, a, m, s) for s in seeds for e in envs for a in agents for m in algos]
    for e, a, m, s in cells:
        marl_cell_config(e, a, m, s, episodes, options)  # validate the whole grid before spending hours on it
    recorded = recorded_keys(Path(data_dir) / "summary.csv", MARL_SUMMARY_COLUMNS, ["env", "agent", "algo", "seed"],
                             "episodes", episodes)
    pending = []
    for i, (env_id, agent, algo, seed) in enumerate(cells):
        run = Path(runs_dir) / f"{env_id}-{agent}-{algo}-s{seed}"
        if (env_id, agent, algo, seed) in recorded:
            print(f"[{i + 1}/{len(cells)}] {env_id} {agent} {algo} seed {seed} already in {data_dir}, skipped")
        elif read_finished_marl_run(run) is not None:
            print(f"[{i + 1}/{len(cells)}] {run} finished, skipped")
        else:
            pending.append(GridCell(f"{env_id} {agent} {algo} seed {seed}", run,
                                    marl_cell_config(env_id, agent, algo, seed, episodes, options)))
    (runner or run_cells_here)(pending, lambda: collect_marl(runs_dir, data_dir, envs))
    collect_marl(runs_dir, data_dir, envs)


def read_finished_marl_run(run: Path):
    """``(config dict, eval curve, train curve)`` of a finished multi-agent run folder; None if ``run`` is not a
    run folder or its run has not reached its configured episodes."""
    if not (run / "config.json").is_file() or not (run / "eval_curve.csv").is_file():
        return None
    cfg = json.loads((run / "config.json").read_text())
    ev = read_csv(run / "eval_curve.csv", MARL_EVAL_COLUMNS)
    if ev.empty or int(ev["episode"].iloc[-1]) < cfg["episodes"]:
        return None
    return cfg, ev, read_csv(run / "train_curve.csv", MARL_TRAIN_COLUMNS)


def marl_run_summary(cfg: dict, ev: pd.DataFrame, tr: pd.DataFrame) -> dict:
    """The summary numbers of one finished multi-agent run (the non-key columns of :data:`MARL_SUMMARY_COLUMNS`)."""
    return {"episodes": cfg["episodes"], "final_eval_return": float(ev["eval_return_mean"].iloc[-1]),
            "best_eval_return": float(ev["eval_return_mean"].max()),
            "final_train_ma20": float(tr["team_return"].tail(20).mean()),
            "spikes_per_decision": float(ev["spikes_per_decision"].iloc[-1]),
            "wall_time_s": float(ev["wall_time_s"].iloc[-1])}


def run_key(cfg: dict) -> dict:
    """The grid key (env, agent, algo, seed) of a multi-agent run's saved config."""
    config = config_from_dict(cfg)
    return {"env": config.env_id, "agent": config.label, "algo": config.algo, "seed": config.seed}


def collect_marl(runs_dir: Path, data_dir: Path, envs) -> pd.DataFrame:
    """Merge finished multi-agent runs (and the baselines of each task) into ``data_dir``; rows of runs that are
    not under ``runs_dir`` are kept."""
    evals, trains, rows, finished_runs = [], [], [], set()
    for run in sorted(Path(runs_dir).glob("*-s*")):
        finished = read_finished_marl_run(run)
        if finished is None:
            continue
        finished_runs.add(run)
        cfg, ev, tr = finished
        key = run_key(cfg)
        evals.append(ev.assign(**key))
        trains.append(tr.assign(**key))
        rows.append({**key, **marl_run_summary(cfg, ev, tr)})
    for env_id in envs:
        for name in MARL_BASELINES:
            mean = float(baseline_team_returns(env_id, name).mean())
            rows.append({"env": env_id, "agent": name, "algo": "none", "seed": 0, "episodes": 0,
                         "final_eval_return": mean, "best_eval_return": mean, "final_train_ma20": mean,
                         "spikes_per_decision": float("nan"), "wall_time_s": 0.0})
    first = ["env", "agent", "algo", "seed"]
    data_dir = Path(data_dir)
    empty = pd.DataFrame(columns=first)
    merge_csv(data_dir / "eval_curves.csv", pd.concat(evals) if evals else empty, first, first + MARL_EVAL_COLUMNS)
    merge_csv(data_dir / "train_curves.csv", pd.concat(trains) if trains else empty, first, first + MARL_TRAIN_COLUMNS)
    summary = merge_csv(data_dir / "summary.csv", pd.DataFrame(rows, columns=MARL_SUMMARY_COLUMNS), first,
                        MARL_SUMMARY_COLUMNS)
    _save_agents(summary[summary["algo"] != "none"], ["env", "agent", "algo"],
                 lambda e, a, m, s: Path(runs_dir) / f"{e}-{a}-{m}-s{s}", data_dir,
                 lambda ckpt: {"config": ckpt["config"], "model": ckpt["model"], "episode": ckpt["episode"],
                               "task_sizes": ckpt["task_sizes"]}, finished_runs)
    return summary
