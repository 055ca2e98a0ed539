r"""GRSN taken apart: the same neuron built from snnTorch and PyTorch parts, and tools to look inside a trained one.

Notebook 03 builds a GRSN layer by hand from ``snn.Leaky`` (the membrane), ``nn.Linear`` layers (the gates) and
``torch.sigmoid`` / ``torch.tanh``, and compares it with :class:`grsn_edu.snn.cores.GRSNCore`. This module holds the
tested, general version of that construction (:class:`HandBuiltGRSN`, for every ``gate_input``), a trainer for
the cue-recall task that keeps the trained network (:func:`train_on_cue_recall`), and small helpers that record
and probe what a trained network does (:func:`record_internals`, :func:`cue_selective_neurons`,
:func:`accuracy_after`).

The equations, one step, for a layer of H neurons with input :math:`x_t` (``(B, I)``):

.. math::

    g_t &= o_{t-1}\ (\texttt{"spikes"}),\quad x_t\ (\texttt{"input"}),\quad [x_t; o_{t-1}]\ (\texttt{"both"})\\
    F_t &= \sigma(W_F g_t + b_F),\qquad \tilde I_t = \tanh(W_I g_t + b_I)\\
    c_t &= F_t \odot c_{t-1} + (1 - F_t) \odot \tilde I_t\\
    (o_t, U_t) &= \texttt{snn.Leaky}(W_x x_t + b_x + c_t,\ U_{t-1})

What drives the gates (:math:`g_t`) is a documented choice of this package, not a quotation of the paper (see
:class:`grsn_edu.snn.cores.GRSNCore`).
"""

from __future__ import annotations

import copy

import snntorch as snn
import torch
from torch import nn

from grsn_edu.envs.cue_recall import CueRecallTask
from grsn_edu.experiments.memory import TEST_SEED, MemoryRun, evaluate_accuracy, train_memory_network
from grsn_edu.snn.cores import GRSNCore, unregister_neuron
from grsn_edu.snn.neurons import GATE_INPUTS, atan_spike
from grsn_edu.snn.trace import Trace

__all__ = [
    "HandBuiltGRSN",
    "TrainedNet",
    "train_on_cue_recall",
    "record_internals",
    "cue_selective_neurons",
    "accuracy_after",
    "max_abs_difference",
]


