r"""Recurrent cores that any algorithm swaps by name: ``mlp``, ``gru``, ``lif``, ``grsn``, ``grsn-eq17``,
``grsn-first-release``, ``rleaky``, ``slstm``.

Every core has one interface::

    core = make_core("grsn", input_size=4, hidden_size=64)
    state = core.initial_state(batch_size=8)          # dict of (B, H) tensors, owned by the caller
    out, state = core(x, state, episode_start=starts)  # x (T, B, I) -> out (T, B, core.output_size)

* ``x`` is a sequence ``(T, B, I)``; acting in an environment is the same call with ``T = 1``.
* ``episode_start`` ``(T, B)`` bool: where it is True, that batch entry's state is reset to the initial state
  *before* step t is computed, so one batch may span episode boundaries (training on stored sequences).
* The state is an explicit value: a ``dict`` of tensors the caller keeps and passes back. Nothing is kept on
  the module between calls and nothing goes through snnTorch's class-wide instance registry.
* ``trace``: pass a :class:`Trace` to record per-step internals (spikes, membrane, gates) for plots and for
  energy accounting; with ``trace=None`` (the default) nothing is recorded and nothing is paid.

One time loop serves every recurrent core: :class:`Core` runs it, and a core supplies :meth:`Core.precompute`
(the work done once per sequence, such as the input current :math:`W_x x_t + b_x` of all T steps in one matrix
product) and :meth:`Core.step` (one update). Each core also declares its synapse layers
(:meth:`Core.synapse_layers`) and element-wise operations (:meth:`Core.elementwise_ops`), from which its
operations are counted (:meth:`Core.op_counts`, :mod:`grsn_edu.snn.energy`).

Spiking cores follow the temporal alignment paradigm (TAP) by default: one spiking update per input step, so the
membrane carried from one environment step to the next is the agent's memory. ``make_core(..., substeps=4)``
wraps a spiking core in :class:`SubstepCore`, the usual non-TAP form: 4 spiking sub-steps per input, output
averaged over them (rate code).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import snntorch as snn
import torch
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

from grsn_edu.snn.neurons import (
    GATE_INPUTS,
    atan_spike,
    atan_spike_at_threshold,
    gated_current_step,
    grsn_sequence,
    leaky_step,
)
from grsn_edu.snn.ops import OpCount, Synapse, linear_ops
from grsn_edu.snn.trace import Trace
from grsn_edu.util.validation import check_int

__all__ = [
    "READOUTS", "unregister_neuron", "Core", "MLPCore", "GRUCore", "LIFCore", "GRSNCore", "GRSNFirstReleaseCore",
    "GRSNEq17Core", "RLeakyCore", "SLSTMCore", "SubstepCore", "CORE_NAMES", "core_class", "make_core",
    "count_parameters", "Trace",
]


#: Readouts a spiking core can expose: its spikes (binary), its membrane potential (real), or both, concatenated.
READOUTS = ("spikes", "membrane", "both")

#: The trace record that holds what a synapse reads (see :class:`~grsn_edu.snn.ops.Synapse`); ``"state"``
#: synapses are counted dense and need no record.
_TRACE_KEYS = {"x": "x", "spikes": "spk_prev"}


def unregister_neuron(neuron: nn.Module) -> None:
    """Remove an snnTorch neuron from snnTorch's class-wide registry.

    snnTorch appends every neuron it builds to ``SpikingNeuron.instances`` so that ``utils.reset`` can reset them
    all at once; that list keeps every network ever built alive and lets one network's reset touch another's
    (snnTorch issue #438). Our state is explicit, so the registry has no use here.
    """
    SpikingNeuron.instances[:] = [n for n in SpikingNeuron.instances if n is not neuron]


class Core(nn.Module):
    """Base class: argument checks, the time loop, episode-start resets and operation counts.

    A recurrent core supplies two methods and :class:`Core` runs them over the sequence::

        per_step, records = core.precompute(x)        # once per sequence
        for t in range(T):
            if episode_start is not None:
                state = state * (1 - episode_start[t])   # per entry, for every name in core.state_names
            out[t], state = core.step(per_step[t], state, trace)
        trace.put(name, value) for each of records     # only with a trace

    Inside the loop ``state`` may hold entries besides ``state_names``: values a step derives from the state and
    hands to the next one (GRSN's previous spikes). They are dropped wherever the state is reset, so ``step``
    recomputes them from the reset state, and they are not returned.

    A core whose steps do not depend on each other (:class:`MLPCore`) or that has a fused implementation
    (:class:`GRUCore`, ``nn.GRU``) replaces the loop (``_run``) with a vectorised path and keeps a ``step`` that
    gives the same numbers up to float rounding; :class:`SubstepCore` runs its inner core's loop over the sub-steps.

    For the energy count a core declares its synapse layers (:meth:`synapse_layers`) and its element-wise
    operations (:meth:`elementwise_ops`); :meth:`op_counts` counts both on a recorded trace, and
    :func:`grsn_edu.snn.energy.analytic_ops` evaluates the same declarations at a chosen firing rate.

    Attributes:
        input_size: I, features per input step.
        hidden_size: H, units in the recurrent layer.
        output_size: features per output step (H, or 2H for a spiking core with ``readout="both"``).
        spiking: whether the hidden units communicate with binary spikes.
        substeps: spiking updates per input step (1 = TAP).
        state_names: the keys of the state dict.
        layer_options: constructor options that change which layers the core has; they are passed, by name, to
            :meth:`synapse_layers` and :meth:`elementwise_ops`.
    """

    state_names: tuple[str, ...] = ()
    layer_options: tuple[str, ...] = ()
    spiking = False
    substeps = 1

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.output_size = self.hidden_size

    @property
    def name(self) -> str:
        return self._name

    def initial_state(self, batch_size: int) -> dict[str, torch.Tensor]:
        """The state at an episode start: zeros, ``{name: (batch_size, H)}``."""
        batch_size = check_int("batch_size", batch_size)
        ref = next(self.parameters())
        return {
            k: torch.zeros(batch_size, self.hidden_size, dtype=ref.dtype, device=ref.device)
            for k in self.state_names
        }

    def forward(
        self,
        x: torch.Tensor,
        state: dict[str, torch.Tensor] | None = None,
        episode_start: torch.Tensor | None = None,
        trace: Trace | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run the core over a sequence.

        Args:
            x: ``(T, B, I)`` input sequence, ``T >= 1``.
            state: from :meth:`initial_state` or a previous call; ``None`` means the initial state.
            episode_start: optional ``(T, B)`` bool; True resets that entry's state before step t.
            trace: optional :class:`Trace` that receives per-step internals.

        Returns:
            ``(outputs, final_state)``: outputs ``(T, B, output_size)``, final_state like ``state``.
        """
        self._check_input(x)
        T, B = x.shape[0], x.shape[1]
        state = self.initial_state(B) if state is None else self._check_state(state, B)
        keep = None
        if episode_start is not None:
            keep = self._keep_mask(episode_start, T, B, x)
        return self._run(x, state, keep, trace)

    # -- the time loop ------------------------------------------------------------------------------------------
    def precompute(self, x: torch.Tensor) -> tuple[Sequence, dict[str, torch.Tensor]]:
        """The work done once per sequence, before the time loop.

        Args:
            x: ``(T, B, I)``, already checked.

        Returns:
            ``(per_step, records)``: ``per_step[t]`` is what :meth:`step` receives at step t (by default
            ``x[t]``, ``(B, I)``); ``records`` maps trace names to whole sequences ``(T, B, ...)`` (by default
            ``{"x": x}``), put into the trace after the loop.
        """
        return x.unbind(0), {"x": x}

    def step(self, inputs, state: dict[str, torch.Tensor], trace: Trace | None):
        """One update: ``(out_t, state)`` from step t's entry of :meth:`precompute` and the state ``(B, H)``.

        ``out_t`` is ``(B, output_size)``; the step records its per-step internals in ``trace`` when one is given.
        A single environment step is ``core(x[None], state)``, which runs :meth:`precompute` and this method once.
        """
        raise NotImplementedError(f"{type(self).__name__} has no per-step update")

    def _run(self, x, state, keep, trace):
        # keep: (T, B, 1), 0 where an episode starts (see _keep_mask), or None
        per_step, records = self.precompute(x)
        step, names = self.step, self.state_names
        outs = []
        for t, inputs in enumerate(per_step):
            if keep is not None:  # derived entries are dropped: step recomputes them from the reset state
                state = {k: state[k] * keep[t] for k in names}
            out, state = step(inputs, state, trace)
            outs.append(out)
        if trace is not None:
            for name, value in records.items():
                trace.put(name, value)
        return torch.stack(outs), {k: state[k] for k in names}

    # -- checks -------------------------------------------------------------------------------------------------
    def _check_input(self, x) -> None:
        shape = f"(T, B, {self.input_size})"
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"{self.name}: x must be a torch.Tensor of shape {shape}, got {type(x).__name__}")
        if x.dim() != 3:
            raise ValueError(
                f"{self.name}: x must have shape {shape} (time, batch, features), got {tuple(x.shape)}; "
                "for a single step use x[None] to add T=1"
            )
        if x.shape[0] < 1:
            raise ValueError(f"{self.name}: the sequence needs T >= 1 steps, got T={x.shape[0]}")
        if x.shape[1] < 1:
            raise ValueError(f"{self.name}: the batch needs B >= 1 entries, got B={x.shape[1]}")
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"{self.name}: expected {self.input_size} input features (x of shape {shape}), "
                f"got {x.shape[2]} (x of shape {tuple(x.shape)})"
            )
        if not x.is_floating_point():
            raise ValueError(f"{self.name}: x must be a floating-point tensor, got dtype {x.dtype}")
        ref = next(self.parameters())
        if x.dtype != ref.dtype or x.device != ref.device:
            raise ValueError(
                f"{self.name}: x is {x.dtype} on {x.device} but the core's parameters are {ref.dtype} on "
                f"{ref.device}; pass x.to({ref.dtype}) (numpy arrays are float64: use "
                "torch.as_tensor(a, dtype=torch.float32)) or convert the core"
            )

    def _check_state(self, state, batch_size: int) -> dict[str, torch.Tensor]:
        if not isinstance(state, dict) or set(state) != set(self.state_names):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"{self.name}: state must be a dict with keys {sorted(self.state_names)} as made by "
                f"core.initial_state(batch_size), got {got}"
            )
        for k, v in state.items():
            if not isinstance(v, torch.Tensor) or v.dim() != 2:
                raise ValueError(
                    f"{self.name}: state[{k!r}] must be a (B, H) tensor, got {getattr(v, 'shape', type(v))}"
                )
            if v.shape[0] != batch_size:
                raise ValueError(
                    f"{self.name}: the state was made for batch size {v.shape[0]} but x has batch size {batch_size}; "
                    f"use core.initial_state({batch_size}) or keep the batch size fixed"
                )
            ref = next(self.parameters())
            if v.dtype != ref.dtype or v.device != ref.device:
                raise ValueError(
                    f"{self.name}: state[{k!r}] is {v.dtype} on {v.device}, the core is {ref.dtype} on {ref.device}"
                )
            if v.shape[1] != self.hidden_size:
                raise ValueError(
                    f"{self.name}: state[{k!r}] has {v.shape[1]} units, this core has hidden_size={self.hidden_size}; "
                    "the state comes from another core"
                )
        return state

    def _keep_mask(self, episode_start, T: int, B: int, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(episode_start, torch.Tensor) or episode_start.dtype != torch.bool:
            got = episode_start.dtype if isinstance(episode_start, torch.Tensor) else type(episode_start).__name__
            raise ValueError(
                f"{self.name}: episode_start must be a bool tensor of shape (T, B) = ({T}, {B}), got {got}"
            )
        if tuple(episode_start.shape) != (T, B):
            raise ValueError(
                f"{self.name}: episode_start must have shape (T, B) = ({T}, {B}) like x, "
                f"got {tuple(episode_start.shape)}"
            )
        # (T, B, 1) float: 0 where the state is reset before step t, 1 where it is kept
        return (~episode_start).to(device=x.device, dtype=x.dtype).unsqueeze(-1)

    # -- operation counts ---------------------------------------------------------------------------------------
    @classmethod
    def synapse_layers(cls, input_size: int, hidden_size: int, **options) -> tuple[Synapse, ...]:
        """The core's synapse (linear) layers, in the order of its operation counts.

        ``options`` are the values of :attr:`layer_options` (e.g. GRSN's ``gate_input``); without them, the
        constructor's defaults. A classmethod, so that formulas need no built core.
        """
        raise NotImplementedError

    @classmethod
    def elementwise_ops(cls, hidden_size: int, updates: int, resets: float, **options) -> list[OpCount]:
        """Operations inside the units (gating, membrane) over ``updates`` updates of the layer of H units, with
        ``resets`` reset subtractions (spikes at the previous update) among them. ``options``: as in
        :meth:`synapse_layers`."""
        return []

    def _layer_option_values(self) -> dict:
        return {name: getattr(self, name) for name in self.layer_options}

    @property
    def synapses(self) -> tuple[Synapse, ...]:
        """This core's synapse layers (:meth:`synapse_layers` with its own sizes and options)."""
        return self.synapse_layers(self.input_size, self.hidden_size, **self._layer_option_values())

    def op_counts(self, trace: Trace) -> list[OpCount]:
        """Total synaptic and neuron operations (MAC/AC) of the forward pass recorded in ``trace``.

        One row per synapse layer (counted on what it read: the input ``x`` or the previous spikes ``spk_prev``
        as measured; a real-valued recurrent state dense), then the element-wise rows. Not per decision:
        :func:`grsn_edu.snn.energy.count_core_ops` divides by the number of decisions.
        """
        x = trace["x"]
        updates = x.shape[0] * x.shape[1]
        rows = []
        for syn in self.synapses:
            if syn.reads == "state":
                bias_ac = float(updates * syn.out_features) if syn.bias else 0.0
                rows.append(OpCount(syn.layer, float(updates * syn.in_features * syn.out_features), bias_ac, syn.note))
            else:
                rows.append(linear_ops(syn.layer, trace[_TRACE_KEYS[syn.reads]], syn.out_features, bias=syn.bias,
                                       note=syn.note))
        return rows + self.elementwise_ops(self.hidden_size, updates, self._resets(trace),
                                           **self._layer_option_values())

    #: True where the reset follows a spike within the same step (the authors' cells), False where it comes at the
    #: next update (snnTorch's ``Leaky``)
    _reset_in_same_step = False

    def _resets(self, trace: Trace) -> float:
        """Reset subtractions in the recorded pass: one per spike, at the same or at the next update."""
        if self._reset_in_same_step:
            return float(torch.count_nonzero(trace["spk"]))
        return float(torch.count_nonzero(trace["spk_prev"])) if "spk_prev" in trace else 0.0

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"


class MLPCore(Core):
    r"""No memory: :math:`h_t = \mathrm{ReLU}(W x_t + b)`. The baseline that cannot solve a POMDP.

    With no recurrence it runs all steps at once (tested equal to the shared time loop over :meth:`step`).

    Example:
        >>> import torch
        >>> core = MLPCore(4, 8)
        >>> out, state = core(torch.randn(5, 2, 4), core.initial_state(2))
        >>> tuple(out.shape), state
        ((5, 2, 8), {})
    """

    _name = "mlp"
    state_names = ()

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        self.encoder = nn.Linear(self.input_size, self.hidden_size)

    def step(self, x_t, state, trace):
        h = torch.relu(self.encoder(x_t))
        if trace is not None:
            trace.add("h", h)
        return h, state

    def _run(self, x, state, keep, trace):
        h = torch.relu(self.encoder(x))
        if trace is not None:
            trace.put("x", x)
            trace.put("h", h)
        return h, state

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return (Synapse("encoder", "x", input_size, hidden_size),)


class GRUCore(Core):
    r"""``torch.nn.GRU``, one layer: the conventional recurrent baseline.

    State ``{"h": (B, H)}``. Runs cuDNN-style fused over the sequence between episode starts (tested equal to the
    shared time loop over :meth:`step`).

    Example:
        >>> import torch
        >>> core = GRUCore(4, 8)
        >>> out, state = core(torch.randn(5, 2, 4))
        >>> tuple(out.shape), tuple(state["h"].shape)
        ((5, 2, 8), (2, 8))
    """

    _name = "gru"
    state_names = ("h",)

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        self.gru = nn.GRU(self.input_size, self.hidden_size)

    def step(self, x_t, state, trace):
        y, h = self.gru(x_t.unsqueeze(0), state["h"].unsqueeze(0))
        if trace is not None:
            trace.add("h", y[0])
        return y[0], {"h": h[0]}

    def _run(self, x, state, keep, trace):
        h = state["h"]
        T = x.shape[0]
        # Split the sequence where any entry starts an episode; each segment runs as one fused nn.GRU call.
        if keep is None:
            cuts = [0]
        else:
            cuts = [0] + [t for t in range(1, T) if bool((keep[t] == 0).any())]
        outs = []
        for i, t0 in enumerate(cuts):
            t1 = cuts[i + 1] if i + 1 < len(cuts) else T
            if keep is not None:
                h = h * keep[t0]
            y, h_n = self.gru(x[t0:t1], h.unsqueeze(0))
            h = h_n.squeeze(0)
            outs.append(y)
        out = torch.cat(outs) if len(outs) > 1 else outs[0]
        if trace is not None:
            trace.put("x", x)
            trace.put("h", out)
        return out, {"h": h}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return _gated_rnn_synapses(input_size, hidden_size, gates=3, recurrent_note="real-valued h_{t-1}")

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        # r*(W_hn h + b_hn), z*h, (1-z)*n are 3 multiplies; r, z, n pre-activation sums, 1-z, final sum are 5 adds
        return [_gated_rnn_gating(hidden_size, updates)]


def _gated_rnn_synapses(input_size: int, hidden_size: int, gates: int, recurrent_note: str) -> tuple[Synapse, ...]:
    """A gated RNN cell's weights (GRU: 3 gate blocks, LSTM: 4): dense on the input and on the real-valued
    recurrent state, each with a bias."""
    return (
        Synapse("input weights", "x", input_size, gates * hidden_size),
        Synapse("recurrent weights", "state", hidden_size, gates * hidden_size, note=recurrent_note),
    )


def _gated_rnn_gating(hidden_size: int, updates: int) -> OpCount:
    """Element-wise, a GRU and an LSTM cell both have 3 multiplies and 5 adds per unit and step."""
    return OpCount("gating", mac=float(updates * 3 * hidden_size), ac=float(updates * 5 * hidden_size),
                   note="element-wise")


class _SpikingCore(Core):
    """Shared parts of the spiking cores: readout choice, learnable per-neuron beta, threshold."""

    spiking = True

    def __init__(self, input_size, hidden_size, readout="spikes", beta=0.9, threshold=1.0, learn_beta=True):
        super().__init__(input_size, hidden_size)
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        try:
            beta, threshold = float(beta), float(threshold)
        except (TypeError, ValueError):
            raise ValueError(
                f"beta and threshold must be numbers (one initial value for all neurons; beta is then learned per "
                f"neuron), got beta={beta!r}, threshold={threshold!r}"
            ) from None
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta (membrane decay per step) must lie in [0, 1], got {beta}")
        if not threshold > 0.0:
            raise ValueError(f"threshold must be > 0, got {threshold}")
        self.readout = readout
        self.output_size = 2 * self.hidden_size if readout == "both" else self.hidden_size
        self.beta_init = float(beta)
        self.threshold = float(threshold)
        self.learn_beta = bool(learn_beta)

    def _leaky_membrane(self) -> snn.Leaky:
        """The layer's snnTorch ``Leaky``: per-neuron beta, threshold, subtract reset, atan surrogate; kept out of
        snnTorch's instance registry. The cores use its parameters with :func:`~grsn_edu.snn.neurons.leaky_step`."""
        leaky = snn.Leaky(
            beta=torch.full((self.hidden_size,), self.beta_init),
            threshold=self.threshold,
            learn_beta=self.learn_beta,
            reset_mechanism="subtract",
            spike_grad=atan_spike,
        )
        unregister_neuron(leaky)
        return leaky

    def _output(self, spk: torch.Tensor, mem: torch.Tensor, trace: Trace | None) -> torch.Tensor:
        """Step t's output (the readout of spikes and membrane), recording both when tracing."""
        if trace is not None:
            trace.add("spk", spk)
            trace.add("mem", mem)
        if self.readout == "spikes":
            return spk
        if self.readout == "membrane":
            return mem
        return torch.cat([spk, mem], dim=-1)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, readout={self.readout!r}, beta_init={self.beta_init}, "
            f"threshold={self.threshold}, learn_beta={self.learn_beta}"
        )


