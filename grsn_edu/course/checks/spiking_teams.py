"""Checks for the exercises of the chapter ``spiking_teams`` (teams of spiking agents).

Each ``check_*`` tests the reader's answer against the code that recorded the saved teams
(:func:`grsn_edu.course.recordings.record_team_episode`) or against the worlds of the task itself, with the
contract of
:func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (while the exercise is a stub: the reference solution, or
a placeholder in the student copy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.course.recordings import TeamEpisode, record_team_episode
from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.rl.team import AgentNetwork

__all__ = ["check_spikes_per_decision", "example_team_spikes", "check_assign_landmarks", "example_worlds"]


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def example_team_spikes(substeps: int = 1, seed: int = 0) -> TeamEpisode:
    """A greedy spread_memory episode of an untrained spiking team (LIF, 32 units, seeded), with its spikes
    ``(T * S, N, H)``: test material for exercise 1."""
    torch.manual_seed(seed)
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="lif", hidden_size=32, substeps=substeps,
                       beta=0.95, threshold=0.5)
    return record_team_episode(net, "spread_memory", seed=seed)


def check_spikes_per_decision(spikes_per_decision: Callable) -> Callable:
    """Exercise 1: ``spikes_per_decision(spk (T*S, N, H), decisions) -> (N,)`` must count each agent's spikes per
    decision.

    Checked on two recorded episodes of a spiking team: one spiking update per decision (TAP) and 3 (non-TAP).

    Returns:
        ``spikes_per_decision`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("spikes_per_decision", spikes_per_decision,
                     _verify_spikes_per_decision, "spiking_teams")


def _verify_spikes_per_decision(fn: Callable) -> str:
    for substeps in (1, 3):
        episode = example_team_spikes(substeps)
        spk, T = episode.spikes, episode.length
        want = episode.spikes_per_decision()
        got = np.asarray(fn(spk, T), dtype=np.float64)
        if got.shape == want.shape and np.allclose(got, want, atol=1e-6):
            continue
        H = spk.shape[2]
        if got.shape != want.shape:
            hint = ("keep one number per agent: sum over time (axis 0) and units (axis 2), not over agents (axis 1)"
                    f"; expected shape {want.shape}.")
        elif np.allclose(got, want / H):
            hint = "that is the firing rate (per unit); count the spikes of all the agent's units together."
        elif np.allclose(got, want / substeps):
            hint = "divide by the number of decisions T, not by the T * S spiking updates: a decision includes all S."
        else:
            hint = mode_hint("sum spk over axes 0 and 2 and divide by the number of decisions.",
                             "count all of an agent's spikes, over its units and its spiking updates, per decision.")
        raise AssertionError(f"with S = {substeps} spiking updates per decision: expected {want.round(3)} spikes "
                             f"per decision for the 3 agents, got {got.round(3)}. Hint: {hint}")
    return "Correct: your spikes_per_decision counts each agent's spikes per decision (TAP and 3 sub-steps)."


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def example_worlds(episodes: int = 50, env_id: str = "simple_spread") -> tuple[np.ndarray, np.ndarray]:
    """The starting worlds of ``episodes`` episodes (reset seeds 0, 1, ...), read from agent 0's first
    observation: ``(agent positions (B, N, 2), landmark positions (B, N, 2))``. Test material for exercise 2."""
    envs = make_team_envs(env_id, episodes)
    obs, _ = envs.reset(range(episodes))
    envs.close()
    N = obs.shape[1]
    agents = obs[:, :, 2:4].astype(np.float64)
    landmarks = agents[:, :1] + obs[:, 0, 4:4 + 2 * N].reshape(episodes, N, 2).astype(np.float64)
    return agents, landmarks


#: The least-distance assignment of each world of :func:`example_worlds` (entry i: the landmark of agent i), stored
#: as values so that the check does not spell the algorithm out; tests/test_spiking_teams.py keeps them equal to the
#: solution.
_LEAST_DISTANCE_ASSIGNMENTS = """
201 201 021 012 201 120 120 120 120 210 021 012 120 102 201 210 012 102 210 120 102 102 210 102 021
021 120 201 012 021 021 120 210 102 120 012 120 210 210 201 021 210 102 021 021 021 012 210 201 201
"""


def _total_distance(agents: np.ndarray, landmarks: np.ndarray, assignment: np.ndarray) -> float:
    return float(np.linalg.norm(agents - landmarks[assignment], axis=-1).sum())


def check_assign_landmarks(assign_landmarks: Callable) -> Callable:
    """Exercise 2: ``assign_landmarks(agent_pos (N, 2), landmark_pos (N, 2)) -> (N,)`` must give each agent its own
    landmark so that the total distance is least.

    Checked on the starting worlds of 50 simple_spread episodes (:func:`example_worlds`): the answer must be a
    permutation and its total distance must equal the least over all permutations.

    Returns:
        ``assign_landmarks`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("assign_landmarks", assign_landmarks, _verify_assign_landmarks, "spiking_teams")


def _verify_assign_landmarks(fn: Callable) -> str:
    agents, landmarks = example_worlds()
    for b in range(len(agents)):
        a, lm = agents[b], landmarks[b]
        N = len(a)
        want = np.array([int(i) for i in _LEAST_DISTANCE_ASSIGNMENTS.split()[b]]) if N == 3 else None
        assert want is not None, "the check knows the least-distance assignments of 3 agents only"
        got = np.asarray(fn(a.copy(), lm.copy()))
        where = f"world {b} (agents at {a.round(2).tolist()}, landmarks at {lm.round(2).tolist()})"
        if got.shape != (N,):
            raise AssertionError(f"{where}: expected {N} landmark indices, one per agent, got shape {got.shape}. "
                                 "Hint: return an array whose entry i is the landmark of agent i.")
        if sorted(got.astype(int).tolist()) != list(range(N)):
            raise AssertionError(f"{where}: your assignment {got.tolist()} gives some landmark to two agents (or to "
                                 "none). Hint: every agent heading for its own nearest landmark is not enough: "
                                 "each landmark must go to exactly one agent, so choose among the permutations.")
        got = got.astype(int)
        best, mine = _total_distance(a, lm, want), _total_distance(a, lm, got)
        if mine > best + 1e-9:
            inverse = np.argsort(got)
            if np.isclose(_total_distance(a, lm, inverse), best):
                hint = ("you returned, for each landmark, its agent; entry i must be the landmark of agent i (the "
                        "inverse permutation).")
            else:
                hint = ("a permutation, but not the one with the least total distance (choosing one agent at a "
                        "time can leave a later agent far away). " + mode_hint(
                            f"Try all {math.factorial(N)} permutations (itertools.permutations) and keep the cheapest.",
                            f"With {N} agents there are only {math.factorial(N)} ways to hand out the landmarks."))
            raise AssertionError(f"{where}: your assignment {got.tolist()} has total distance {mine:.3f}, the least "
                                 f"is {best:.3f} with {want.tolist()}. Hint: {hint}")
    return (f"Correct: on all {len(agents)} worlds your assignment gives every landmark to one agent, with the least "
            "total distance.")

