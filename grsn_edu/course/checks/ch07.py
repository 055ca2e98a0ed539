"""Checks for the exercises of notebook 07 (teams of spiking agents).

Each ``check_*`` tests the reader's answer against the code that recorded the saved teams
(:func:`grsn_edu.course.recordings.record_team_episode`), with the contract of
:func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (the reference solution from
:mod:`grsn_edu.course.solutions.ch07` while the exercise is a stub).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import run_check
from grsn_edu.course.recordings import TeamEpisode, record_team_episode
from grsn_edu.course.solutions import ch07 as solutions
from grsn_edu.rl.team import AgentNetwork

__all__ = ["check_spikes_per_decision", "example_team_spikes"]


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
        ``spikes_per_decision`` if it passes, the reference solution while it is still the stub.
    """
    return run_check("spikes_per_decision", spikes_per_decision, solutions.spikes_per_decision,
                     _verify_spikes_per_decision)


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
            hint = "sum spk over axes 0 and 2 and divide by the number of decisions."
        raise AssertionError(f"with S = {substeps} spiking updates per decision: expected {want.round(3)} spikes "
                             f"per decision for the 3 agents, got {got.round(3)}. Hint: {hint}")
    return "Correct: your spikes_per_decision counts each agent's spikes per decision (TAP and 3 sub-steps)."
