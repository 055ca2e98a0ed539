"""Solutions to the exercises of notebook 06 (cooperative multi-agent RL). Try the exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s monotonic_mix ../grsn_edu/course/solutions/ch06.py``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["vdn_mix", "monotonic_mix", "spikes_per_decision"]


def vdn_mix(agent_qs: torch.Tensor) -> torch.Tensor:
    """Exercise 1: VDN's mix, the team value as the sum of the agents' utilities.

    Args:
        agent_qs: ``(..., N)`` each agent's Q_i of its chosen action (any leading dims, e.g. ``(T, B, N)``).

    Returns:
        ``(...)``: Q_tot = Q_1 + ... + Q_N.
    """
    return agent_qs.sum(dim=-1)


def monotonic_mix(agent_qs: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
                  b2: torch.Tensor) -> torch.Tensor:
    r"""Exercise 2: QMIX's monotonic mix, given the hypernetworks' raw outputs for each sample's state.

    :math:`Q_{tot} = |w_2|^\top \mathrm{ELU}(|W_1|^\top q + b_1) + b_2`. The absolute values make every weight
    from an agent's Q_i to Q_tot non-negative, and ELU is increasing, so :math:`\partial Q_{tot}/\partial Q_i
    \ge 0`. The biases may have any sign: they shift Q_tot by an amount that depends on the state only.

    Args:
        agent_qs: ``(B, N)`` the agents' utilities.
        w1: ``(B, N, E)`` raw first-layer weights (any sign).
        b1: ``(B, E)`` first-layer bias.
        w2: ``(B, E)`` raw second-layer weights (any sign).
        b2: ``(B,)`` output bias.

    Returns:
        ``(B,)`` Q_tot.
    """
    hidden = torch.nn.functional.elu(torch.einsum("bn,bne->be", agent_qs, w1.abs()) + b1)  # (B, E)
    return (hidden * w2.abs()).sum(-1) + b2


def spikes_per_decision(spk, decisions: int) -> np.ndarray:
    """Exercise 3: how many spikes each agent emits per decision.

    Args:
        spk: ``(T * S, N, H)`` spikes (0 or 1) recorded over an episode of ``decisions`` = T steps: S spiking
            updates per decision, N agents, H units per agent (``trace["spk"]`` of a team).
        decisions: T.

    Returns:
        ``(N,)``: each agent's spikes summed over its units and over all its spiking updates, divided by T.
    """
    return np.asarray(spk, dtype=np.float64).sum(axis=(0, 2)) / decisions