def _membrane_ops(hidden_size: int, updates: int, resets: float, currents: int, note: str) -> OpCount:
    """A leaky membrane: ``beta * U`` is one MAC per unit; adding each of ``currents`` input currents and the
    reset (when it happens) one AC each."""
    return OpCount("membrane", mac=float(updates * hidden_size), ac=float(updates * currents * hidden_size) + resets,
                   note=note)


class LIFCore(_SpikingCore):
    r"""A layer of plain snnTorch ``Leaky`` neurons under TAP: one membrane update per input step.

    .. math::

        I_t = W_x x_t + b_x,\qquad U_t = \beta U_{t-1} + I_t - \Theta(U_{t-1}-U_{thr}) U_{thr},
        \qquad S_t = \Theta(U_t - U_{thr})

    The membrane is snnTorch's ``Leaky`` (subtract reset, atan surrogate); ``beta`` is learnable per neuron.
    Its only memory is the membrane, which forgets as :math:`\beta^t`.

    State ``{"mem": (B, H)}``. Output: spikes, membrane or both (``readout``).

    Example:
        >>> import torch
        >>> core = LIFCore(4, 8, readout="membrane")
        >>> out, state = core(torch.randn(5, 2, 4))
        >>> tuple(out.shape), sorted(state)
        ((5, 2, 8), ['mem'])
    """

    _name = "lif"
    state_names = ("mem",)

    def __init__(self, input_size, hidden_size, readout="spikes", beta=0.9, threshold=1.0, learn_beta=True):
        super().__init__(input_size, hidden_size, readout, beta, threshold, learn_beta)
        self.encoder = nn.Linear(self.input_size, self.hidden_size)
        # The membrane's parameters live in a real snnTorch Leaky (per-neuron learnable beta, threshold, surrogate).
        self.leaky = self._leaky_membrane()

    @property
    def beta(self) -> torch.Tensor:
        """Per-neuron membrane decay, ``(H,)`` (clamped to [0, 1] when used)."""
        return self.leaky.beta

    def precompute(self, x):
        drive = self.encoder(x)  # I_t for all steps at once: (T, B, H)
        # unbind once: T views with one backward node, cheaper than T separate index operations
        return drive.unbind(0), {"drive": drive, "x": x}

    def step(self, drive_t, state, trace):
        mem = state["mem"]
        reset = (mem > self.threshold).to(mem.dtype)
        if trace is not None:
            trace.add("spk_prev", reset)
        spk, mem = leaky_step(drive_t, mem, self.leaky.beta, self.threshold, reset=reset)
        return self._output(spk, mem, trace), {"mem": mem}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return (Synapse("encoder", "x", input_size, hidden_size),)

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        return [_membrane_ops(hidden_size, updates, resets, 1, "beta*U; +current; -reset")]


