"""Solutions to the exercises of the chapter ``value_decomposition`` (value decomposition). Try the exercise before
reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s monotonic_mix ../grsn_edu/course/solutions/value_decomposition.py``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["vdn_mix", "monotonic_mix", "representable_by_monotonic_mix"]


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


def representable_by_monotonic_mix(payoff) -> bool:
    """Exercise 3: can a mix that is monotonic in each agent's utility reproduce this payoff table exactly?

    ``Q_tot(a1, a2) = f(Q_1(a1), Q_2(a2))`` with f non-decreasing in both arguments ranks agent 1's actions by
    Q_1 and agent 2's by Q_2, and in that order of rows and columns the table can only grow, down every column
    and along every row. Conversely, if some order of the rows and of the columns makes the table grow both ways,
    Q_i = an action's place in that order and f = the table, interpolated, is such a mix. So try every order.

    Args:
        payoff: ``(A, A)`` the shared payoff, ``payoff[a1, a2]``.

    Returns:
        True if some order of agent 1's actions (rows) and of agent 2's (columns) makes the table non-decreasing
        along both.
    """
    import itertools  # here, so that the function runs when pasted into a notebook on its own

    table = np.asarray(payoff, dtype=np.float64)
    for rows in itertools.permutations(range(table.shape[0])):
        for cols in itertools.permutations(range(table.shape[1])):
            ordered = table[np.ix_(rows, cols)]
            if (np.diff(ordered, axis=0) >= 0).all() and (np.diff(ordered, axis=1) >= 0).all():
                return True
    return False
