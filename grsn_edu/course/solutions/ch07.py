"""Solutions to the exercises of notebook 07 (teams of spiking agents). Try the exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s spikes_per_decision ../grsn_edu/course/solutions/ch07.py``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spikes_per_decision"]


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
