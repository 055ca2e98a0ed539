r"""Energy per decision from synaptic operations counted on a real forward pass.

The convention (the one the GRSN paper and most SNN papers use, made explicit here):

* A synapse whose input is **binary** (a spike) costs one **accumulate** (AC) per spike per target: a spiking
  layer with ``n`` input spikes and ``m`` targets performs ``n * m`` ACs; silent inputs cost nothing.
* A synapse whose input is **real-valued** costs one **multiply-accumulate** (MAC) per input per target, spike
  or not: a dense layer ``in -> out`` performs ``in * out`` MACs per input vector.
* Whether an input is binary is read off the measured tensor (every entry exactly 0 or 1), not assumed.
* Inside a neuron: every element-wise multiplication with a real operand (``beta * U``, ``F * c``) is a MAC;
  every addition or subtraction that is not part of a MAC (adding the input current, a bias, the reset) is an
  AC; the reset subtraction is counted only when it happens (a spike on the previous step).
* Not counted: non-linearities (sigmoid, tanh, ReLU), the threshold comparison, memory access and data movement,
  and anything outside the network. Energies are 45 nm figures: E_MAC = 4.6 pJ and E_AC = 0.9 pJ for 32-bit
  floating point (Horowitz, "Computing's energy problem", ISSCC 2014), overridable.

Counts are totals over the forward pass divided by the number of decisions (``T * B``: one per input step and
batch entry; a non-TAP core pays all its sub-steps within one decision). Operations are counted *as executed*:
the non-TAP form presents its input for S sub-steps and recomputes the input layer each time, so that layer's
MACs are counted S times; an implementation that cached the constant input current would pay them once (notebook
07 shows both). When you call :func:`ops_from_trace` yourself, ``decisions`` is the number of environment steps
times the batch, not the number of sub-steps.

For a whole trained agent, :func:`ppo_agent_energy` and :func:`marl_agent_energy` play real greedy evaluation
episodes and count everything that runs at deployment (normaliser, policy core, readout head; not the value
network or the mixer, which only serve training). :func:`analytic_ops` gives the same counts from formulas at a
chosen firing rate, for sweeps over sizes and rates; :func:`rate_for_energy` inverts it.

Example:
    >>> import torch
    >>> from grsn_edu import make_core, count_core_ops
    >>> core = make_core("mlp", input_size=4, hidden_size=8)
    >>> report = count_core_ops(core, torch.randn(10, 2, 4))
    >>> report.total_mac, report.total_ac     # 4*8 MACs and 8 bias adds per decision
    (32.0, 8.0)
    >>> round(report.energy_pj(), 1)          # 32 * 4.6 + 8 * 0.9
    154.4
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = [
    "E_MAC_PJ",
    "E_AC_PJ",
    "OpCount",
    "EnergyReport",
    "is_binary",
    "linear_ops",
    "count_core_ops",
    "ops_from_trace",
    "input_layer_widths",
    "core_ops_with_binary_inputs",
    "normaliser_ops",
    "AgentEnergy",
    "ppo_agent_energy",
    "marl_agent_energy",
    "analytic_ops",
    "rate_for_energy",
]

#: Energy of one 32-bit floating-point multiply-accumulate at 45 nm (Horowitz 2014), picojoules.
E_MAC_PJ = 4.6
#: Energy of one 32-bit floating-point accumulate (add) at 45 nm (Horowitz 2014), picojoules.
E_AC_PJ = 0.9


@dataclass(frozen=True)
class OpCount:
    """Operations of one layer (or one part of a neuron): totals or per decision, as the owner says."""

    layer: str
    mac: float = 0.0
    ac: float = 0.0
    note: str = ""

    def scaled(self, factor: float) -> "OpCount":
        return OpCount(self.layer, self.mac * factor, self.ac * factor, self.note)

    def energy_pj(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> float:
        return self.mac * e_mac + self.ac * e_ac


@dataclass
class EnergyReport:
    """Per-decision operation counts, by layer, with energy at chosen per-operation costs.

    ``rows`` holds one :class:`OpCount` per layer, already divided by ``decisions``.
    Reports add: ``core_report + head_report`` is the whole agent.
    """

    rows: list[OpCount] = field(default_factory=list)
    decisions: int = 0

    @property
    def total_mac(self) -> float:
        return float(sum(r.mac for r in self.rows))

    @property
    def total_ac(self) -> float:
        return float(sum(r.ac for r in self.rows))

    def energy_pj(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> float:
        """Energy per decision in picojoules."""
        return float(sum(r.energy_pj(e_mac, e_ac) for r in self.rows))

    def by_layer(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> dict[str, float]:
        """``{layer: pJ per decision}``, layers with the same name summed."""
        out: dict[str, float] = {}
        for r in self.rows:
            out[r.layer] = out.get(r.layer, 0.0) + r.energy_pj(e_mac, e_ac)
        return out

    def to_frame(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ):
        """A pandas DataFrame: one row per layer with MAC, AC and energy (pJ) per decision, plus a total row."""
        import pandas as pd

        records = [
            {"layer": r.layer, "MAC": r.mac, "AC": r.ac, "energy_pJ": r.energy_pj(e_mac, e_ac), "note": r.note}
            for r in self.rows
        ]
        records.append(
            {"layer": "total", "MAC": self.total_mac, "AC": self.total_ac, "energy_pJ": self.energy_pj(e_mac, e_ac), "note": ""}
        )
        return pd.DataFrame.from_records(records)

    def __add__(self, other: "EnergyReport") -> "EnergyReport":
        if not isinstance(other, EnergyReport):
            return NotImplemented
        return EnergyReport(self.rows + other.rows, max(self.decisions, other.decisions))


def is_binary(t: torch.Tensor) -> bool:
    """True when every entry of ``t`` is exactly 0 or 1 (a spike tensor)."""
    return bool(((t == 0) | (t == 1)).all())


def linear_ops(layer: str, inputs: torch.Tensor, out_features: int, bias: bool = True, note: str = "",
               binary_features: slice | None = None) -> OpCount:
    """Total operations of a linear layer applied to every input vector in ``inputs`` ``(..., in_features)``.

    Binary inputs: ``nnz(inputs) * out_features`` ACs (event-driven). Real inputs: ``n * in * out`` MACs
    (dense). A bias adds ``n * out_features`` ACs either way, where ``n`` is the number of input vectors.

    ``binary_features`` (a slice of the feature axis, e.g. ``slice(18, None)``) declares a *mixed* input: those
    features are spikes or one-hot codes (checked: every entry 0 or 1) and cost one AC per nonzero entry per
    target; the other features are real-valued and cost dense MACs. Use it for an input that concatenates
    real observations with one-hot codes, or for a readout of spikes and membrane (``readout="both"``).

    Example:
        >>> import torch
        >>> linear_ops("readout", torch.tensor([[1., 0., 1.]]), out_features=2)   # 2 spikes x 2 targets + 2 bias adds
        OpCount(layer='readout', mac=0.0, ac=6.0, note='spike-driven')
        >>> linear_ops("encoder", torch.tensor([[0.5, -1., 2.]]), out_features=2, bias=False)
        OpCount(layer='encoder', mac=6.0, ac=0.0, note='real-valued')
        >>> linear_ops("encoder", torch.tensor([[0.5, 0., 1.]]), 2, bias=False, binary_features=slice(1, None))
        OpCount(layer='encoder', mac=2.0, ac=2.0, note='1 real + 2 binary features')
    """
    if inputs.dim() < 1:
        raise ValueError(f"inputs must have shape (..., in_features), got a scalar")
    in_features = inputs.shape[-1]
    n = inputs.numel() // max(in_features, 1)
    bias_ac = float(n * out_features) if bias else 0.0
    if binary_features is not None:
        if not isinstance(binary_features, slice):
            raise ValueError(f"binary_features must be a slice of the feature axis, e.g. slice(18, None), got {binary_features!r}")
        index = torch.arange(in_features)[binary_features]
        binary = inputs[..., index]
        if not is_binary(binary):
            raise ValueError(
                f"{layer}: the features {binary_features} were declared binary (spikes or one-hot) but hold values "
                "other than 0 and 1; declare only the spike / one-hot features"
            )
        n_real = in_features - len(index)
        acs = float(torch.count_nonzero(binary)) * out_features
        return OpCount(layer, float(n * n_real * out_features), acs + bias_ac,
                       note or f"{n_real} real + {len(index)} binary features")
    if is_binary(inputs):
        spikes = float(torch.count_nonzero(inputs))
        return OpCount(layer, 0.0, spikes * out_features + bias_ac, note or "spike-driven")
    return OpCount(layer, float(n * in_features * out_features), bias_ac, note or "real-valued")


def count_core_ops(core, x: torch.Tensor, state=None, episode_start=None) -> EnergyReport:
    """Run ``core`` on ``x`` ``(T, B, I)`` (no gradients) and count its operations per decision.

    The spikes that drive the spike-driven synapses are the ones measured in this forward pass, so the count
    depends on the input and the weights, as the real cost would. For an agent, add the report of its readout
    (:func:`linear_ops` on the core's measured outputs).

    Returns:
        An :class:`EnergyReport` with one row per layer of the core (``core.op_counts`` gives the formulas).
    """
    from .cores import Trace

    trace = Trace()
    with torch.no_grad():
        core(x, state, episode_start=episode_start, trace=trace)
    return ops_from_trace(core, trace, decisions=x.shape[0] * x.shape[1])


def ops_from_trace(core, trace, decisions: int) -> EnergyReport:
    """Per-decision operation counts of ``core`` from a :class:`~grsn_edu.cores.Trace` of ``decisions`` decisions.

    Use this when the trace was recorded over many calls (e.g. an agent acting with T=1 for a whole episode).
    """
    if decisions < 1:
        raise ValueError(f"decisions must be >= 1, got {decisions}")
    totals = core.op_counts(trace)
    return EnergyReport([r.scaled(1.0 / decisions) for r in totals], decisions)


# -- a whole agent, over real evaluation episodes ---------------------------------------------------------------

def input_layer_widths(core) -> dict[str, int]:
    """The rows of ``core.op_counts`` that are linear layers reading the core's input ``x``, with their widths.

    ``{row name: out_features}``; e.g. ``{"input weights": 3 * H}`` for a GRU, ``{"encoder": H}`` for a LIF
    layer, ``{"encoder": H, "gates": 2 * H}`` for a GRSN whose gates read the input. A non-TAP core
    (:class:`~grsn_edu.cores.SubstepCore`) has its inner core's layers.
    """
    inner = getattr(core, "inner", core)
    H = inner.hidden_size
    if inner.name == "gru":
        return {"input weights": 3 * H}
    if inner.name == "slstm":
        return {"input weights": 4 * H}
    widths = {"encoder": H}
    if inner.name == "grsn" and inner.gates:
        if inner.gate_input == "input":
            widths["gates"] = 2 * H
        elif inner.gate_input == "both":
            widths["gates (input)"] = 2 * H
    return widths


def core_ops_with_binary_inputs(core, trace, binary_features: slice | None) -> list[OpCount]:
    """``core.op_counts(trace)`` (totals), with the layers that read the input counted feature by feature.

    The features in ``binary_features`` (one-hot codes, spikes) cost one AC per nonzero entry per target; the
    others dense MACs (:func:`linear_ops` with ``binary_features``). ``None`` gives ``core.op_counts(trace)``.
    """
    rows = core.op_counts(trace)
    if binary_features is None:
        return rows
    widths = input_layer_widths(core)
    x = trace["x"]
    return [linear_ops(r.layer, x, widths[r.layer], binary_features=binary_features) if r.layer in widths else r
            for r in rows]


def normaliser_ops(n_vectors: int, obs_size: int) -> OpCount:
    """The observation normaliser, ``(obs - mean) * (1 / std)`` per feature: one AC and one MAC per feature.

    (A deployed agent could fold it into the encoder's weights and bias and pay nothing; the clip to +-10 is
    a comparison and is not counted.)
    """
    return OpCount("normaliser", float(n_vectors * obs_size), float(n_vectors * obs_size), "(obs - mean) / std")


def _readout_binary(core) -> slice | None:
    """Which features of a core's output are spikes (binary), for counting the readout layer."""
    if not core.spiking or core.substeps > 1:
        return None  # non-TAP outputs are spike *rates* (k / S): real-valued, as executed
    readout = getattr(getattr(core, "inner", core), "readout", "membrane")
    if readout == "spikes":
        return slice(0, None)
    if readout == "both":
        return slice(0, core.hidden_size)  # [spikes, membrane]
    return None


def _merge(rows: list[OpCount], into: dict[str, list]) -> None:
    for r in rows:
        slot = into.setdefault(r.layer, [0.0, 0.0, r.note])
        slot[0] += r.mac
        slot[1] += r.ac


def _report(totals: dict[str, list], decisions: int) -> EnergyReport:
    rows = [OpCount(layer, mac / decisions, ac / decisions, note) for layer, (mac, ac, note) in totals.items()]
    return EnergyReport(rows, decisions)


@dataclass
class AgentEnergy:
    """What a trained agent paid per decision over real greedy evaluation episodes.

    Attributes:
        report: operations per decision by layer (:class:`EnergyReport`), as deployed.
        dense_inputs_report: the same, with every input feature counted as real-valued (MACs); differs from
            ``report`` only for inputs that include one-hot codes (the multi-agent agents).
        returns: ``(episodes,)`` greedy return of each episode.
        decisions: decisions counted (environment steps, times agents for a multi-agent task).
        spikes_per_decision: spikes of the core's hidden units per decision, all sub-steps (NaN if not spiking).
        firing_rate: spikes per unit per spiking update (NaN if not spiking).
    """

    report: EnergyReport
    dense_inputs_report: EnergyReport
    returns: np.ndarray
    decisions: int
    spikes_per_decision: float = float("nan")
    firing_rate: float = float("nan")

    @property
    def energy_pj(self) -> float:
        """Energy per decision, picojoules (default per-operation costs)."""
        return self.report.energy_pj()


@torch.no_grad()
def ppo_agent_energy(agent, env_id: str, episodes: int = 20, seed: int = 10_000) -> AgentEnergy:
    """Energy per decision of a trained PPO agent (:class:`~grsn_edu.agents.RecurrentActorCritic`).

    Plays ``episodes`` greedy episodes exactly as :func:`grsn_edu.ppo.evaluate` does (one environment per
    episode, seeds ``seed, seed + 1, ...``; with ``seed = 10_000 + training seed`` and 20 episodes these are the
    episodes of the run's final evaluation), and counts what runs at deployment: the observation normaliser,
    the policy core and the actor head (``readout``). The value core and critic only serve training and are not
    counted. Only the environments still in their first episode count, one decision per environment step.

    Returns:
        :class:`AgentEnergy`; its ``report`` has the core's rows plus ``normaliser`` and ``readout``.
    """
    from .cores import Trace
    from .environments import make_vector_env

    if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
        raise ValueError(f"episodes must be a positive int, got {episodes!r}")
    core, obs_size = agent.core, agent.obs_size
    envs = make_vector_env(env_id, episodes, seed)
    if envs.single_observation_space.shape[0] != obs_size:
        envs.close()
        raise ValueError(f"{env_id} gives {envs.single_observation_space.shape[0]} observation features but the "
                         f"agent takes {obs_size}: pass the environment the agent was trained on")
    obs, _ = envs.reset(seed=[seed + i for i in range(episodes)])
    state = core.initial_state(episodes)
    returns = np.zeros(episodes)
    alive = np.ones(episodes, dtype=bool)
    totals: dict[str, list] = {}
    decisions, spikes = 0, 0.0
    readout_binary = _readout_binary(core)
    while alive.any():
        trace = Trace()
        x = agent.normalizer(torch.as_tensor(obs, dtype=torch.float32))[None]
        features, state = core(x, state, trace=trace)
        action = agent.actor(features)[0].argmax(-1)
        idx = torch.as_tensor(np.flatnonzero(alive))
        live = Trace()
        for name in trace.keys():
            live.put(name, trace[name][:, idx])
        _merge(core.op_counts(live) + [normaliser_ops(len(idx), obs_size),
                                      linear_ops("readout", features[:, idx], agent.n_actions,
                                                 binary_features=readout_binary)], totals)
        decisions += len(idx)
        if core.spiking:
            spikes += float(live["spk"].sum())
        obs, reward, term, trunc, _ = envs.step(action.numpy())
        returns += reward * alive
        alive &= ~(term | trunc)
    envs.close()
    report = _report(totals, decisions)
    spd = spikes / decisions if core.spiking else float("nan")
    rate = spd / (core.hidden_size * core.substeps) if core.spiking else float("nan")
    return AgentEnergy(report, report, returns, decisions, spd, rate)


@torch.no_grad()
def marl_agent_energy(net, env_id: str, episodes: int = 20, seed: int = 10_000, max_steps: int = 25) -> AgentEnergy:
    """Energy per agent decision of a trained multi-agent network (:class:`~grsn_edu.qmix.AgentNetwork`).

    Plays ``episodes`` greedy episodes with :func:`grsn_edu.qmix.run_episode` (seeds ``seed + k``, as
    :func:`grsn_edu.qmix.evaluate_marl` does) and counts what each agent runs to act: its core and its Q head
    (``readout``); the mixing network serves training only. One decision = one agent at one step.

    The input layer reads ``[observation, agent-id one-hot, previous-action one-hot]``. In ``report`` the
    observation features cost MACs and the one-hot features one AC per nonzero entry per target (a one-hot
    times a weight matrix adds one column: no multiplication is needed, for any core); in
    ``dense_inputs_report`` the whole input vector costs MACs, as a dense layer executes it.
    """
    from .cores import Trace
    from .environments import make_marl_env
    from .qmix import _env_sizes, run_episode

    if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
        raise ValueError(f"episodes must be a positive int, got {episodes!r}")
    env = make_marl_env(env_id)
    agents, obs_size, n_actions, _ = _env_sizes(env)
    if (obs_size, len(agents), n_actions) != (net.obs_size, net.n_agents, net.n_actions):
        env.close()
        raise ValueError(f"{env_id} has obs {obs_size}, {len(agents)} agents, {n_actions} actions but the network "
                         f"was built for {(net.obs_size, net.n_agents, net.n_actions)}: pass its own task")
    rng = np.random.default_rng(seed)
    trace, heads = Trace(), []
    hook = net.q_head.register_forward_hook(lambda module, inputs, output: heads.append(inputs[0].detach()))
    returns, decisions = [], 0
    try:
        for k in range(episodes):
            ep = run_episode(env, net, agents, 0.0, seed + k, rng, max_steps, trace=trace)
            returns.append(ep["return"])
            decisions += ep["steps"] * len(agents)
    finally:
        hook.remove()
        env.close()
    core = net.core
    head = linear_ops("readout", torch.cat(heads), n_actions, binary_features=_readout_binary(core))
    split, dense = {}, {}
    _merge(core_ops_with_binary_inputs(core, trace, slice(obs_size, None)) + [head], split)
    _merge(core.op_counts(trace) + [head], dense)
    spd = float(trace["spk"].sum()) / decisions if core.spiking else float("nan")
    rate = spd / (core.hidden_size * core.substeps) if core.spiking else float("nan")
    return AgentEnergy(_report(split, decisions), _report(dense, decisions), np.array(returns), decisions, spd, rate)


# -- formulas: operations per decision at a given firing rate ---------------------------------------------------

def analytic_ops(core: str, input_size: int, hidden_size: int, firing_rate: float = 0.0, *,
                 gate_input: str = "spikes", substeps: int = 1, head_outputs: int = 0, readout: str = "spikes",
                 input_spikes: float | None = None, event_driven: bool = True) -> EnergyReport:
    """Operations per decision of a core (and optionally its readout head) from formulas, at a firing rate.

    The same convention as the counts on a real forward pass: with ``firing_rate`` set to the measured
    fraction of units that spiked at the previous update, the result equals :func:`count_core_ops` exactly
    (``tests/test_energy.py`` checks it). Use it to sweep sizes and rates without running anything.

    Args:
        core: ``mlp``, ``gru``, ``lif``, ``grsn``, ``rleaky`` or ``slstm``.
        input_size, hidden_size: I and H.
        firing_rate: r, spikes per unit per spiking update, in [0, 1] (ignored by non-spiking cores).
        gate_input: GRSN only: ``spikes``, ``input`` or ``both``.
        substeps: S spiking updates per decision (non-TAP); every core row is paid S times.
        head_outputs: A, outputs of a linear readout head on the core (0: no head).
        readout: what the head reads from a spiking core: ``spikes``, ``membrane`` or ``both``.
        input_spikes: None for a real-valued input (MACs); a number of input spikes per update for a
            spike-encoded input (ACs).
        event_driven: True (the convention): a spike-driven synapse costs one AC per spike. False: hardware
            that does not exploit spikes (a GPU running the dense matrix product) pays one MAC per input per
            target for those layers too, spike or not.

    Example:
        >>> analytic_ops("gru", 2, 4).total_mac      # 3H*I + 3H*H + 3H
        84.0
    """
    from .cores import CORE_NAMES, READOUTS
    from .neurons import GATE_INPUTS

    if core not in CORE_NAMES:
        raise ValueError(f"unknown core {core!r}; known cores: {', '.join(CORE_NAMES)}")
    if gate_input not in GATE_INPUTS:
        raise ValueError(f"gate_input must be one of {GATE_INPUTS}, got {gate_input!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if not 0.0 <= float(firing_rate) <= 1.0:
        raise ValueError(f"firing_rate is a fraction of units per update, in [0, 1]; got {firing_rate}")
    I, H, A, r = int(input_size), int(hidden_size), int(head_outputs), float(firing_rate)
    if min(I, H) < 1 or A < 0 or substeps < 1:
        raise ValueError(f"need input_size, hidden_size, substeps >= 1 and head_outputs >= 0; got {I}, {H}, {substeps}, {A}")
    s = r * H  # spikes per update

    def reads_x(name, width):
        if input_spikes is None or not event_driven:
            return OpCount(name, float(I * width), float(width), "real-valued" if input_spikes is None else "dense")
        return OpCount(name, 0.0, float(input_spikes * width + width), "spike-driven")

    def reads_spikes(name, width, bias=True):
        b = float(width) if bias else 0.0
        if not event_driven:
            return OpCount(name, float(H * width), b, "dense")
        return OpCount(name, 0.0, s * width + b, "spike-driven")

    if core == "mlp":
        rows = [reads_x("encoder", H)]
    elif core in ("gru", "slstm"):
        g = 3 if core == "gru" else 4
        rows = [reads_x("input weights", g * H), OpCount("recurrent weights", float(g * H * H), float(g * H)),
                OpCount("gating", float(3 * H), float(5 * H))]
    elif core == "lif":
        rows = [reads_x("encoder", H), OpCount("membrane", float(H), H + s)]
    elif core == "rleaky":
        rows = [reads_x("encoder", H), reads_spikes("recurrent", H), OpCount("membrane", float(H), 2 * H + s)]
    else:  # grsn
        rows = [reads_x("encoder", H)]
        if gate_input == "spikes":
            rows.append(reads_spikes("gates", 2 * H))
        elif gate_input == "input":
            rows.append(reads_x("gates", 2 * H))
        else:
            rows += [reads_x("gates (input)", 2 * H), reads_spikes("gates (spikes)", 2 * H, bias=False)]
        rows += [OpCount("gating", float(2 * H), float(2 * H)), OpCount("membrane", float(H), 2 * H + s)]
    rows = [row.scaled(substeps) for row in rows]
    if A:
        spiking = core in ("lif", "grsn", "rleaky", "slstm")
        if not spiking or readout == "membrane":
            rows.append(OpCount("readout", float(H * A), float(A)))
        else:
            dense = substeps > 1 or not event_driven  # non-TAP reads rates; dense hardware ignores sparsity
            spike_mac, spike_ac = (float(H * A), 0.0) if dense else (0.0, s * A)
            mem_mac = float(H * A) if readout == "both" else 0.0
            rows.append(OpCount("readout", spike_mac + mem_mac, spike_ac + A))
    return EnergyReport(rows, 1)


def rate_for_energy(target_pj: float, core: str, input_size: int, hidden_size: int, **options) -> float:
    """The firing rate at which :func:`analytic_ops` gives ``target_pj`` per decision (energy is linear in it).

    May lie outside [0, 1]: then no firing rate reaches the target (above 1: the core is cheaper than the target
    even with every unit firing at every update). ``options`` go to :func:`analytic_ops`.

    Example:
        >>> gru = analytic_ops("gru", 2, 128).energy_pj()
        >>> rate_for_energy(0.5 * gru, "grsn", 2, 128) > 1      # GRSN never costs half a GRU here
        True
    """
    e0 = analytic_ops(core, input_size, hidden_size, 0.0, **options).energy_pj()
    e1 = analytic_ops(core, input_size, hidden_size, 1.0, **options).energy_pj()
    if e1 == e0:
        raise ValueError(f"the energy of {core!r} with these options does not depend on the firing rate")
    return (float(target_pj) - e0) / (e1 - e0)