class GRSNCore(_SpikingCore):
    r"""Gated recurrent spiking neurons (GRSN), this project's variant: a leaky spiking membrane fed by a gated
    recurrent current. The cell of the paper's Eq. 17, as its authors later wrote it, is
    :class:`GRSNEq17Core`; their first released cell is :class:`GRSNFirstReleaseCore`.

    .. math::

        g_t &= o_{t-1}\ \ (\texttt{gate\_input="spikes"}),\quad x_t\ \ (\texttt{"input"}),\quad
               [x_t; o_{t-1}]\ \ (\texttt{"both"})\\
        F_t &= \sigma(W_F g_t + b_F) \qquad\text{forget gate}\\
        \tilde I_t &= \tanh(W_I g_t + b_I) \qquad\text{input (candidate) current}\\
        c_t &= F_t \odot c_{t-1} + (1 - F_t) \odot \tilde I_t\\
        U_t &= \beta \odot U_{t-1} + W_x x_t + b_x + c_t - o_{t-1} U_{thr}\\
        o_t &= \Theta(U_t - U_{thr})

    Symbols: :math:`x_t` input ``(B, I)``; :math:`o_t` output spikes ``(B, H)``; :math:`U_t` membrane
    ``(B, H)``; :math:`c_t` gated current ``(B, H)``, the long memory; :math:`F_t` forget gate in (0, 1);
    :math:`\tilde I_t` candidate current in (-1, 1); :math:`\beta` per-neuron learnable decay;
    :math:`U_{thr}` threshold; :math:`\Theta` Heaviside step, trained through snnTorch's atan surrogate;
    the reset :math:`o_{t-1} U_{thr}` is subtracted and carries no gradient (snnTorch's ``Leaky``, which this
    membrane is: :func:`grsn_edu.snn.neurons.leaky_step`).

    What is certain and what is a choice. Certain from the paper's public description (its abstract and the
    caption of its Fig. 2): one spiking update per environment step (TAP); a recurrent connection into two gates,
    a forget gate F and an input gate I, on the neuron's input current, which charges the membrane. The authors'
    later rewrite of their cell, which says it follows the paper's Eq. 17 (:class:`GRSNEq17Core`,
    ``make_core("grsn-eq17", ...)``), drives both gates with the previous spikes, as this core does by default:
    :math:`c_t = F_t c_{t-1} + (1 - F_t) I_t` with :math:`F_t, I_t` functions of :math:`o_{t-1}`, the input's
    projection added to :math:`c_t`. The first released cell (:class:`GRSNFirstReleaseCore`,
    ``make_core("grsn-first-release", ...)``) drives them with the input :math:`x_t` instead. This core is this
    project's variant, close to the Eq. 17 cell, and keeps its own choices, none quoted from the paper or the
    code: what drives the gates (``gate_input``; default ``"spikes"``, the previous spikes, which makes the gate
    synapses spike-driven, i.e. accumulates only); ``tanh`` as the candidate non-linearity (Eq. 17 cell: ReLU);
    the input current :math:`W_x x_t` and :math:`c_t` added unscaled (Eq. 17 cell: scaled by
    :math:`1 - \beta`); a learnable per-neuron :math:`\beta` clamped to [0, 1] (Eq. 17 cell:
    :math:`\sigma(\rho)`); the reset of snnTorch's ``Leaky``, at the step after the spike and without gradient
    (Eq. 17 cell: in the same step, with its gradient); ``forget_bias`` (initial :math:`b_F`); the membrane
    carried from one call to the next (TAP). The notebooks measure what each choice does.

    With ``gates=False`` the gated current is switched off (:math:`c_t = 0`) and the core is exactly
    ``Linear`` + snnTorch ``Leaky`` (tested).

    Args:
        input_size: I.
        hidden_size: H.
        gate_input: ``"spikes"``, ``"input"`` or ``"both"`` (see above).
        readout: ``"spikes"``, ``"membrane"`` or ``"both"`` (concatenated, output size 2H).
        beta: initial membrane decay (all neurons); learnable per neuron if ``learn_beta``.
        threshold: firing threshold :math:`U_{thr}`.
        forget_bias: initial forget-gate bias; larger keeps :math:`c` longer at initialisation.
        gates: False switches the gated current off (plain LIF).

    State ``{"mem": (B, H), "cur": (B, H)}``; the previous spikes are recomputed from ``mem``.

    Example:
        >>> import torch
        >>> from grsn_edu import make_core, Trace
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> core = make_core("grsn", input_size=4, hidden_size=16)
        >>> x = torch.randn(10, 3, 4)                       # (T, B, I)
        >>> trace = Trace()
        >>> out, state = core(x, core.initial_state(3), trace=trace)
        >>> tuple(out.shape), sorted(state), tuple(trace["forget"].shape)
        ((10, 3, 16), ['cur', 'mem'], (10, 3, 16))
    """

    _name = "grsn"
    state_names = ("mem", "cur")
    layer_options = ("gate_input", "gates")

    def __init__(
        self,
        input_size,
        hidden_size,
        gate_input="spikes",
        readout="spikes",
        beta=0.9,
        threshold=1.0,
        learn_beta=True,
        forget_bias=1.0,
        gates=True,
    ):
        super().__init__(input_size, hidden_size, readout, beta, threshold, learn_beta)
        if gate_input not in GATE_INPUTS:
            raise ValueError(f"gate_input must be one of {GATE_INPUTS}, got {gate_input!r}")
        I, H = self.input_size, self.hidden_size
        self.gate_input = gate_input
        self.gates = bool(gates)
        self.forget_bias = float(forget_bias)
        #: run a sequence through :func:`~grsn_edu.snn.neurons.grsn_sequence` (False: the step-by-step loop; the
        #: same numbers, slower; a call with a trace always takes the loop)
        self.fused = True
        self._gates_read_x = self.gates and gate_input in ("input", "both")
        self._gates_read_spikes = self.gates and gate_input in ("spikes", "both")
        self.encoder = nn.Linear(I, H)
        self.leaky = self._leaky_membrane()
        if self.gates:
            # Forget gate and candidate share one weight matrix: rows [0, H) are W_F, rows [H, 2H) are W_I.
            if self._gates_read_x:
                self.gate_x = nn.Linear(I, 2 * H)
            if self._gates_read_spikes:
                self.gate_o = nn.Linear(H, 2 * H, bias=(gate_input == "spikes"))
            with torch.no_grad():
                bias = self.gate_x.bias if self._gates_read_x else self.gate_o.bias
                bias[:H].fill_(self.forget_bias)

    @property
    def beta(self) -> torch.Tensor:
        """Per-neuron membrane decay, ``(H,)`` (clamped to [0, 1] when used)."""
        return self.leaky.beta

    def _run(self, x, state, keep, trace):
        if trace is not None or not self.gates or not self.fused:
            return super()._run(x, state, keep, trace)  # the step-by-step loop, which can record a trace
        # the same steps as one autograd node with a hand-written backward pass (neurons.grsn_sequence)
        spk, mem, cur = grsn_sequence(
            self.encoder(x), self.gate_x(x) if self._gates_read_x else None,
            self.gate_o.weight if self._gates_read_spikes else None,
            self.gate_o.bias if self._gates_read_spikes else None,
            self.leaky.beta, state["mem"], state["cur"], keep, self.threshold)
        return self._output(spk, mem, None), {"mem": mem[-1], "cur": cur[-1]}

    def precompute(self, x):
        drive = self.encoder(x)  # W_x x_t + b_x for all steps: (T, B, H)
        gate_x = self.gate_x(x) if self._gates_read_x else None  # the gates' input part, all steps: (T, B, 2H)
        # unbind once: T views with one backward node, cheaper than T separate index operations
        drive_t = drive.unbind(0)
        gate_x_t = gate_x.unbind(0) if gate_x is not None else (None,) * len(drive_t)
        return tuple(zip(drive_t, gate_x_t)), {"x": x, "drive": drive}

    def step(self, inputs, state, trace):
        drive_t, gate_x_t = inputs
        thr = self.threshold
        mem, cur = state["mem"], state["cur"]
        spk_prev = state.get("spk_prev")
        if spk_prev is None:  # the first step, or the state was reset: o_{t-1} from the membrane
            spk_prev = atan_spike(mem - thr)  # with a surrogate gradient into the previous membrane
        if self.gates:
            if not self._gates_read_spikes:
                pre = gate_x_t
            elif gate_x_t is None:
                pre = self.gate_o(spk_prev)
            else:
                pre = torch.addmm(gate_x_t, spk_prev, self.gate_o.weight.t())
            cur, forget, cand = gated_current_step(pre, cur)
            current = drive_t + cur
        else:
            current = drive_t
        if trace is not None:
            trace.add("spk_prev", spk_prev)
            if self.gates:
                trace.add("forget", forget)
                trace.add("candidate", cand)
                trace.add("cur", cur)
        # the reset is the previous spike (same comparison), without its gradient, as in snnTorch
        spk, mem = leaky_step(current, mem, self.leaky.beta, thr, reset=spk_prev.detach())
        return self._output(spk, mem, trace), {"mem": mem, "cur": cur, "spk_prev": spk}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size, gate_input="spikes", gates=True):
        layers = [Synapse("encoder", "x", input_size, hidden_size)]
        if gates:
            both = gate_input == "both"
            if gate_input in ("input", "both"):
                layers.append(Synapse("gates (input)" if both else "gates", "x", input_size, 2 * hidden_size))
            if gate_input in ("spikes", "both"):
                layers.append(Synapse("gates (spikes)" if both else "gates", "spikes", hidden_size, 2 * hidden_size,
                                      bias=not both))
        return tuple(layers)

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets, gate_input="spikes", gates=True):
        if not gates:
            return [_membrane_ops(hidden_size, updates, resets, 1, "beta*U; +current; -reset")]
        n2h = float(updates * 2 * hidden_size)
        return [OpCount("gating", mac=n2h, ac=n2h, note="F*c, (1-F)*I; 1-F, sum"),
                _membrane_ops(hidden_size, updates, resets, 2, "beta*U; +drive, +c; -reset")]

    def extra_repr(self) -> str:
        return (f"{super().extra_repr()}, gate_input={self.gate_input!r}, forget_bias={self.forget_bias}, "
                f"gates={self.gates}")


