"""The GRSN core's fused sequence (one autograd node, hand-written backward) equals its step-by-step loop."""

import itertools

import pytest
import torch
from float_rounding import assert_agree_to_rounding, assert_spikes_cannot_flip

from grsn_edu import make_core
from grsn_edu.snn.neurons import grsn_sequence
from grsn_edu.snn.trace import Trace


def _grads(core, x, state, starts):
    out, final = core(x, {k: v.clone().requires_grad_(True) for k, v in state.items()}, episode_start=starts)
    weights = torch.randn_like(out)
    loss = (out * weights).sum() + (final["mem"] * 0.3).sum() + (final["cur"] * 0.7).sum()
    inputs = [x] + [p for p in core.parameters()]
    return out.detach(), {k: v.detach() for k, v in final.items()}, torch.autograd.grad(loss, inputs, allow_unused=True)


@pytest.mark.parametrize("gate_input,readout,threshold",
                         list(itertools.product(["spikes", "input", "both"], ["spikes", "membrane", "both"], [1.0]))
                         + [("spikes", "both", 0.7)])
def test_fused_sequence_equals_the_step_loop_forward_and_backward(gate_input, readout, threshold):
    torch.manual_seed(0)
    core = make_core("grsn", 3, 6, gate_input=gate_input, readout=readout, threshold=threshold, beta=0.8).double()
    with torch.no_grad():
        core.leaky.beta[0] = 1.3  # clamped: no gradient reaches it
        core.leaky.beta[1] = -0.2
    x = (2 * torch.randn(9, 4, 3, dtype=torch.float64)).requires_grad_(True)
    state = {"mem": 1.5 * torch.randn(4, 6, dtype=torch.float64), "cur": 0.3 * torch.randn(4, 6, dtype=torch.float64)}
    starts = torch.zeros(9, 4, dtype=torch.bool)
    starts[3, 1] = starts[6, 2] = starts[0, 3] = True
    results = {}
    for fused in (True, False):
        core.fused = fused
        torch.manual_seed(1)
        results[fused] = _grads(core, x, state, starts)
    out_f, final_f, grads_f = results[True]
    out_l, final_l, grads_l = results[False]
    assert 0.05 < float((out_l[..., :6] > 0.5).double().mean()) < 0.95 or readout == "membrane"  # neurons do spike
    torch.testing.assert_close(out_f, out_l, rtol=0, atol=1e-12)
    for k in final_l:
        torch.testing.assert_close(final_f[k], final_l[k], rtol=0, atol=1e-12)
    names = ["x"] + [n for n, _ in core.named_parameters()]
    for name, a, b in zip(names, grads_f, grads_l):
        if b is None:
            assert a is None or not a.any(), name
            continue
        # snnTorch's spike function computes its surrogate gradient in float32 whatever the input's dtype: the
        # loop's gradients are float32-accurate wherever a spike's gradient enters, the fused ones float64-accurate.
        # A gradient sums T * B contributions, each through up to T steps: float32 rounding of that many terms
        # (float_rounding), at the scale of the largest gradient (an elementwise rtol would ignore cancellation)
        assert_agree_to_rounding(a, b, terms=9 * 9 * 4, what=f"gradients of {name}")
    assert grads_l[names.index("leaky.beta")][:2].abs().sum() == 0  # the clamped entries


def test_acting_step_by_step_equals_one_fused_call():
    torch.manual_seed(0)
    core = make_core("grsn", 2, 8, readout="both")
    x = torch.randn(12, 3, 2)
    whole, final = core(x, trace=(trace := Trace()))
    # one step per call multiplies matrices of other shapes than one call for all steps: membranes agree to
    # rounding, spikes exactly as no membrane comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(trace["mem"], core.threshold, terms=12 * (2 + 8 + 1))
    state = core.initial_state(3)
    for t in range(12):
        out, state = core(x[t : t + 1], state)
        torch.testing.assert_close(out[0], whole[t])
    torch.testing.assert_close(state["mem"], final["mem"])


def test_fused_sequence_without_grad_and_in_float32():
    torch.manual_seed(0)
    T, B, H = 5, 2, 4
    args = (torch.randn(T, B, H), None, torch.randn(2 * H, H), torch.randn(2 * H), torch.full((H,), 0.9),
            torch.zeros(B, H), torch.zeros(B, H))
    with torch.no_grad():
        spk, mem, cur = grsn_sequence(*args)
    assert spk.dtype == torch.float32 and set(spk.unique().tolist()) <= {0.0, 1.0}
    assert mem.shape == cur.shape == (T, B, H)
