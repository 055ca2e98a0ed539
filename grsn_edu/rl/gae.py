"""Generalised advantage estimation (Schulman et al. 2016), with the bootstrap of episodes cut by a time limit.

T = steps of a rollout, B = environments. An episode that *terminated* (the pole fell) has no future; one that
was *truncated* (the time limit) does: its last reward is topped up with the discounted value of the observation
the time limit cut off, ``r + gamma * V(final_obs)`` (:func:`bootstrap_truncated`), and then it is treated like
any other episode end in :func:`gae`.
"""

from __future__ import annotations

import torch

__all__ = ["bootstrap_truncated", "gae"]


def bootstrap_truncated(rewards: torch.Tensor, final_values: torch.Tensor, truncated: torch.Tensor,
                        terminated: torch.Tensor, gamma: float) -> torch.Tensor:
    """``rewards + gamma * final_values`` where an episode was truncated and not terminated, else ``rewards``.

    Args:
        rewards: ``(B,)`` the rewards of one step.
        final_values: ``(B,)`` V of the final observation of each episode that ended (any value elsewhere).
        truncated, terminated: ``(B,)`` bool.
        gamma: discount.

    Example:
        >>> import torch
        >>> bootstrap_truncated(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([10.0, 10.0, 10.0]),
        ...                     torch.tensor([True, True, False]), torch.tensor([False, True, False]), 0.5)
        tensor([6., 1., 1.])
    """
    cut = torch.as_tensor(truncated & ~terminated, dtype=torch.float32)
    return rewards + gamma * final_values * cut


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, next_value: torch.Tensor, gamma: float,
        gae_lambda: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns of a rollout.

    ``delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t`` and ``A_t = delta_t + gamma * lambda * (1 - done_t) *
    A_{t+1}``, where ``V_{t+1}`` is the next step's value (``next_value`` after the last step) and ``done_t`` says
    the episode ended at step t (its next observation is the first of a new episode).

    Args:
        rewards: ``(T, B)``, truncated episodes already bootstrapped (:func:`bootstrap_truncated`).
        values: ``(T, B)`` V of each step's observation.
        dones: ``(T, B)`` float, 1 where the episode ended at that step.
        next_value: ``(B,)`` V of the observation after the last step.
        gamma, gae_lambda: discount and GAE's lambda.

    Returns:
        ``(advantages (T, B), returns (T, B))``, returns = advantages + values (the value targets).

    Example:
        >>> import torch
        >>> adv, ret = gae(torch.ones(2, 1), torch.zeros(2, 1), torch.zeros(2, 1), torch.zeros(1), 0.5, 1.0)
        >>> adv[:, 0].tolist()
        [1.5, 1.0]
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        nonterminal = 1.0 - dones[t]
        following = next_value if t == steps - 1 else values[t + 1]
        delta = rewards[t] + gamma * following * nonterminal - values[t]
        last = delta + gamma * gae_lambda * nonterminal * last
        advantages[t] = last
    return advantages, advantages + values