class HandBuiltGRSN(nn.Module):
    r"""A GRSN layer assembled from snnTorch and PyTorch parts, one time step at a time.

    Parts: ``encoder`` :math:`W_x x_t + b_x` (``nn.Linear(I, H)``); ``forget_gate`` :math:`W_F g_t + b_F` and
    ``input_gate`` :math:`W_I g_t + b_I` (each ``nn.Linear(G, H)``, with G = H, I or I + H by ``gate_input``);
    ``membrane``, an ``snn.Leaky`` with per-neuron ``beta``, subtract reset and snnTorch's atan surrogate.

    It computes the textbook form :math:`F c + (1 - F) \tilde I`; :class:`~grsn_edu.snn.cores.GRSNCore` computes the
    same quantity with one fused ``torch.lerp`` and one ``H -> 2H`` gate matrix, so the two agree to float
    rounding (about 1e-7 in float32), not bit for bit (``tests/test_grsn.py`` checks both).

    Args:
        input_size: I.
        hidden_size: H.
        gate_input: ``"spikes"``, ``"input"`` or ``"both"``: what drives the gates.
        beta: initial membrane decay (all neurons).
        threshold: firing threshold.

    Example:
        >>> import torch
        >>> from grsn_edu import make_core
        >>> _ = torch.manual_seed(0)
        >>> core = make_core("grsn", 3, 4)
        >>> parts = HandBuiltGRSN.from_core(core)
        >>> x = torch.randn(6, 2, 3)
        >>> rec = parts(x)                                  # dict of (T, B, H) tensors
        >>> bool(torch.equal(rec["spk"], core(x)[0]))     # the same spikes; membranes to float32 rounding
        True
    """

    def __init__(self, input_size: int, hidden_size: int, gate_input: str = "spikes", beta: float = 0.9,
                 threshold: float = 1.0):
        super().__init__()
        if gate_input not in GATE_INPUTS:
            raise ValueError(f"gate_input must be one of {GATE_INPUTS}, got {gate_input!r}")
        self.input_size, self.hidden_size, self.gate_input = input_size, hidden_size, gate_input
        self.threshold = float(threshold)
        gate_in = {"spikes": hidden_size, "input": input_size, "both": input_size + hidden_size}[gate_input]
        self.encoder = nn.Linear(input_size, hidden_size)
        self.forget_gate = nn.Linear(gate_in, hidden_size)
        self.input_gate = nn.Linear(gate_in, hidden_size)
        self.membrane = snn.Leaky(beta=torch.full((hidden_size,), float(beta)), threshold=self.threshold,
                                  learn_beta=True, reset_mechanism="subtract", spike_grad=atan_spike)
        unregister_neuron(self.membrane)  # state is passed explicitly; snnTorch's global registry is not needed

    @classmethod
    def from_core(cls, core: GRSNCore) -> HandBuiltGRSN:
        """A hand-built layer holding a copy of ``core``'s weights (its gate matrix split into F and I rows)."""
        if not isinstance(core, GRSNCore) or not core.gates:
            raise ValueError("from_core needs a GRSNCore with gates=True (make_core('grsn', ...))")
        H = core.hidden_size
        parts = cls(core.input_size, H, core.gate_input, core.beta_init, core.threshold)
        if core.gate_input == "spikes":
            weight, bias = core.gate_o.weight, core.gate_o.bias
        elif core.gate_input == "input":
            weight, bias = core.gate_x.weight, core.gate_x.bias
        else:  # "both": g_t = [x_t; o_{t-1}], so the input columns come first
            weight, bias = torch.cat([core.gate_x.weight, core.gate_o.weight], dim=1), core.gate_x.bias
        with torch.no_grad():
            parts.encoder.weight.copy_(core.encoder.weight)
            parts.encoder.bias.copy_(core.encoder.bias)
            parts.forget_gate.weight.copy_(weight[:H])
            parts.forget_gate.bias.copy_(bias[:H])
            parts.input_gate.weight.copy_(weight[H:])
            parts.input_gate.bias.copy_(bias[H:])
            parts.membrane.beta.copy_(core.beta)
        return parts

    def step(self, x_t: torch.Tensor, spk_prev: torch.Tensor, cur: torch.Tensor, mem: torch.Tensor) -> dict:
        """One time step. All arguments ``(B, ·)``; returns ``{"spk", "mem", "cur", "forget", "candidate"}``."""
        g = {"spikes": spk_prev, "input": x_t, "both": torch.cat([x_t, spk_prev], dim=-1)}[self.gate_input]
        forget = torch.sigmoid(self.forget_gate(g))
        candidate = torch.tanh(self.input_gate(g))
        cur = forget * cur + (1 - forget) * candidate
        spk, mem = self.membrane(self.encoder(x_t) + cur, mem)
        return {"spk": spk, "mem": mem, "cur": cur, "forget": forget, "candidate": candidate}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run over ``x`` ``(T, B, I)`` from rest; returns ``{name: (T, B, H)}`` for every quantity of :meth:`step`."""
        B, H = x.shape[1], self.hidden_size
        spk = cur = mem = torch.zeros(B, H, dtype=x.dtype)
        records: dict[str, list] = {}
        for x_t in x:
            out = self.step(x_t, spk, cur, mem)
            spk, cur, mem = out["spk"], out["cur"], out["mem"]
            for k, v in out.items():
                records.setdefault(k, []).append(v)
        return {k: torch.stack(v) for k, v in records.items()}


def max_abs_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """``max |a - b|`` as a float (0.0 for identical tensors)."""
    return float((a.detach() - b.detach()).abs().max())


class TrainedNet:
    """A core and its linear readout trained on cue recall, with the run's record.

    Attributes:
        core: the trained core.
        readout: ``nn.Linear(core.output_size, n_cues)``.
        run: the :class:`grsn_edu.experiments.memory.MemoryRun` (accuracy, losses, wall time, protocol).
        task: the :class:`grsn_edu.envs.cue_recall.CueRecallTask` it was trained on.
    """

    def __init__(self, core, readout, run: MemoryRun, task: CueRecallTask):
        self.core, self.readout, self.run, self.task = core, readout, run, task

    def test_set(self, size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The held-out test sequences ``(x (T, B, I), labels (B,))``
        (seed :data:`grsn_edu.experiments.memory.TEST_SEED`)."""
        return self.task.sample(size or self.run.test_size, torch.Generator().manual_seed(TEST_SEED))

    def state_dict(self) -> dict:
        """Everything needed to rebuild the network: weights, core options and the run's protocol."""
        return {"core": self.core.state_dict(), "readout": self.readout.state_dict(), "run": self.run.as_row(),
                "options": dict(self.run.options), "losses": list(self.run.losses)}


