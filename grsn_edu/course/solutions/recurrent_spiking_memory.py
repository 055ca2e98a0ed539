"""Solutions to the exercises of the chapter ``recurrent_spiking_memory`` (recurrent spiking memory).

Try the exercises first; the check cells in the notebook tell you whether your answer is right.
"""

from __future__ import annotations

import math

import torch

__all__ = ["steps_to_forget", "leaky_integrator_decision", "forget_schedule"]


def steps_to_forget(beta: float, fraction: float = 0.1) -> float:
    r"""Exercise 1. Steps until a LIF membrane holds at most ``fraction`` of a single pulse.

    With no further input and no spike, :math:`U_t = A\beta^t`; the answer is the smallest integer
    :math:`t \ge 0` with :math:`\beta^t \le` ``fraction``, i.e. :math:`\lceil \ln(\text{fraction}) / \ln\beta \rceil`.

    Args:
        beta: membrane decay per step, in [0, 1].
        fraction: the fraction left, in (0, 1).

    Returns:
        The number of steps (an int), or ``math.inf`` for ``beta == 1`` (the membrane never decays).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must lie in [0, 1], got {beta}")
    if beta == 1.0:
        return math.inf
    if beta == 0.0:
        return 1
    t = math.ceil(math.log(fraction) / math.log(beta))
    # guard against rounding in the logarithms: step back if one step fewer already suffices
    return t - 1 if t > 0 and beta ** (t - 1) <= fraction else t


def leaky_integrator_decision(x: torch.Tensor, beta: float, n_cues: int) -> torch.Tensor:
    r"""Exercise 2. The decision of an ideal leaky integrator, one unit per cue channel.

    .. math:: m_t = \beta\, m_{t-1} + x_t[{:}\,n_\text{cues}], \qquad m_{-1} = 0, \qquad
              \text{decision} = \arg\max_i m_{T-1,i}

    Args:
        x: ``(T, B, I)`` cue-recall inputs; the first ``n_cues`` channels are the cue channels.
        beta: decay per step.
        n_cues: number of cue channels.

    Returns:
        ``(B,)`` int64, the chosen cue of every sequence.
    """
    memory = torch.zeros(x.shape[1], n_cues, dtype=x.dtype)
    for x_t in x:
        memory = beta * memory + x_t[:, :n_cues]
    return memory.argmax(-1)


def forget_schedule(seq_len: int) -> torch.Tensor:
    r"""Exercise 3. A forget-gate schedule :math:`F_t` that lets the gated current remember the cue.

    Open at the cue (F = 0: replace the memory with the input), shut afterwards (F = 1: keep it unchanged,
    whatever the distractors are).

    Args:
        seq_len: T.

    Returns:
        ``(T,)`` float tensor of forget-gate values in [0, 1].
    """
    schedule = torch.ones(seq_len)
    schedule[0] = 0.0
    return schedule
