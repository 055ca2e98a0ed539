"""Checks for the exercises of the chapter ``tap`` (the temporal alignment paradigm).

Each ``check_*`` compares the reader's answer with a measurement on a real core, with the contract of
:func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the
check returns the function the notebook goes on with (while the exercise is a stub: the reference solution, or
a placeholder in the student copy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.snn.cores import SubstepCore, make_core
from grsn_edu.snn.energy import count_core_ops
from grsn_edu.snn.trace import Trace

__all__ = ["check_gate_acs", "check_memory_left", "measured_gate_acs", "measured_memory_curve", "measured_memory_left"]


def _number(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}: {value!r}") from None


# -- Exercise 1 --------------------------------------------------------------------------------------------------
def measured_gate_acs(hidden_size: int, substeps: int, seed: int) -> tuple[list[int], float]:
    """Run a fresh GRSN core (spike-driven gates) for one decision after a warm-up and count its gate ACs.

    Returns:
        ``(spike_counts, gate_acs)``: the number of spikes that reached the gates at each of the S updates of the
        decision, and the ACs of the ``gates`` row of :func:`grsn_edu.snn.energy.count_core_ops` for that decision.
    """
    torch.manual_seed(seed)
    core = make_core("grsn", 3, hidden_size, substeps=substeps, beta=0.8, threshold=0.5)
    with torch.no_grad():
        _, state = core(torch.randn(6, 1, 3) * 2, core.initial_state(1))  # warm up: the neurons start firing
        x = torch.randn(1, 1, 3) * 2
        trace = Trace()
        core(x, state, trace=trace)
    counts = [int(n) for n in trace["spk_prev"].sum(dim=(1, 2)).tolist()]
    report = count_core_ops(core, x, state)
    return counts, sum(r.ac for r in report.rows if r.layer == "gates")


def check_gate_acs(gate_acs: Callable) -> Callable:
    """Exercise 1: ``gate_acs(spike_counts, hidden_size)`` must equal the ACs counted on a real GRSN core.

    Tested on fresh GRSN cores (H = 8, 32, 128) under TAP (S = 1) and with S = 2 and 4 sub-steps: the spike
    counts are measured at each update of one decision and the answer is compared with the ``gates`` row of
    ``count_core_ops`` for the same decision.

    Returns:
        ``gate_acs`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("gate_acs", gate_acs, _verify_gate_acs, "tap")


def _verify_gate_acs(fn: Callable) -> str:
    cases = [(H, S, seed) for H, S in ((8, 1), (32, 1), (32, 2), (128, 4), (8, 4)) for seed in (0, 1)]
    for H, S, seed in cases:
        counts, want = measured_gate_acs(H, S, seed)
        got = _number(fn(list(counts), H), "gate_acs(...)")
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        spikes = sum(counts)
        if math.isclose(got, 2 * H * spikes):
            hint = "you left out the bias: a bias is one addition per target at every update, spikes or not."
        elif math.isclose(got, H * (spikes + S)) or math.isclose(got, H * spikes):
            hint = "the gate layer has 2H targets: H for the forget gate F and H for the candidate current."
        elif math.isclose(got, 2 * H * (spikes + 1)):
            hint = "the bias is added at every spiking update, so S times per decision, not once."
        elif math.isclose(got, 2 * H * H * S + 2 * H * S):
            hint = "that is the dense (MAC) count: a silent input costs nothing; only spikes are accumulated."
        else:
            hint = mode_hint("each spike reaches 2H targets (one AC each), and the bias adds 2H ACs at every update.",
                             "count, at every update, what the spikes and the bias cost at the gates' targets.")
        raise AssertionError(
            f"H={H}, S={S}, spikes per update {counts}: count_core_ops counts {want:.0f} gate ACs, your function "
            f"gives {got:.0f}. Hint: {hint}"
        )
    return (f"Correct: your gate_acs matches count_core_ops on {len(cases)} decisions of real GRSN cores "
            "(S = 1, 2 and 4).")


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def measured_memory_curve(beta: float, env_steps: int, substeps: int) -> np.ndarray:
    """Measure what a LIF core keeps of a sub-threshold input after 0, 1, ..., ``env_steps`` silent environment steps.

    One LIF neuron (``make_core("lif", 1, 1, substeps=...)``, threshold 10 so that it never fires) receives an
    input of 1 at environment step 0 and nothing afterwards.

    Returns:
        ``(env_steps + 1,)``: the membrane at the end of each environment step divided by the one after step 0.
    """
    core = make_core("lif", 1, 1, substeps=substeps, beta=beta, threshold=10.0, learn_beta=False)
    with torch.no_grad():
        encoder = core.inner.encoder if isinstance(core, SubstepCore) else core.encoder
        encoder.weight.fill_(0.1)  # input 1 -> current 0.1, far below the threshold
        encoder.bias.zero_()
        x = torch.zeros(env_steps + 1, 1, 1, dtype=torch.float64)
        x[0] = 1.0
        trace = Trace()
        core.double()(x, trace=trace)  # float64, so that long decays stay exact
    mem = trace["mem"][:, 0, 0].reshape(env_steps + 1, substeps)[:, -1]  # membrane at the end of each env step
    return (mem / mem[0]).numpy()


def measured_memory_left(beta: float, env_steps: int, substeps: int) -> float:
    """:func:`measured_memory_curve` after exactly ``env_steps`` silent environment steps."""
    return float(measured_memory_curve(beta, env_steps, substeps)[env_steps])


def check_memory_left(memory_left: Callable) -> Callable:
    """Exercise 2: ``memory_left(beta, env_steps, substeps)`` must equal what a simulated LIF core keeps.

    Compared with :func:`measured_memory_left` for beta in {0.5, 0.9, 0.95}, 1 to 10 environment steps and
    S in {1, 2, 4}.

    Returns:
        ``memory_left`` if it passes, while it is still the stub the reference solution
        (a placeholder in student mode).
    """
    return run_check("memory_left", memory_left, _verify_memory_left, "tap")


def _verify_memory_left(fn: Callable) -> str:
    for beta in (0.5, 0.9, 0.95):
        for k in (1, 3, 10):
            for S in (1, 2, 4):
                want = measured_memory_left(beta, k, S)
                got = _number(fn(beta, k, S), "memory_left(...)")
                if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-12):
                    continue
                if math.isclose(got, beta**k, rel_tol=1e-4):
                    hint = ("that is the TAP answer; beta is the decay per spiking update, and one environment step "
                            "holds S updates.")
                elif any(math.isclose(got, beta**n, rel_tol=1e-4) for n in (k * S - 1, k + S)):
                    hint = "count the updates: k environment steps of S updates each."
                else:
                    hint = "without input, every spiking update multiplies the membrane by beta."
                raise AssertionError(
                    f"beta={beta}, {k} environment steps, S={S}: a simulated LIF core keeps {want:.6g} of its "
                    f"membrane, your function says {got:.6g}. Hint: {hint}"
                )
    return "Correct: your memory_left matches a simulated LIF core for 27 settings of beta, steps and sub-steps."
