"""Solutions to the exercises of the reinforcement-learning primer (``notebooks/*_rl_primer.ipynb``). Try the
exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s discounted_returns ../grsn_edu/course/solutions/rl_primer.py``.
"""

from __future__ import annotations

import torch

__all__ = ["discounted_returns", "gae_advantages", "clipped_objective"]


def discounted_returns(rewards, dones, gamma: float) -> torch.Tensor:
    r"""Exercise 1: the discounted return from every step of a reward sequence that may hold several episodes.

    :math:`G_t = r_t + \gamma (1 - d_t) G_{t+1}`, computed backwards from the last step (nothing follows it): the
    reward of step t counts in full, each later one a factor :math:`\gamma` less, and an episode end
    (:math:`d_t = 1`) stops the sum, so no reward of the next episode belongs to this one's return.

    Args:
        rewards: ``(T,)`` the reward of each step.
        dones: ``(T,)`` 1 where an episode ended at that step, else 0.
        gamma: the discount, in [0, 1].

    Returns:
        ``(T,)`` the return :math:`G_t` from each step on.
    """
    rewards = torch.as_tensor(rewards, dtype=torch.float64)
    dones = torch.as_tensor(dones, dtype=torch.float64)
    returns = torch.zeros_like(rewards)
    ahead = 0.0  # the return from the next step on
    for t in reversed(range(len(rewards))):
        ahead = rewards[t] + gamma * (1.0 - dones[t]) * ahead
        returns[t] = ahead
    return returns


def gae_advantages(rewards, values, dones, next_value: float, gamma: float, gae_lambda: float) -> torch.Tensor:
    r"""Exercise 2: the generalised advantage estimates (GAE) of one environment's rollout.

    The TD error :math:`\delta_t = r_t + \gamma (1 - d_t) V_{t+1} - V_t` says how much better step t went than
    the value function expected (:math:`V_{t+1}` is ``next_value`` after the last step; an episode that ended has
    no next value). GAE adds up the TD errors ahead within the episode, the k-th one weighted by
    :math:`(\gamma\lambda)^k`: :math:`A_t = \delta_t + \gamma \lambda (1 - d_t) A_{t+1}`, computed backwards.

    Args:
        rewards, values, dones: ``(T,)`` the rewards, the value estimates :math:`V_t` of each step's
            observation, and 1 where an episode ended at that step.
        next_value: :math:`V` of the observation after the last step.
        gamma, gae_lambda: the discount and GAE's lambda.

    Returns:
        ``(T,)`` the advantages :math:`A_t`.
    """
    rewards, values, dones = (torch.as_tensor(x, dtype=torch.float64) for x in (rewards, values, dones))
    steps = len(rewards)
    advantages = torch.zeros_like(rewards)
    ahead = 0.0  # A_{t+1}
    for t in reversed(range(steps)):
        value_next = next_value if t == steps - 1 else values[t + 1]
        td_error = rewards[t] + gamma * (1.0 - dones[t]) * value_next - values[t]
        ahead = td_error + gamma * gae_lambda * (1.0 - dones[t]) * ahead
        advantages[t] = ahead
    return advantages


def clipped_objective(ratio: float, advantage: float, clip_coef: float) -> float:
    r"""Exercise 3: PPO's clipped surrogate objective of one sample (what PPO maximises).

    :math:`\min\big(r A,\ \mathrm{clip}(r, 1 - \epsilon, 1 + \epsilon) A\big)`: the smaller of the plain
    policy-gradient term and the same term with the probability ratio held inside the clip range.

    Args:
        ratio: r, the new policy's probability of the action divided by the old one's.
        advantage: A of the sample.
        clip_coef: epsilon.
    """
    clipped_ratio = min(max(ratio, 1.0 - clip_coef), 1.0 + clip_coef)
    return min(ratio * advantage, clipped_ratio * advantage)