class GRSNFirstReleaseCore(_SpikingCore):
    r"""GRSN as its authors first released it: a gated current read from the input charges a LIF membrane with
    fixed tau.

    .. math::

        F_t &= \sigma(W_F x_t + b_F) \qquad\text{forget gate}\\
        C_t &= \mathrm{ReLU}(W_I x_t + b_I) \qquad\text{candidate}\\
        h_t &= F_t \odot h_{t-1} + (1 - F_t) \odot C_t\\
        \hat V_t &= V_{t-1} + (h_t - V_{t-1}) / \tau \qquad\text{charge}\\
        o_t &= \Theta(\hat V_t - V_{thr})\\
        V_t &= \hat V_t - o_t V_{thr} \qquad\text{soft reset, with its gradient}

    Symbols: :math:`x_t` input ``(B, I)``; :math:`h_t` gated current ``(B, H)``, the memory carried from call to
    call; :math:`F_t` forget gate in (0, 1); :math:`C_t` candidate, :math:`\ge 0`; :math:`V_t` membrane
    ``(B, H)`` after the reset, :math:`\hat V_t` before it; :math:`o_t` output spikes ``(B, H)``; :math:`\tau`
    membrane time constant, fixed (default 2, not learned); :math:`V_{thr}` threshold (default 1);
    :math:`\Theta` Heaviside step with :math:`\Theta(0) = 1`, trained through the atan surrogate
    (:func:`~grsn_edu.snn.neurons.atan_spike_at_threshold`: SpikingJelly's ``surrogate.ATan()``, whose gradient
    is snnTorch's atan at alpha = 2). The charge is :math:`(1 - 1/\tau) V_{t-1} + h_t / \tau`: a leak of
    :math:`\beta = 1 - 1/\tau = 0.5` on the membrane and the input scaled by :math:`1/\tau`.

    Where this comes from. Everything above, read from the first release of GitHub StillWolf/GRSN-SNN: the cell in
    ``grsn/policies/rlifs/RecurrentLIF.py`` (``RecurrentCell``, a SpikingJelly ``LIFNode`` with ``tau=2``
    fixed, ``decay_input=True``, ``v_reset=0``, threshold 1, ``surrogate.ATan()``, ``detach_reset=False`` and
    the subtract reset ``v - spike * v_threshold``; the gates on the previous spikes are commented out), and
    the initialisation from ``grsn/policies/spiking_actor.py``, which re-initialises the cell's weights
    orthogonally and its biases to zero (done here at construction). Their forward pass ends with
    ``functional.reset_net``, which zeroes the membrane after every call: acting (one call per environment
    step, T = 1) the membrane starts from 0 at every step and only :math:`h` carries over, while a training
    call on a T-step sequence carries :math:`V` over its T steps. ``reset_membrane_each_call=True`` (the
    default) reproduces that, so acting and training see different membranes;
    ``reset_membrane_each_call=False`` carries :math:`V` from call to call like :math:`h` (TAP, this
    project's convention), so T single-step calls equal one T-step call. That option is this project's; the
    cell is one layer (the authors' module also stacks layers).

    The authors' later rewrite of the cell (:class:`GRSNEq17Core`) calls this cell an incorrect implementation of
    the paper's Eq. 17, whose gates read the previous spikes: this is the paper's first code, not its method as
    the authors state it. It shares nothing with :class:`GRSNCore`, this project's own variant (gates on the
    previous spikes, ``tanh`` candidate, a direct drive :math:`W_x x_t`, learnable per-neuron :math:`\beta`, reset
    without gradient, membrane carried across calls).

    Energy: both gates read the real-valued input, so their synapses cost MACs (two rows, ``forget gate`` and
    ``candidate``); there is no encoder and no synapse driven by spikes inside the cell; the reset is paid at
    the step of the spike.

    Args:
        input_size: I.
        hidden_size: H.
        readout: ``"spikes"`` (the authors' output), ``"membrane"`` (:math:`V_t`) or ``"both"``.
        tau: membrane time constant, > 1, fixed.
        threshold: :math:`V_{thr}`.
        reset_membrane_each_call: True zeroes the membrane at the start of every call (the authors'
            ``reset_net``); False carries it in the state.

    State ``{"h": (B, H), "mem": (B, H)}``, like an LSTM's (h, c); an episode start resets both. With
    ``reset_membrane_each_call`` the returned ``"mem"`` is zeros: nothing of the membrane carries over.

    Example:
        >>> import torch
        >>> from grsn_edu import make_core
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> core = make_core("grsn-first-release", input_size=4, hidden_size=16)
        >>> x = 3 * torch.randn(10, 3, 4)                   # (T, B, I)
        >>> out, state = core(x, core.initial_state(3))
        >>> tuple(out.shape), sorted(state), float(state["mem"].abs().sum())
        ((10, 3, 16), ['h', 'mem'], 0.0)
        >>> [s.layer for s in core.synapses], core.forget_gate.bias.abs().sum().item()
        (['forget gate', 'candidate'], 0.0)
    """

    _name = "grsn-first-release"
    _reset_in_same_step = True
    state_names = ("h", "mem")

    def __init__(self, input_size, hidden_size, readout="spikes", tau=2.0, threshold=1.0,
                 reset_membrane_each_call=True):
        try:
            tau = float(tau)
        except (TypeError, ValueError):
            raise ValueError(f"tau must be a number > 1, got {tau!r}") from None
        if not tau > 1.0:
            raise ValueError(f"tau (membrane time constant, in steps) must be > 1, got {tau}")
        super().__init__(input_size, hidden_size, readout, beta=1.0 - 1.0 / tau, threshold=threshold,
                         learn_beta=False)
        self.tau = tau
        self.reset_membrane_each_call = bool(reset_membrane_each_call)
        I, H = self.input_size, self.hidden_size
        self.forget_gate = nn.Linear(I, H)
        self.input_gate = nn.Linear(I, H)
        for gate in (self.forget_gate, self.input_gate):
            nn.init.orthogonal_(gate.weight)
            nn.init.zeros_(gate.bias)

    def _run(self, x, state, keep, trace):
        if self.reset_membrane_each_call:
            state = {"h": state["h"], "mem": torch.zeros_like(state["mem"])}
        out, final = super()._run(x, state, keep, trace)
        if self.reset_membrane_each_call:
            final["mem"] = torch.zeros_like(final["mem"])
        return out, final

    def precompute(self, x):
        forget_pre, cand_pre = self.forget_gate(x), self.input_gate(x)  # all steps at once: (T, B, H) each
        return tuple(zip(forget_pre.unbind(0), cand_pre.unbind(0))), {"x": x}

    def step(self, inputs, state, trace):
        forget_pre, cand_pre = inputs
        forget, cand = torch.sigmoid(forget_pre), torch.relu(cand_pre)
        h = forget * state["h"] + (1 - forget) * cand
        mem = state["mem"] + (h - state["mem"]) / self.tau
        spk = atan_spike_at_threshold(mem - self.threshold)
        mem = mem - spk * self.threshold  # not detached: the gradient flows through the reset
        if trace is not None:
            trace.add("forget", forget)
            trace.add("candidate", cand)
            trace.add("h", h)
        return self._output(spk, mem, trace), {"h": h, "mem": mem}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return (Synapse("forget gate", "x", input_size, hidden_size),
                Synapse("candidate", "x", input_size, hidden_size))

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        n = float(updates * hidden_size)
        return [OpCount("gating", mac=2 * n, ac=2 * n, note="F*h, (1-F)*C; 1-F, sum"),
                _membrane_ops(hidden_size, updates, resets, 2, "(h-V)/tau; h-V, +V; -reset")]

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, readout={self.readout!r}, "
                f"tau={self.tau}, threshold={self.threshold}, "
                f"reset_membrane_each_call={self.reset_membrane_each_call}")