def train_on_cue_recall(
    core_name: str,
    delay: int,
    seed: int = 0,
    hidden_size: int = 32,
    steps: int = 400,
    batch_size: int = 64,
    lr: float = 3e-3,
    n_cues: int = 4,
    noise: float = 0.5,
    test_size: int = 512,
    grad_clip: float = 1.0,
    **core_options,
) -> TrainedNet:
    """:func:`grsn_edu.experiments.memory.train_memory_network` (the protocol of ``train_memory_task``), wrapped
    with the trained core and readout for looking inside (``tests/test_grsn.py`` checks it against
    ``train_memory_task``).
    """
    run, core, readout, task = train_memory_network(
        core_name, delay, seed=seed, hidden_size=hidden_size, steps=steps, batch_size=batch_size, lr=lr,
        n_cues=n_cues, noise=noise, test_size=test_size, grad_clip=grad_clip, **core_options,
    )
    return TrainedNet(core, readout, run, task)


@torch.no_grad()
def record_internals(core, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Run ``core`` on ``x`` ``(T, B, I)`` from rest and return its trace as ``{name: (T, B, H)}``."""
    trace = Trace()
    core(x, core.initial_state(x.shape[1]), trace=trace)
    return trace.as_dict()


def cue_selective_neurons(record: dict[str, torch.Tensor], labels: torch.Tensor, n: int = 3, key: str = "spk",
                          after: int = 1) -> list[int]:
    """The ``n`` neurons whose ``record[key]`` differs most between cues from step ``after`` on.

    A neuron's score is the variance, across cues, of its mean value over the steps ``after ... T-1`` and the
    sequences of that cue (for spikes: how differently often it fires after each cue).

    Args:
        record: ``{name: (T, B, H)}`` (e.g. :func:`record_internals`).
        labels: ``(B,)`` the cue of each sequence.
        n: how many neurons.
        key: which quantity to score.
        after: first step counted (1: after the cue step).

    Returns:
        neuron indices, most selective first.
    """
    values = record[key][after:]
    means = torch.stack([values[:, labels == k].mean(dim=(0, 1)) for k in labels.unique()])  # (K, H)
    return means.var(dim=0).argsort(descending=True)[:n].tolist()


def accuracy_after(net: TrainedNet, change, x: torch.Tensor, labels: torch.Tensor) -> float:
    """Test accuracy of a copy of ``net`` after ``change(core_copy)`` edits its parameters (under no_grad).

    ``net`` itself is left untouched. Example: ``accuracy_after(net, lambda c: c.leaky.beta.fill_(0.9), x, y)``.
    """
    core = copy.deepcopy(net.core)
    with torch.no_grad():
        change(core)
    return evaluate_accuracy(core, net.readout, x, labels)[0]
