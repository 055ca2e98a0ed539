"""Checks for the exercises of notebook 06 (cooperative multi-agent RL).

Each ``check_*`` tests the reader's answer against the code that trained the saved agents
(:class:`grsn_edu.rl.mixers.VDNMixer`, :class:`grsn_edu.rl.mixers.QMixer`,
:func:`grsn_edu.course.recordings.record_team_episode`), with the contract of
:func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (the reference solution from
:mod:`grsn_edu.course.solutions.ch06` while the exercise is a stub).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import run_check
from grsn_edu.course.recordings import TeamEpisode, record_team_episode
from grsn_edu.course.solutions import ch06 as solutions
from grsn_edu.rl.mixers import QMixer, VDNMixer
from grsn_edu.rl.qmix import AgentNetwork

__all__ = ["check_vdn_mix", "check_monotonic_mix", "check_spikes_per_decision", "hypernet_outputs",
           "example_team_spikes"]


def _close(a, b, atol=1e-5) -> bool:
    return tuple(a.shape) == tuple(b.shape) and torch.allclose(a, b, atol=atol)


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def check_vdn_mix(vdn_mix: Callable) -> Callable:
    """Exercise 1: ``vdn_mix(agent_qs (..., N)) -> (...)`` must equal :class:`grsn_edu.rl.mixers.VDNMixer`.

    Checked on random utilities of shape (T, B, N) = (25, 4, 3) and (B, N) = (7, 2).

    Returns:
        ``vdn_mix`` if it passes, the reference solution while it is still the stub.
    """
    return run_check("vdn_mix", vdn_mix, solutions.vdn_mix, _verify_vdn_mix)


def _verify_vdn_mix(fn: Callable) -> str:
    generator = torch.Generator().manual_seed(0)
    for shape in ((25, 4, 3), (7, 2)):
        q = torch.randn(*shape, generator=generator)
        want = VDNMixer()(q, None)
        got = torch.as_tensor(fn(q))
        if _close(got, want):
            continue
        if tuple(got.shape) == tuple(want.shape) + (1,):
            hint = "drop the kept dimension: the result has one value per sample, shape (...), not (..., 1)."
        elif tuple(got.shape) != tuple(want.shape):
            hint = "sum over the LAST dimension (the agents), dim=-1; the leading dimensions are time and batch."
        elif _close(got, q.mean(-1)):
            hint = "VDN adds the utilities up; a mean divides them by N."
        else:
            hint = "Q_tot = Q_1 + ... + Q_N, a sum over the last dimension."
        raise AssertionError(f"for agent_qs of shape {shape} the answer should have shape {tuple(want.shape)} and "
                             f"equal the sum over agents; got shape {tuple(got.shape)}. Hint: {hint}")
    return "Correct: your vdn_mix equals the VDN mixer the saved agents were trained with."


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def hypernet_outputs(mixer: QMixer, state: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The raw (signed) hypernetwork outputs of a :class:`grsn_edu.rl.mixers.QMixer` for states ``(B, S)``:
    ``w1 (B, N, E)``, ``b1 (B, E)``, ``w2 (B, E)``, ``b2 (B,)``."""
    B = state.shape[0]
    return (mixer.hyper_w1(state).view(B, mixer.n_agents, mixer.embed_dim), mixer.hyper_b1(state),
            mixer.hyper_w2(state), mixer.hyper_b2(state).view(B))


def check_monotonic_mix(monotonic_mix: Callable) -> Callable:
    """Exercise 2: ``monotonic_mix(agent_qs, w1, b1, w2, b2)`` must equal :class:`grsn_edu.rl.mixers.QMixer` and be
    monotonic: dQ_tot/dQ_i >= 0 for every agent, whatever the signs of the raw hypernetwork weights.

    Checked with a QMixer of 3 agents, 8 mixing units and random states (B = 64), and with raw weights drawn at
    random (half of them negative).

    Returns:
        ``monotonic_mix`` if it passes, the reference solution while it is still the stub.
    """
    return run_check("monotonic_mix", monotonic_mix, solutions.monotonic_mix, _verify_monotonic_mix)


