"""The scripted teams of the cooperative navigation tasks: what a team scores without learning.

Five baselines (:data:`MARL_BASELINES`), each played on the task's own episodes: a uniformly random team (the
floor), a landmark-blind formation, decentralised scripted teams on the agents' own observations without and
with a memory of the landmarks, and a full-state controller (a ceiling the learned teams cannot see past).
:func:`baseline_rows` gives them as rows of ``data/marl/summary.csv`` (algo ``none``), computed only for the
tasks that do not have them yet.
"""

from __future__ import annotations

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

__all__ = ["MARL_BASELINES", "BASELINE_EPISODES", "random_team_returns", "scripted_team_returns",
           "formation_team_returns", "observation_team_returns", "baseline_team_returns",
           "constant_action_team_returns", "policy_team_returns", "baseline_rows"]

#: Episodes each baseline is played for (reset seeds 0, 1, ...).
BASELINE_EPISODES = 100

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
    together with reset seeds ``seed, seed + 1, ...``. Where the task hides the agents' velocities
    (``spread_glimpse``) the team works them out instead of reading them."""
    envs = make_team_envs(env_id, episodes)
    team = ObservationSpreadTeam(memory, sees_velocity=not getattr(envs, "hide_velocity", False))
    total = np.zeros(episodes)
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


def baseline_rows(summary: pd.DataFrame, episodes: int = BASELINE_EPISODES) -> list[dict]:
    """Rows of the multi-agent summary (algo ``none``, seed 0, budget 0) for every baseline of every task in
    ``summary`` that it does not hold yet: the mean team return over ``episodes`` episodes."""
    rows = []
    for env_id in summary.loc[summary["algo"] != "none", "env"].unique():
        have = set(summary.loc[(summary["env"] == env_id) & (summary["algo"] == "none"), "agent"])
        for name in MARL_BASELINES:
            if name in have:
                continue
            mean = float(baseline_team_returns(env_id, name, episodes).mean())
            rows.append({"env": env_id, "agent": name, "algo": "none", "seed": 0, "episodes": 0,
                         "final_eval_return": mean, "best_eval_return": mean, "final_train_ma20": mean,
                         "spikes_per_decision": float("nan"), "wall_time_s": 0.0})
    return rows