class GRSNEq17Core(_SpikingCore):
    r"""GRSN as the authors' later code writes the paper's Eq. 17: gates on the previous spikes, a ReLU candidate,
    the gated current added to the input's projection, a learnable decay that also scales the input.

    .. math::

        F_t &= \sigma(W_F o_{t-1} + b_F) \qquad\text{forget gate}\\
        I_t &= \mathrm{ReLU}(W_I o_{t-1} + b_I) \qquad\text{input gate (candidate)}\\
        c_t &= F_t \odot c_{t-1} + (1 - F_t) \odot I_t \qquad\text{(Eq. 17)}\\
        u_t &= \beta \odot \hat u_{t-1} + (1 - \beta) \odot (W_{in} x_t + b_{in} + c_t)\\
        o_t &= \Theta(u_t - \vartheta)\\
        \hat u_t &= u_t - \vartheta\, o_t \qquad\text{soft reset, with its gradient (Eq. 16)}

    Symbols: :math:`x_t` input ``(B, I)``; :math:`o_t` output spikes ``(B, H)``; :math:`c_t` gated current
    ``(B, H)``; :math:`u_t` membrane before the reset, :math:`\hat u_t` after it ``(B, H)``; :math:`\beta =
    \sigma(\rho)` per-neuron decay, :math:`\rho` learned and 0 at initialisation (:math:`\beta = 0.5`);
    :math:`\vartheta` threshold (1); :math:`\Theta` Heaviside step with :math:`\Theta(0) = 1`, trained through the
    atan surrogate of slope parameter 2 (:func:`~grsn_edu.snn.neurons.atan_spike_at_threshold`). Every weight and
    bias of the three linear maps starts uniform in :math:`\pm 1/\sqrt{H}`.

    Where this comes from. The paper's method section was not within reach of this project; its abstract and the
    caption of its Fig. 2 establish one spiking update per environment step (TAP), an input current that charges
    the membrane, and "the added recurrent connection and gated unit", F and I, in GRSN. The equations above are
    those of the authors' later rewrite of the cell (GitHub StillWolf/GRSN-SNN, ``grsn/policies/rlifs/GRSN.py``
    with the state carried across calls, and the plan ``docs/superpowers/plans/2026-04-20-grsn-paper-fidelity.md``
    that quotes Eq. 16, 17 and the membrane update as the paper's and calls the first released cell, whose gates
    read :math:`x_t`, an incorrect implementation of Eq. 17). So: the paper's equations as its authors read them
    later; the first released cell is :class:`GRSNFirstReleaseCore`, this project's own variant
    :class:`GRSNCore`. What differs from :class:`GRSNCore`: ReLU instead of tanh; the input and the gated current
    scaled by :math:`1 - \beta`; :math:`\beta = \sigma(\rho)` (0.5 at start) instead of a clamped decay (0.9);
    the reset in the same step as the spike and with its gradient, instead of at the next step without it;
    :math:`\Theta(0) = 1`; the initialisation.

    Args:
        input_size: I.
        hidden_size: H.
        readout: ``"spikes"`` (the cell's output), ``"membrane"`` (:math:`\hat u_t`) or ``"both"``.
        threshold: :math:`\vartheta`.

    State ``{"mem": (B, H), "cur": (B, H), "spk": (B, H)}``: :math:`\hat u`, :math:`c` and :math:`o`, all
    carried from call to call and reset at an episode start.

    Example:
        >>> import torch
        >>> from grsn_edu import make_core
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> core = make_core("grsn-eq17", input_size=4, hidden_size=16)
        >>> out, state = core(torch.randn(10, 3, 4), core.initial_state(3))
        >>> tuple(out.shape), sorted(state), round(float(core.beta.detach().mean()), 3)
        ((10, 3, 16), ['cur', 'mem', 'spk'], 0.5)
        >>> [(s.layer, s.reads) for s in core.synapses]
        [('encoder', 'x'), ('gates', 'spikes')]
    """

    _name = "grsn-eq17"
    _reset_in_same_step = True
    state_names = ("mem", "cur", "spk")

    def __init__(self, input_size, hidden_size, readout="spikes", threshold=1.0):
        super().__init__(input_size, hidden_size, readout, beta=0.5, threshold=threshold, learn_beta=True)
        I, H = self.input_size, self.hidden_size
        self.encoder = nn.Linear(I, H)
        self.gate_o = nn.Linear(H, 2 * H)  # rows [0, H): W_F, rows [H, 2H): W_I
        self.beta_logit = nn.Parameter(torch.zeros(H))  # rho: beta = sigmoid(rho) = 0.5 at start
        bound = 1.0 / H ** 0.5
        for layer in (self.encoder, self.gate_o):
            nn.init.uniform_(layer.weight, -bound, bound)
            nn.init.uniform_(layer.bias, -bound, bound)

    @property
    def beta(self) -> torch.Tensor:
        """Per-neuron membrane decay :math:`\\sigma(\\rho)`, ``(H,)``."""
        return torch.sigmoid(self.beta_logit)

    def precompute(self, x):
        drive = self.encoder(x)  # W_in x_t + b_in for all steps: (T, B, H)
        return drive.unbind(0), {"x": x, "drive": drive}

    def step(self, drive_t, state, trace):
        H = self.hidden_size
        spk_prev = state["spk"]
        pre = self.gate_o(spk_prev)
        forget, cand = torch.sigmoid(pre[:, :H]), torch.relu(pre[:, H:])
        cur = forget * state["cur"] + (1 - forget) * cand
        beta = torch.sigmoid(self.beta_logit)
        mem = beta * state["mem"] + (1 - beta) * (drive_t + cur)
        spk = atan_spike_at_threshold(mem - self.threshold)
        mem = mem - spk * self.threshold  # not detached: the gradient flows through the reset
        if trace is not None:
            trace.add("spk_prev", spk_prev)
            trace.add("forget", forget)
            trace.add("candidate", cand)
            trace.add("cur", cur)
        return self._output(spk, mem, trace), {"mem": mem, "cur": cur, "spk": spk}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return (Synapse("encoder", "x", input_size, hidden_size),
                Synapse("gates", "spikes", hidden_size, 2 * hidden_size))

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        n2h = float(updates * 2 * hidden_size)
        n = float(updates * hidden_size)
        return [OpCount("gating", mac=n2h, ac=n2h, note="F*c, (1-F)*I; 1-F, sum"),
                OpCount("membrane", mac=2 * n, ac=3 * n + resets, note="beta*u, (1-beta)*J; 1-beta, +c, +u; -reset")]

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, readout={self.readout!r}, " \
               f"threshold={self.threshold}"


