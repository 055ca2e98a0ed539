"""Solutions to the exercises of the chapter ``lif_basics`` (the LIF neuron). Try the exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s lif_step ../grsn_edu/course/solutions/lif_basics.py``.
"""

from __future__ import annotations

import torch

__all__ = ["lif_step", "min_firing_current", "atan_surrogate_grad"]


def lif_step(cur: torch.Tensor, mem: torch.Tensor, beta: float, threshold: float = 1.0):
    """Exercise 1: one step of ``snn.Leaky`` (subtract reset, delayed by one step), written out by hand.

    Args:
        cur: input current :math:`I_t`, any shape.
        mem: previous membrane :math:`U_{t-1}`, the same shape.
        beta: decay per step.
        threshold: :math:`U_{thr}`.

    Returns:
        ``(spk, mem)``: the spike :math:`S_t` (0.0 or 1.0) and the new membrane :math:`U_t`.
    """
    reset = (mem > threshold).float()  # the spike of the previous step: snnTorch subtracts the threshold now
    mem = beta * mem + cur - reset * threshold
    spk = (mem > threshold).float()
    return spk, mem


def min_firing_current(beta: float, threshold: float = 1.0) -> float:
    r"""Exercise 2: the smallest constant current that ever makes a LIF neuron fire (its *rheobase*).

    Under a constant current :math:`I` from :math:`U_0 = 0` (no spike yet), :math:`U_t = I (1 + \beta + \dots +
    \beta^{t-1}) = I (1 - \beta^t) / (1 - \beta)`, which climbs towards the fixed point
    :math:`U^* = \beta U^* + I`, i.e. :math:`U^* = I / (1 - \beta)`, without reaching it. The neuron fires
    if and only if :math:`U^* > U_{thr}`, i.e. :math:`I > U_{thr} (1 - \beta)`.
    """
    return threshold * (1.0 - beta)


def atan_surrogate_grad(u: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    r"""Exercise 3: the derivative snnTorch's ``surrogate.atan(alpha)`` uses in the backward pass.

    The surrogate is the smooth step :math:`\tilde S(u) = \tfrac12 + \tfrac1\pi \arctan(\tfrac\pi2 \alpha u)`;
    by the chain rule its derivative is :math:`\tfrac\alpha2 / (1 + (\tfrac\pi2 \alpha u)^2)`.
    """
    return (alpha / 2) / (1 + (torch.pi / 2 * alpha * u) ** 2)