def _verify_monotonic_mix(fn: Callable) -> str:
    torch.manual_seed(0)
    mixer = QMixer(n_agents=3, state_size=6, embed_dim=8, hypernet_hidden=16)
    generator = torch.Generator().manual_seed(1)
    state = torch.randn(64, 6, generator=generator)
    q = (3 * torch.randn(64, 3, generator=generator)).requires_grad_(True)
    with torch.no_grad():
        raw = hypernet_outputs(mixer, state)
        want = mixer(q, state)
    got = fn(q, *raw)
    assert got is not None and tuple(torch.as_tensor(got).shape) == (64,), (
        f"for agent_qs of shape (64, 3) the answer should have shape (64,), got "
        f"{None if got is None else tuple(torch.as_tensor(got).shape)}. Hint: one Q_tot per sample; sum the "
        "second layer over the E mixing units."
    )
    grad = torch.autograd.grad(got.sum(), q, allow_unused=True)[0]
    assert grad is not None, "Q_tot does not depend on agent_qs: use them (and keep them in the autograd graph)."
    if (grad < -1e-6).any():
        raise AssertionError(
            f"dQ_tot/dQ_i is negative for {int((grad < -1e-6).sum())} of {grad.numel()} (sample, agent) pairs, so "
            "an agent raising its own Q_i could lower the team's value, and its own argmax would no longer be the "
            "team's. Hint: make both weight tensors non-negative with .abs() (w1 and w2; the biases may keep "
            "their signs)."
        )
    if not _close(got.detach(), want, atol=1e-4):
        w1, b1, w2, b2 = raw
        linear = torch.einsum("bn,bne->be", q, w1.abs()) + b1
        relu = (torch.relu(linear) * w2.abs()).sum(-1) + b2
        plain = (linear * w2.abs()).sum(-1) + b2
        if _close(got.detach(), relu.detach(), atol=1e-4):
            hint = "QMIX uses ELU between the layers, not ReLU (torch.nn.functional.elu)."
        elif _close(got.detach(), plain.detach(), atol=1e-4):
            hint = "apply ELU to the hidden layer: without it the mix is linear (a weighted VDN)."
        else:
            hint = "hidden = ELU(q @ |W1| + b1), shape (B, E); Q_tot = hidden . |w2| + b2, shape (B,)."
        i = int((got.detach() - want).abs().argmax())
        raise AssertionError(f"sample {i}: QMixer gives Q_tot = {want[i]:.4f}, yours {float(got.detach()[i]):.4f}. "
                             f"Hint: {hint}")
    # monotonic whatever the raw weights are, not only for this mixer's
    w1 = torch.randn(64, 3, 8, generator=generator)
    w2 = torch.randn(64, 8, generator=generator)
    q2 = torch.randn(64, 3, generator=generator).requires_grad_(True)
    out = fn(q2, w1, torch.randn(64, 8, generator=generator), w2, torch.randn(64, generator=generator))
    grad = torch.autograd.grad(out.sum(), q2)[0]
    assert (grad >= -1e-6).all(), (
        "with raw weights of both signs, dQ_tot/dQ_i becomes negative: take .abs() of w1 and w2 inside the mix."
    )
    return "Correct: your monotonic_mix equals QMIX's mixer and dQ_tot/dQ_i >= 0 for every agent."


# -- Exercise 3 --------------------------------------------------------------------------------------------------
def example_team_spikes(substeps: int = 1, seed: int = 0) -> TeamEpisode:
    """A greedy spread_memory episode of an untrained spiking team (LIF, 32 units, seeded), with its spikes
    ``(T * S, N, H)``: test material for exercise 3."""
    torch.manual_seed(seed)
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="lif", hidden_size=32, substeps=substeps,
                       beta=0.95, threshold=0.5)
    return record_team_episode(net, "spread_memory", seed=seed)


def check_spikes_per_decision(spikes_per_decision: Callable) -> Callable:
    """Exercise 3: ``spikes_per_decision(spk (T*S, N, H), decisions) -> (N,)`` must count each agent's spikes per
    decision.

    Checked on two recorded episodes of a spiking team: one spiking update per decision (TAP) and 3 (non-TAP).

    Returns:
        ``spikes_per_decision`` if it passes, the reference solution while it is still the stub.
    """
    return run_check("spikes_per_decision", spikes_per_decision, solutions.spikes_per_decision,
                     _verify_spikes_per_decision)


def _verify_spikes_per_decision(fn: Callable) -> str:
    for substeps in (1, 3):
        episode = example_team_spikes(substeps)
        spk, T = episode.spikes, episode.length
        want = episode.spikes_per_decision()
        got = np.asarray(fn(spk, T), dtype=np.float64)
        if got.shape == want.shape and np.allclose(got, want, atol=1e-6):
            continue
        H = spk.shape[2]
        if got.shape != want.shape:
            hint = ("keep one number per agent: sum over time (axis 0) and units (axis 2), not over agents (axis 1)"
                    f"; expected shape {want.shape}.")
        elif np.allclose(got, want / H):
            hint = "that is the firing rate (per unit); count the spikes of all the agent's units together."
        elif np.allclose(got, want / substeps):
            hint = "divide by the number of decisions T, not by the T * S spiking updates: a decision includes all S."
        else:
            hint = "sum spk over axes 0 and 2 and divide by the number of decisions."
        raise AssertionError(f"with S = {substeps} spiking updates per decision: expected {want.round(3)} spikes "
                             f"per decision for the 3 agents, got {got.round(3)}. Hint: {hint}")
    return "Correct: your spikes_per_decision counts each agent's spikes per decision (TAP and 3 sub-steps)."
