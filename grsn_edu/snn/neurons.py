r"""Spiking neuron steps shared by the cores: snnTorch's leaky membrane and the GRSN gated current.

Everything here is a pure function of explicit tensors: no state lives on a module.

The leaky integrate-and-fire (LIF) step reproduces ``snntorch.Leaky`` (subtract reset, ``reset_delay=True``,
the default) exactly, and uses snnTorch's own spike function with its arc-tangent surrogate gradient
(``snntorch.surrogate.atan``). ``tests/test_cores.py::test_membrane_is_snntorch_leaky`` checks it against
``snntorch.Leaky`` number for number, so a core built on :func:`leaky_step` *is* an snnTorch Leaky layer, only
without the per-call bookkeeping that ``snntorch.Leaky.forward`` does on its module attributes.
"""

from __future__ import annotations

import torch
from snntorch import surrogate

__all__ = ["atan_spike", "atan_spike_at_threshold", "leaky_step", "gated_current_step", "GATE_INPUTS"]

#: What may drive the GRSN gates (see :func:`gated_current_step` and :class:`grsn_edu.snn.cores.GRSNCore`).
GATE_INPUTS = ("spikes", "input", "both")

_snntorch_atan = surrogate.atan(alpha=2.0)


def atan_spike(u: torch.Tensor) -> torch.Tensor:
    """snnTorch's default spike function: Heaviside step forward, the derivative of
    ``1/2 + arctan(pi/2 * alpha * u) / pi`` backward (alpha = 2), returned in ``u``'s dtype
    (snnTorch's own returns float32 whatever the input).
    """
    return _snntorch_atan(u).to(u.dtype)


def atan_spike_at_threshold(u: torch.Tensor) -> torch.Tensor:
    r"""SpikingJelly's ``surrogate.ATan()`` (alpha = 2): a spike when :math:`u \ge 0`, the atan gradient backward.

    SpikingJelly's Heaviside fires at :math:`u = 0` (a membrane exactly at threshold), snnTorch's
    (:func:`atan_spike`) does not; the two backward passes are one formula,
    :math:`\frac{\alpha/2}{1 + (\frac{\pi}{2}\alpha u)^2} = \frac{1}{1 + (\pi u)^2}` at alpha = 2. So this is
    :func:`atan_spike` plus a spike, without gradient, wherever :math:`u = 0` exactly.

    Example:
        >>> import torch
        >>> atan_spike_at_threshold(torch.tensor([-0.5, 0.0, 0.5])).tolist(), atan_spike(torch.tensor([0.0])).item()
        ([0.0, 1.0, 1.0], 0.0)
    """
    return atan_spike(u) + (u == 0).to(u.dtype)


def leaky_step(
    current: torch.Tensor,
    mem: torch.Tensor,
    beta: torch.Tensor,
    threshold: torch.Tensor | float,
    spike_fn=atan_spike,
    reset: torch.Tensor | None = None,
    recurrent: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step of snnTorch's ``Leaky`` neuron with subtract reset (and of ``RLeaky``, given ``recurrent``).

    .. math::

        R_t &= \Theta(U_{t-1} - U_{thr}) \quad\text{(detached: no gradient through the reset)}\\
        U_t &= \mathrm{clamp}(\beta, 0, 1)\, U_{t-1} + I_t\ [+\, J_t] - R_t U_{thr}\\
        S_t &= \Theta(U_t - U_{thr}) \quad\text{(forward: step; backward: atan surrogate)}

    Symbols: :math:`I_t` input current, :math:`J_t` optional recurrent current (``RLeaky``'s
    :math:`V o_{t-1} + b_V`), :math:`U_t` membrane potential, :math:`S_t` output spike,
    :math:`\beta` membrane decay (per neuron or shared), :math:`U_{thr}` firing threshold,
    :math:`\Theta` the Heaviside step, :math:`R_t` the reset, i.e. the previous step's spike.

    Args:
        current: input current :math:`I_t`, shape ``(B, H)``.
        mem: previous membrane :math:`U_{t-1}`, shape ``(B, H)``.
        beta: decay, shape ``(H,)`` or scalar tensor; clamped to [0, 1] as snnTorch does.
        threshold: :math:`U_{thr}`, a float or a tensor broadcastable to ``(B, H)``.
        spike_fn: spike function with a surrogate gradient, applied to :math:`U_t - U_{thr}`.
        reset: optional :math:`R_t` when the caller already has it (the previous step's spikes, detached);
            saves recomputing the comparison inside a time loop.
        recurrent: optional recurrent current :math:`J_t` ``(B, H)``, added after ``current`` (snnTorch's
            ``RLeaky`` adds its two currents in this order; float addition is not associative).

    Returns:
        ``(spikes, mem)``, each ``(B, H)``; spikes are exactly 0.0 or 1.0.

    Example:
        >>> import torch
        >>> spk, mem = leaky_step(torch.full((1, 2), 0.6), torch.zeros(1, 2), torch.tensor(0.9), 1.0)
        >>> spk, mem = leaky_step(torch.full((1, 2), 0.6), mem, torch.tensor(0.9), 1.0)
        >>> spk.tolist(), [round(v, 2) for v in mem[0].tolist()]
        ([[1.0, 1.0]], [1.14, 1.14])
    """
    if reset is None:
        reset = (mem > threshold).to(mem.dtype)
    mem = beta.clamp(0, 1) * mem + current
    if recurrent is not None:
        mem = mem + recurrent
    # with the usual threshold of 1.0 the product reset * threshold is reset itself: skip a kernel in the loop
    mem = mem - (reset if isinstance(threshold, float) and threshold == 1.0 else reset * threshold)
    return spike_fn(mem - threshold), mem


def gated_current_step(
    gate_preact: torch.Tensor, cur: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The GRSN gated recurrent input current, one step.

    .. math::

        F_t &= \sigma(a^F_t), \qquad \tilde I_t = \tanh(a^I_t)\\
        c_t &= F_t \odot c_{t-1} + (1 - F_t) \odot \tilde I_t

    Args:
        gate_preact: ``(B, 2H)``: the forget-gate pre-activation :math:`a^F_t` in the first H columns and the
            candidate pre-activation :math:`a^I_t` in the last H (each :math:`W g_t + b`, with :math:`g_t` the
            previous spikes, the input, or both: see :class:`grsn_edu.snn.cores.GRSNCore`).
        cur: previous gated current :math:`c_{t-1}`, ``(B, H)``.

    Returns:
        ``(c_t, F_t, candidate)``, each ``(B, H)``.
    """
    forget_pre, cand_pre = gate_preact.chunk(2, dim=-1)
    forget = torch.sigmoid(forget_pre)
    candidate = torch.tanh(cand_pre)
    cur = torch.lerp(candidate, cur, forget)  # = F * c + (1 - F) * candidate, in one kernel
    return cur, forget, candidate