class RLeakyCore(_SpikingCore):
    r"""snnTorch ``RLeaky``: a leaky spiking layer with all-to-all recurrent spikes, under TAP.

    .. math:: U_t = \beta U_{t-1} + W_x x_t + b_x + V o_{t-1} + b_V - \Theta(U_{t-1}-U_{thr}) U_{thr}

    The parameters are an ``snntorch.RLeaky`` module's (beta, recurrent ``nn.Linear``, threshold); the step is
    :func:`~grsn_edu.snn.neurons.leaky_step` with the recurrent current (``RLeaky.forward`` stores its tensors on
    the module), tested equal to ``RLeaky.forward``. State ``{"mem": (B, H), "spk": (B, H)}``.

    Example:
        >>> import torch
        >>> core = RLeakyCore(4, 8)
        >>> out, state = core(torch.randn(5, 2, 4))
        >>> tuple(out.shape), sorted(state)
        ((5, 2, 8), ['mem', 'spk'])
    """

    _name = "rleaky"
    state_names = ("mem", "spk")

    def __init__(self, input_size, hidden_size, readout="spikes", beta=0.9, threshold=1.0, learn_beta=True):
        super().__init__(input_size, hidden_size, readout, beta, threshold, learn_beta)
        self.encoder = nn.Linear(self.input_size, self.hidden_size)
        self.rleaky = snn.RLeaky(
            beta=torch.full((self.hidden_size,), self.beta_init),
            threshold=self.threshold,
            learn_beta=self.learn_beta,
            linear_features=self.hidden_size,
            all_to_all=True,
            reset_mechanism="subtract",
            spike_grad=atan_spike,
        )
        unregister_neuron(self.rleaky)

    @property
    def beta(self) -> torch.Tensor:
        return self.rleaky.beta

    def precompute(self, x):
        drive = self.encoder(x)
        return drive.unbind(0), {"x": x, "drive": drive}

    def step(self, drive_t, state, trace):
        mem, spk = state["mem"], state["spk"]
        reset = (mem > self.threshold).to(mem.dtype)
        if trace is not None:
            trace.add("spk_prev", spk)
        spk, mem = leaky_step(drive_t, mem, self.rleaky.beta, self.threshold, reset=reset,
                              recurrent=self.rleaky.recurrent(spk))
        return self._output(spk, mem, trace), {"mem": mem, "spk": spk}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return (Synapse("encoder", "x", input_size, hidden_size),
                Synapse("recurrent", "spikes", hidden_size, hidden_size))

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        return [_membrane_ops(hidden_size, updates, resets, 2, "beta*U; +current, +recurrent; -reset")]


