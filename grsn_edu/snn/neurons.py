r"""Spiking neuron steps shared by the cores: snnTorch's leaky membrane and the GRSN gated current.

Everything here is a pure function of explicit tensors: no state lives on a module.

The leaky integrate-and-fire (LIF) step reproduces ``snntorch.Leaky`` (subtract reset, ``reset_delay=True``,
the default) exactly, and uses snnTorch's own spike function with its arc-tangent surrogate gradient
(``snntorch.surrogate.atan``). ``tests/test_cores.py::test_membrane_is_snntorch_leaky`` checks it against
``snntorch.Leaky`` number for number, so a core built on :func:`leaky_step` *is* an snnTorch Leaky layer, only
without the per-call bookkeeping that ``snntorch.Leaky.forward`` does on its module attributes.
"""

from __future__ import annotations

import warnings
from typing import List, Optional

import torch
from snntorch import surrogate

__all__ = ["atan_spike", "atan_spike_at_threshold", "leaky_step", "gated_current_step", "grsn_sequence", "GATE_INPUTS"]

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


def _script(fn):
    """``torch.jit.script``, without the deprecation warning it prints in recent PyTorch (it still compiles)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(fn)


@_script
def _grsn_forward(drive: torch.Tensor, gate_x: Optional[torch.Tensor], gate_w: Optional[torch.Tensor],
                  gate_b: Optional[torch.Tensor], b: torch.Tensor, mem: torch.Tensor, cur: torch.Tensor,
                  keep: Optional[torch.Tensor], threshold: float) -> List[torch.Tensor]:
    """The forward loop of :func:`grsn_sequence` (TorchScript: no Python between the tensor operations)."""
    T = drive.shape[0]
    mems, curs, spks, mem_in, cur_in, spk_in, forgets, cands = [], [], [], [], [], [], [], []
    for t in range(T):
        if keep is not None:
            k = keep[t]
            mem, cur = mem * k, cur * k
        s_prev = (mem > threshold).to(mem.dtype)  # o_{t-1}, recomputed from the (reset) membrane
        if gate_x is not None:
            pre = gate_x[t]
            if gate_w is not None:
                pre = torch.addmm(pre, s_prev, gate_w.t())
        else:
            assert gate_w is not None
            # as nn.Linear computes it, so the result is the step loop's to the last bit
            pre = torch.addmm(gate_b, s_prev, gate_w.t()) if gate_b is not None else s_prev @ gate_w.t()
        forget_pre, cand_pre = pre.chunk(2, dim=-1)
        forget, cand = torch.sigmoid(forget_pre), torch.tanh(cand_pre)
        forgets.append(forget)
        cands.append(cand)
        cur_in.append(cur)
        mem_in.append(mem)
        spk_in.append(s_prev)
        cur = torch.lerp(cand, cur, forget)
        mem = b * mem + (drive[t] + cur)
        mem = mem - s_prev * threshold
        mems.append(mem)
        curs.append(cur)
        spks.append((mem > threshold).to(mem.dtype))
    return [torch.stack(spks), torch.stack(mems), torch.stack(curs), torch.stack(mem_in), torch.stack(cur_in),
            torch.stack(spk_in), torch.stack(forgets), torch.stack(cands)]


@_script
def _grsn_backward(g_spk: torch.Tensor, g_mem: torch.Tensor, g_cur: torch.Tensor, b: torch.Tensor,
                   gate_w: Optional[torch.Tensor], keep: Optional[torch.Tensor], mem_seq: torch.Tensor,
                   mem_in: torch.Tensor, cur_in: torch.Tensor, forgets: torch.Tensor, cands: torch.Tensor,
                   threshold: float) -> List[torch.Tensor]:
    """The backward loop of :func:`grsn_sequence`: gradients of drive, gate pre-activations, b (summed over the
    batch), and the initial membrane and current."""
    T = mem_seq.shape[0]
    pi = 3.141592653589793
    d_mem_next = torch.zeros_like(mem_seq[0])
    d_cur_next = torch.zeros_like(mem_seq[0])
    d_drive = torch.empty_like(mem_seq)
    d_pre = torch.empty(forgets.shape[0], forgets.shape[1], 2 * forgets.shape[2], dtype=mem_seq.dtype,
                        device=mem_seq.device)
    d_b = torch.zeros_like(mem_seq[0])
    for i in range(T):
        t = T - 1 - i
        # U_t = b * U~ + D_t + c_t - thr * o~ ; outputs o_t = H(U_t - thr) (atan surrogate), U_t, c_t
        u = (mem_seq[t] - threshold) * pi
        d_m = g_mem[t] + d_mem_next + g_spk[t] / (1.0 + u * u)
        d_drive[t] = d_m
        d_b += d_m * mem_in[t]
        d_c = g_cur[t] + d_cur_next + d_m
        forget, cand = forgets[t], cands[t]
        d_cur_prev = d_c * forget
        d_pre_f = d_c * (cur_in[t] - cand) * forget * (1.0 - forget)
        d_pre_c = d_c * (1.0 - forget) * (1.0 - cand * cand)
        d_pre_t = torch.cat([d_pre_f, d_pre_c], dim=-1)
        d_pre[t] = d_pre_t
        d_mem_prev = b * d_m
        if gate_w is not None:  # o~ = H(U~ - thr) drives the gates, with the surrogate gradient
            v = (mem_in[t] - threshold) * pi
            d_mem_prev = d_mem_prev + (d_pre_t @ gate_w) / (1.0 + v * v)
        if keep is not None:
            k = keep[t]
            d_mem_prev, d_cur_prev = d_mem_prev * k, d_cur_prev * k
        d_mem_next, d_cur_next = d_mem_prev, d_cur_prev
    return [d_drive, d_pre, d_b, d_mem_next, d_cur_next]


class _GRSNSequence(torch.autograd.Function):
    """The GRSN time loop as one autograd node: the forward loop records nothing for autograd, and the backward
    loop is written out by hand (see :func:`grsn_sequence`)."""

    @staticmethod
    def forward(ctx, drive, gate_x, gate_w, gate_b, beta, mem0, cur0, keep, threshold):
        b = beta.clamp(0, 1)
        spk, mem, cur, mem_in, cur_in, spk_in, forgets, cands = _grsn_forward(
            drive, gate_x, gate_w, gate_b, b, mem0, cur0, keep, threshold)
        ctx.save_for_backward(beta, b, gate_w, keep, mem, mem_in, cur_in, spk_in, forgets, cands)
        ctx.threshold, ctx.has_gate_x, ctx.has_gate_b = threshold, gate_x is not None, gate_b is not None
        return spk, mem, cur

    @staticmethod
    def backward(ctx, g_spk, g_mem, g_cur):
        beta, b, gate_w, keep, mem, mem_in, cur_in, spk_in, forgets, cands = ctx.saved_tensors
        d_drive, d_pre, d_b, d_mem0, d_cur0 = _grsn_backward(g_spk, g_mem, g_cur, b, gate_w, keep, mem, mem_in,
                                                              cur_in, forgets, cands, ctx.threshold)
        d_beta = None
        if ctx.needs_input_grad[4]:
            inside = ((beta >= 0) & (beta <= 1)).to(beta.dtype)  # clamp's gradient
            d_beta = d_b.reshape(-1, d_b.shape[-1]).sum(0) * inside
            d_beta = d_beta.reshape(beta.shape) if beta.dim() else d_beta.sum()
        d_gate_w = d_gate_b = None
        if gate_w is not None:
            flat_pre = d_pre.reshape(-1, d_pre.shape[-1])
            d_gate_w = flat_pre.t() @ spk_in.reshape(-1, spk_in.shape[-1])
            d_gate_b = flat_pre.sum(0) if ctx.has_gate_b else None
        d_gate_x = d_pre if ctx.has_gate_x else None
        return d_drive, d_gate_x, d_gate_w, d_gate_b, d_beta, d_mem0, d_cur0, None, None


def grsn_sequence(drive, gate_x, gate_w, gate_b, beta, mem0, cur0, keep=None, threshold=1.0):
    r"""A whole sequence of :class:`~grsn_edu.snn.cores.GRSNCore` steps, with a hand-written backward pass.

    The same numbers as the core's step-by-step loop (:func:`leaky_step` after :func:`gated_current_step`,
    forward and gradients; tested in float64), but one autograd node for all T steps instead of some 30 per
    step: the backward loop runs a dozen tensor operations per step and the gate weights' gradient is one
    matrix product at the end; both loops are TorchScript, so no Python runs between their tensor operations.
    With :math:`\tilde U = k_t U_{t-1}`, :math:`\tilde c = k_t c_{t-1}` (``keep`` :math:`k_t`, 0 where an
    episode starts) and :math:`\tilde o = \Theta(\tilde U - U_{thr})`:

    .. math::

        a_t = [G^x_t] + W_o \tilde o + b_o,\quad c_t = F_t \tilde c + (1 - F_t) \tanh(a^I_t),\quad
        U_t = \beta \tilde U + D_t + c_t - U_{thr} \tilde o,\quad o_t = \Theta(U_t - U_{thr})

    with :math:`F_t = \sigma(a^F_t)`; the reset :math:`U_{thr}\tilde o` carries no gradient, the spikes that
    drive the gates and the output spikes carry the atan surrogate gradient.

    Args:
        drive: ``(T, B, H)`` direct drive :math:`D_t = W_x x_t + b_x`.
        gate_x: ``(T, B, 2H)`` the gates' input part :math:`G^x_t` or None.
        gate_w, gate_b: ``(2H, H)`` and ``(2H,)`` the gates' spike weights and bias, or None.
        beta: ``(H,)`` or scalar, the raw decay (clamped to [0, 1] here).
        mem0, cur0: ``(B, H)`` the state before step 0.
        keep: ``(T, B, 1)`` or None.
        threshold: float :math:`U_{thr}`.

    Returns:
        ``(spikes, membrane, current)``, each ``(T, B, H)``.
    """
    if gate_x is None and gate_w is None:
        raise ValueError("grsn_sequence needs the gates' input part (gate_x), their spike weights (gate_w) or both")
    return _GRSNSequence.apply(drive, gate_x, gate_w, gate_b, beta, mem0, cur0, keep, float(threshold))
