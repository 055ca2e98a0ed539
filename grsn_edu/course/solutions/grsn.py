"""Solutions to the exercises of the chapter ``grsn`` (the GRSN neuron). Try the exercise before reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s gated_current ../grsn_edu/course/solutions/grsn.py``.
"""

from __future__ import annotations

import snntorch as snn
import torch

from grsn_edu.snn.cores import unregister_neuron

__all__ = ["gated_current", "plain_leaky"]


def gated_current(forget: torch.Tensor, candidate: torch.Tensor, cur_prev: torch.Tensor) -> torch.Tensor:
    r"""Exercise 1: the GRSN gated current, :math:`c_t = F_t c_{t-1} + (1 - F_t) \tilde I_t`.

    The forget gate decides, per neuron, which fraction of the old current to keep; the rest of the current is
    made of the new candidate. With F = 1 nothing changes; with F = 0 the current is the candidate.
    """
    return forget * cur_prev + (1 - forget) * candidate


def plain_leaky(encoder: torch.nn.Module, beta: torch.Tensor, threshold: float, x: torch.Tensor):
    """Exercise 2: a GRSN layer without gates is ``Linear`` followed by ``snn.Leaky``.

    Args:
        encoder: the layer's input weights, an ``nn.Linear(I, H)``.
        beta: ``(H,)`` per-neuron decays.
        threshold: the firing threshold.
        x: ``(T, B, I)`` input.

    Returns:
        ``(spk, mem)``, each ``(T, B, H)``.
    """
    lif = snn.Leaky(beta=beta, threshold=threshold)  # subtract reset, atan surrogate: snnTorch's defaults
    unregister_neuron(lif)  # the state is passed explicitly; keep it out of snnTorch's global registry
    mem = torch.zeros(x.shape[1], beta.shape[0])
    spikes, membranes = [], []
    for x_t in x:
        spk, mem = lif(encoder(x_t), mem)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)