class SLSTMCore(_SpikingCore):
    r"""snnTorch ``SLSTM``: an LSTM cell whose hidden state is a membrane that fires spikes, under TAP.

    .. math:: (U_t, C_t) = \mathrm{LSTMCell}(x_t, (U_{t-1}, C_{t-1})),\qquad o_t = \Theta(U_t - U_{thr})

    (``reset_mechanism="none"``, snnTorch's default for SLSTM). The threshold defaults to 0.5, not snnTorch's
    1.0: the LSTM hidden state :math:`o \odot \tanh(c)` lies strictly inside (-1, 1), so with a threshold of 1
    the layer can never spike (its output would be all zeros). The LSTM cell and spike function are the
    ``snntorch.SLSTM`` module's own; the step is written out here rather than calling ``SLSTM.forward``, which
    compares the state's shape with the *input's* and silently re-zeroes the state on every call whenever
    ``input_size != hidden_size`` (checked in ``tests/test_cores.py``). Note the recurrent input to the LSTM
    cell is the real-valued membrane, not the spikes.

    State ``{"mem": (B, H), "syn": (B, H)}``.

    Example:
        >>> import torch
        >>> core = SLSTMCore(4, 8)
        >>> out, state = core(torch.randn(5, 2, 4))
        >>> tuple(out.shape), sorted(state)
        ((5, 2, 8), ['mem', 'syn'])
    """

    _name = "slstm"
    state_names = ("mem", "syn")

    def __init__(self, input_size, hidden_size, readout="spikes", threshold=0.5):
        super().__init__(input_size, hidden_size, readout, beta=1.0, threshold=threshold, learn_beta=False)
        self.slstm = snn.SLSTM(self.input_size, self.hidden_size, threshold=self.threshold, spike_grad=atan_spike)
        unregister_neuron(self.slstm)

    def step(self, x_t, state, trace):
        mem, syn = self.slstm.lstm_cell(x_t, (state["mem"], state["syn"]))
        out = self._output(self.slstm.fire(mem), mem, trace)
        if trace is not None:
            trace.add("syn", syn)
        return out, {"mem": mem, "syn": syn}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size):
        return _gated_rnn_synapses(input_size, hidden_size, gates=4, recurrent_note="real-valued membrane U_{t-1}")

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        # f*c, i*g, o*tanh(c) are 3 multiplies; the four gate sums and c's sum are 5 adds
        return [_gated_rnn_gating(hidden_size, updates)]


