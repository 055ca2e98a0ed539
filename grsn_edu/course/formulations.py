r"""The GRSN formulations side by side (notebooks 04 and 12): the authors' first released cell, the cell of the
paper's Eq. 17 as the authors later wrote it, and this project's variant.

The first released cell (GitHub StillWolf/GRSN-SNN, ``grsn/policies/rlifs/RecurrentLIF.py``) is
:class:`~grsn_edu.snn.cores.GRSNFirstReleaseCore` (``make_core("grsn-first-release", ...)``): gates on the cell's
input, a ReLU candidate, the gated current alone charging a LIF membrane with :math:`\tau = 2`, the membrane
zeroed at every call (``reset_membrane_each_call=True``). The authors' later rewrite, which says it follows the
paper's Eq. 17 and calls the first cell an incorrect implementation of it, is
:class:`~grsn_edu.snn.cores.GRSNEq17Core` (``make_core("grsn-eq17", ...)``): gates on the previous spikes, a ReLU
candidate, the input's projection added to the gated current. This project's variant is
:class:`~grsn_edu.snn.cores.GRSNCore` (``make_core("grsn", ...)``): gates on the previous spikes, a tanh
candidate, a direct drive beside the gated current, a learnable decay, the membrane carried from call to call
(TAP).

An agent calls its cell once per environment step; training calls it once per stored sequence.
:func:`run_one_call_per_step` runs a core the first way, :func:`call_gap` measures how far the two ways differ,
:func:`accuracy_one_call_per_step` scores a trained cue-recall network acting step by step.
:func:`cell_energy_table` and :func:`actor_energy_table` put energy counts (:mod:`grsn_edu.snn.energy`,
:func:`grsn_edu.rl.authors_actor.compare_actor_energy`) side by side and say which ratios are near one half.

Example:
    >>> import torch
    >>> from grsn_edu import make_core
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> x = 3 * torch.randn(8, 2, 4)                                        # (T, B, I)
    >>> call_gap(make_core("grsn-first-release", 4, 16), x) > 0                  # membrane zeroed at every call
    True
    >>> call_gap(make_core("grsn-first-release", 4, 16, reset_membrane_each_call=False), x)
    0.0
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from grsn_edu.rl.authors_actor import ActorBatch, AuthorsActor
from grsn_edu.snn.cores import Core
from grsn_edu.snn.energy import ops_from_trace
from grsn_edu.snn.trace import Trace

__all__ = ["NEAR_HALF", "run_one_call_per_step", "call_gap", "accuracy_one_call_per_step", "actor_cell_input",
           "cell_energy_table", "actor_energy_table"]

#: The band of ratios read as "about 50 %" (notebook 12 uses the same band).
NEAR_HALF = (0.4, 0.6)


def run_one_call_per_step(core: Core, x: torch.Tensor, state: dict | None = None,
                          trace: Trace | None = None) -> tuple[torch.Tensor, dict]:
    """Run ``core`` over ``x`` ``(T, B, I)`` as an agent acts: T calls of one step each, the state handed on.

    Returns ``(outputs (T, B, output_size), final state)``, like one call ``core(x, state)``; ``trace``, when
    given, records all T calls in order.
    """
    state = core.initial_state(x.shape[1]) if state is None else state
    outs = []
    for t in range(x.shape[0]):
        out, state = core(x[t : t + 1], state, trace=trace)
        outs.append(out)
    return torch.cat(outs), state


@torch.no_grad()
def call_gap(core: Core, x: torch.Tensor) -> float:
    """Largest absolute difference between T one-step calls and one T-step call of ``core`` on ``x`` ``(T, B, I)``,
    both from the initial state: 0, up to float32 rounding (the two multiply matrices of other shapes), where
    acting and training see the same network."""
    whole, _ = core(x, core.initial_state(x.shape[1]))
    stepwise, _ = run_one_call_per_step(core, x)
    return float((whole - stepwise).abs().max())


@torch.no_grad()
def accuracy_one_call_per_step(core: Core, readout: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor) -> float:
    """Cue-recall accuracy at the last step of ``x`` ``(T, B, I)`` when the core runs one call per step (acting).

    :func:`grsn_edu.experiments.memory.evaluate_accuracy` is the same with one call per sequence (training).
    """
    out, _ = run_one_call_per_step(core, x)
    return float((readout(out[-1]).argmax(-1) == labels).float().mean())


@torch.no_grad()
def actor_cell_input(actor: AuthorsActor, batch: ActorBatch) -> torch.Tensor:
    """What the cell of ``actor`` reads on ``batch``: the concatenated embeddings of the previous action, the
    previous reward and the observation, ``(T, B, cell.input_size)``, real-valued (ReLU outputs)."""
    trace = Trace()
    actor(batch, acting=False, trace=trace)
    return trace["x"]


def cell_energy_table(cores: Mapping[str, Core], x: torch.Tensor, baseline: str,
                      one_call_per_step: Mapping[str, bool] | None = None):
    """Per-decision energy of several cores on the same input, measured on a forward pass, beside a baseline.

    Args:
        cores: ``{label: core}``, every core reading ``x``.
        x: ``(T, B, I)``; the ``T * B`` steps are the decisions.
        baseline: the label whose energy the ratios divide by.
        one_call_per_step: ``{label: True}`` runs that core one call per step (as an agent acts); the others run
            one call per sequence.

    Returns:
        A pandas DataFrame indexed by label: ``firing_rate`` (spikes per unit per step; NaN for a non-spiking
        core), ``MAC``, ``AC``, ``energy_pJ`` per decision and ``ratio`` to the baseline.
    """
    import pandas as pd

    if baseline not in cores:
        raise ValueError(f"baseline {baseline!r} is not among the cores {list(cores)}")
    stepwise = dict(one_call_per_step or {})
    unknown = sorted(set(stepwise) - set(cores))
    if unknown:
        raise ValueError(f"one_call_per_step names {unknown}, which are not among the cores {list(cores)}")
    records = {}
    for label, core in cores.items():
        trace = Trace()
        with torch.no_grad():
            if stepwise.get(label, False):
                run_one_call_per_step(core, x, trace=trace)
            else:
                core(x, core.initial_state(x.shape[1]), trace=trace)
        report = ops_from_trace(core, trace, decisions=x.shape[0] * x.shape[1])
        rate = float(trace["spk"].mean()) if core.spiking else float("nan")
        records[label] = {"firing_rate": rate, "MAC": report.total_mac, "AC": report.total_ac,
                          "energy_pJ": report.energy_pj()}
    table = pd.DataFrame.from_dict(records, orient="index")
    table["ratio"] = table["energy_pJ"] / table.loc[baseline, "energy_pJ"]
    return table


def _split(report, prefix: str = "cell: ") -> tuple[float, float]:
    cell = sum(r.energy_pj() for r in report.rows if r.layer.startswith(prefix))
    return float(cell), float(report.energy_pj() - cell)


def actor_energy_table(comparison: dict, near: tuple[float, float] = NEAR_HALF):
    """The GRSN actor against the GRU and LSTM actors, the cell alone and the whole actor, by counting mode.

    Args:
        comparison: what :func:`grsn_edu.rl.authors_actor.compare_actor_energy` returns.
        near: the band of ratios called "about 50 %".

    Returns:
        A pandas DataFrame, one row per (baseline, mode) with ``mode`` ``"event-driven"`` (spikes and one-hot
        inputs cost ACs) or ``"dense"`` (every synapse a MAC): ``cell ratio`` (the cells alone),
        ``actor ratio`` (the whole actors, as ``compare_actor_energy`` gives it), ``share outside the cell``
        (the part of the baseline actor's energy outside its cell) and ``near 50 %`` (the actor ratio within
        ``near``).
    """
    import pandas as pd

    low, high = near
    reports = comparison["reports"]
    rows = []
    for baseline in ("gru", "lstm"):
        for mode in ("event-driven", "dense"):
            grsn_cell, grsn_rest = _split(reports["grsn", mode])
            base_cell, base_rest = _split(reports[baseline, mode])
            actor = (grsn_cell + grsn_rest) / (base_cell + base_rest)
            rows.append({"GRSN actor against": baseline.upper(), "mode": mode, "cell ratio": grsn_cell / base_cell,
                         "actor ratio": actor, "share outside the cell": base_rest / (base_cell + base_rest),
                         "near 50 %": bool(low <= actor <= high)})
    return pd.DataFrame(rows).set_index(["GRSN actor against", "mode"])
