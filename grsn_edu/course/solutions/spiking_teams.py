"""Solutions to the exercises of the chapter ``spiking_teams`` (teams of spiking agents). Try the exercise before
reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s spikes_per_decision ../grsn_edu/course/solutions/spiking_teams.py``
(or ``-s assign_landmarks``).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["spikes_per_decision", "assign_landmarks"]


def spikes_per_decision(spk, decisions: int) -> np.ndarray:
    """Exercise 1: how many spikes each agent emits per decision.

    Args:
        spk: ``(T * S, N, H)`` spikes (0 or 1) recorded over an episode of ``decisions`` = T steps: S spiking
            updates per decision, N agents, H units per agent (``trace["spk"]`` of a team).
        decisions: T.

    Returns:
        ``(N,)``: each agent's spikes summed over its units and over all its spiking updates, divided by T.
    """
    return np.asarray(spk, dtype=np.float64).sum(axis=(0, 2)) / decisions


def assign_landmarks(agent_pos, landmark_pos) -> np.ndarray:
    """Exercise 2: the landmark each agent should cover, so that the agents' total distance is least.

    Args:
        agent_pos: ``(N, 2)`` the agents' positions.
        landmark_pos: ``(N, 2)`` the landmarks' positions (as many as agents).

    Returns:
        ``(N,)`` int: entry i is the landmark of agent i; every landmark is given to exactly one agent, and of all
        such assignments this one has the least sum of agent-to-landmark distances.
    """
    agent_pos, landmark_pos = np.asarray(agent_pos, dtype=np.float64), np.asarray(landmark_pos, dtype=np.float64)
    distance = np.linalg.norm(agent_pos[:, None] - landmark_pos[None], axis=-1)  # (agents, landmarks)
    perms = list(itertools.permutations(range(len(landmark_pos))))
    costs = [distance[np.arange(len(p)), list(p)].sum() for p in perms]
    return np.array(perms[int(np.argmin(costs))])