class SubstepCore(Core):
    r"""The non-TAP form of a spiking core: ``substeps`` spiking updates per input step, rate-coded output.

    Each input :math:`x_t` is presented for S sub-steps (direct encoding: the same input current each sub-step);
    the output for step t is the mean of the inner core's outputs over its S sub-steps (for spikes: the firing
    rate). By default the state carries over from one input step to the next (``reset_each_step=False``), so
    the core keeps TAP's memory and differs only in paying S updates per decision; ``reset_each_step=True``
    gives the classic setting where each decision starts from a fresh state (no memory across steps).

    It runs the inner core's time loop over the ``T * S`` sub-steps; its layers and operations are the inner
    core's, paid at every sub-step.

    Example:
        >>> import torch
        >>> core = make_core("lif", 4, 8, substeps=4)
        >>> out, state = core(torch.randn(5, 2, 4))
        >>> tuple(out.shape), core.substeps
        ((5, 2, 8), 4)
    """

    def __init__(self, inner: Core, substeps: int = 4, reset_each_step: bool = False):
        if not inner.spiking:
            raise ValueError(f"substeps > 1 is the non-TAP form of a spiking core; {inner.name!r} is not spiking")
        substeps = check_int("substeps", substeps)
        super().__init__(inner.input_size, inner.hidden_size)
        self.inner = inner
        self.substeps = substeps
        self.reset_each_step = bool(reset_each_step)
        self.output_size = inner.output_size
        self.state_names = inner.state_names
        self.spiking = True

    @property
    def name(self) -> str:
        return self.inner.name

    def _run(self, x, state, keep, trace):
        T, B = x.shape[0], x.shape[1]
        S = self.substeps
        xs = x.repeat_interleave(S, dim=0)  # (T*S, B, I): each input held for S sub-steps
        start = torch.zeros(T, S, B, dtype=torch.bool, device=x.device)
        if keep is not None:
            start[:, 0] = keep.squeeze(-1) == 0
        if self.reset_each_step:
            start[:, 0] = True
        starts = start.reshape(T * S, B)
        out, state = self.inner(xs, state, episode_start=starts if bool(starts.any()) else None, trace=trace)
        return out.reshape(T, S, B, -1).mean(dim=1), state

    @property
    def synapses(self) -> tuple[Synapse, ...]:
        return self.inner.synapses

    def op_counts(self, trace: Trace) -> list[OpCount]:
        # The inner core's trace has T*S steps: every sub-step's operations are paid, all within one decision.
        return self.inner.op_counts(trace)

    def extra_repr(self) -> str:
        return f"substeps={self.substeps}, reset_each_step={self.reset_each_step}"


_CORES = {
    "mlp": MLPCore,
    "gru": GRUCore,
    "lif": LIFCore,
    "grsn": GRSNCore,
    "rleaky": RLeakyCore,
    "slstm": SLSTMCore,
    "grsn-first-release": GRSNFirstReleaseCore,
    "grsn-eq17": GRSNEq17Core,
}

#: Names accepted by :func:`make_core`.
CORE_NAMES = tuple(_CORES)


def core_class(name: str) -> type[Core]:
    """The class of the core called ``name`` (one of :data:`CORE_NAMES`).

    Example:
        >>> core_class("grsn").synapse_layers(2, 4, gate_input="input")[1]
        Synapse(layer='gates', reads='x', in_features=2, out_features=8, bias=True, note='')
    """
    if name not in _CORES:
        raise ValueError(f"unknown core {name!r}; known cores: {', '.join(CORE_NAMES)}")
    return _CORES[name]


def make_core(name: str, input_size: int, hidden_size: int, substeps: int = 1, **options) -> Core:
    """Build a recurrent core by name.

    Args:
        name: one of :data:`CORE_NAMES`: ``mlp``, ``gru``, ``lif``, ``grsn``, ``rleaky``, ``slstm``,
            ``grsn-first-release``, ``grsn-eq17``.
        input_size: I, features per input step.
        hidden_size: H, hidden units.
        substeps: 1 (default) is TAP, one update per input step; S > 1 wraps a spiking core in
            :class:`SubstepCore` (S spiking sub-steps per input, rate-coded output).
        **options: passed to the core's class, e.g. ``gate_input``, ``readout``, ``beta``, ``threshold``
            (``grsn-first-release``: ``readout``, ``tau``, ``threshold``, ``reset_membrane_each_call``);
            ``reset_each_step`` goes to :class:`SubstepCore`.

    Example:
        >>> core = make_core("grsn", 4, 32, gate_input="input", readout="membrane")
        >>> core.name, core.output_size
        ('grsn', 32)
    """
    cls = core_class(name)
    substeps = check_int("substeps", substeps, hint=" (1 = TAP, e.g. 4 for the non-TAP form)")
    reset_each_step = options.pop("reset_each_step", None)
    try:
        core = cls(input_size, hidden_size, **options)
    except TypeError as err:
        allowed = [p for p in inspect.signature(cls.__init__).parameters
                   if p not in ("self", "input_size", "hidden_size")]
        raise ValueError(f"bad option for core {name!r}: {err}; its options are {allowed}") from None
    if substeps > 1:
        return SubstepCore(core, substeps, reset_each_step=bool(reset_each_step))
    if reset_each_step is not None:
        raise ValueError("reset_each_step only applies with substeps > 1")
    return core


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
