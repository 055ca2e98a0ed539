r"""One layer of leaky integrate-and-fire (LIF) neurons with ``snntorch.Leaky``: inputs, simulation, training.

The helpers of notebook 01. The neuron itself is snnTorch's ``Leaky``; everything here either builds an input
current, runs a ``Leaky`` over time with the state passed explicitly, or trains a tiny spiking layer with
backpropagation through time (BPTT).

snnTorch's ``Leaky`` with its defaults (``reset_mechanism="subtract"``, ``reset_delay=True``) computes, per step,

.. math::

    R_t &= \Theta(U_{t-1} - U_{thr}) \quad\text{(the previous step's spike, no gradient)}\\
    U_t &= \beta U_{t-1} + I_t - R_t U_{thr}\\
    S_t &= \Theta(U_t - U_{thr})

with :math:`I_t` the input current, :math:`U_t` the membrane potential, :math:`S_t` the output spike,
:math:`\beta` the decay per step, :math:`U_{thr}` the threshold and :math:`\Theta` the Heaviside step
(:math:`\Theta(x) = 1` for :math:`x > 0`, else 0). With ``reset_mechanism="zero"`` the reset line is instead
:math:`U_t = \beta (1 - R_t) U_{t-1} + I_t`: the old membrane is dropped, the new input still arrives.

Shapes: time is always the first dimension. A current of shape ``(T,)`` is one neuron, ``(T, H)`` a layer of
H neurons, ``(T, B, H)`` a batch of B layers; outputs have the shape of the current.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import snntorch as snn
import torch
from torch import nn

from grsn_edu.snn.cores import unregister_neuron
from grsn_edu.snn.neurons import atan_spike

__all__ = [
    "step_current",
    "pulse_current",
    "noisy_current",
    "input_spikes",
    "run_leaky",
    "simulate_leaky",
    "heaviside_spike",
    "spike_function_curves",
    "RateLayer",
    "rate_loss",
    "TrainResult",
    "train_target_rates",
]


# -- input currents ----------------------------------------------------------------------------------------------
def step_current(T: int, amplitude: float = 0.3, start: int = 10, stop: int | None = None) -> torch.Tensor:
    """A current that is 0, then ``amplitude`` from step ``start`` up to (not including) ``stop``.

    Args:
        T: number of time steps.
        amplitude: current while the step is on (a.u.).
        start: first step with current on.
        stop: first step with current off again; ``None`` keeps it on to the end.

    Returns:
        ``(T,)`` float tensor.

    Example:
        >>> step_current(6, 0.5, start=2, stop=4).tolist()
        [0.0, 0.0, 0.5, 0.5, 0.0, 0.0]
    """
    current = torch.zeros(T)
    current[start:stop] = amplitude
    return current


def pulse_current(T: int, amplitude: float = 1.0, at: int = 5) -> torch.Tensor:
    """A single one-step pulse of ``amplitude`` at step ``at``, zero elsewhere.

    Returns:
        ``(T,)`` float tensor.

    Example:
        >>> pulse_current(4, 0.8, at=1).tolist()
        [0.0, 0.800000011920929, 0.0, 0.0]
    """
    current = torch.zeros(T)
    current[at] = amplitude
    return current


def noisy_current(T: int, mean: float = 0.2, std: float = 0.3, seed: int = 0,
                  shape: tuple[int, ...] = ()) -> torch.Tensor:
    """Gaussian white-noise current: ``mean + std * N(0, 1)``, independent at every step, reproducible by ``seed``.

    Args:
        T: number of time steps.
        mean: mean current (a.u.); a tensor broadcastable to ``shape`` gives each neuron its own mean.
        std: standard deviation of the noise (a.u.).
        seed: seed of a private generator, so the global random state is untouched.
        shape: extra dimensions after time, e.g. ``(H,)`` for a layer.

    Returns:
        ``(T, *shape)`` float tensor.
    """
    generator = torch.Generator().manual_seed(seed)
    return mean + std * torch.randn((T, *shape), generator=generator)


def input_spikes(T: int, batch: int, inputs: int, rate: float = 0.2, seed: int = 0) -> torch.Tensor:
    """Random input spike trains: each entry is 1 with probability ``rate`` per step, independently.

    Returns:
        ``(T, B, I)`` float tensor of 0.0 and 1.0.
    """
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(T, batch, inputs, generator=generator) < rate).float()


# -- simulation --------------------------------------------------------------------------------------------------
def run_leaky(lif: snn.Leaky, current: torch.Tensor,
              mem: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run an ``snntorch.Leaky`` over a current, one step at a time, passing the membrane explicitly.

    Each step is ``spk, mem = lif(current[t], mem)``. The membrane starts at ``mem`` (zeros if ``None``).
    snnTorch would silently re-zero a membrane whose shape does not match the input; here that is an error.
    Afterwards the module's own copy of the membrane (``lif.mem``) is emptied, so it keeps no autograd graph
    alive: the state belongs to the caller.

    Args:
        lif: the neuron (any ``beta``, ``threshold``, ``reset_mechanism``, ``spike_grad``).
        current: ``(T, ...)`` input current; time first, any shape after it, e.g. ``(T,)`` or ``(T, B, H)``.
        mem: initial membrane, the shape of ``current[0]``.

    Returns:
        ``(spk, mem)``, both the shape of ``current``: the spikes (0.0 or 1.0) and the membrane at every step.

    Example:
        >>> import snntorch as snn, torch
        >>> spk, mem = run_leaky(snn.Leaky(beta=0.5), torch.tensor([1.0, 0.0, 0.0]))
        >>> mem.tolist()
        [1.0, 0.5, 0.25]
    """
    if not isinstance(current, torch.Tensor) or current.dim() < 1 or current.shape[0] < 1:
        got = getattr(current, "shape", type(current))
        raise ValueError(f"current must be a tensor with time first, shape (T, ...), T >= 1; got {got}")
    if mem is None:
        mem = torch.zeros_like(current[0])
    elif mem.shape != current.shape[1:]:
        raise ValueError(
            f"mem has shape {tuple(mem.shape)} but one step of the current has shape {tuple(current.shape[1:])}; "
            "snnTorch would silently reset such a membrane to zero"
        )
    spikes, mems = [], []
    for current_t in current:
        spk, mem = lif(current_t, mem)
        spikes.append(spk)
        mems.append(mem)
    lif.mem = torch.zeros(0)
    return torch.stack(spikes), torch.stack(mems)


def simulate_leaky(
    current: torch.Tensor,
    beta: float | torch.Tensor = 0.9,
    threshold: float | torch.Tensor = 1.0,
    reset_mechanism: str = "subtract",
    spike_grad=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build an ``snntorch.Leaky`` with these settings and run it over ``current`` from a zero membrane.

    The neuron is taken out of snnTorch's class-wide registry of every neuron ever built, so calling this many
    times (e.g. from a slider) does not accumulate instances.

    Args:
        current: ``(T, ...)`` input current, time first.
        beta: decay per step in [0, 1]; a tensor of shape ``(H,)`` gives each neuron (last dimension) its own.
        threshold: firing threshold :math:`U_{thr}`; like ``beta``, a tensor ``(H,)`` sets one per neuron.
        reset_mechanism: ``"subtract"`` (snnTorch's default), ``"zero"`` or ``"none"``.
        spike_grad: spike function with its surrogate gradient; snnTorch's default (atan) if ``None``.

    Returns:
        ``(spk, mem)``, both the shape of ``current``.

    Example:
        >>> import torch
        >>> spk, mem = simulate_leaky(torch.full((5,), 0.6), beta=0.9)
        >>> spk.tolist()
        [0.0, 1.0, 0.0, 1.0, 0.0]
    """
    beta = beta.detach().clone() if isinstance(beta, torch.Tensor) else float(beta)
    lif = snn.Leaky(beta=beta, threshold=threshold, reset_mechanism=reset_mechanism, spike_grad=spike_grad)
    unregister_neuron(lif)
    return run_leaky(lif, current)


# -- spike functions ---------------------------------------------------------------------------------------------
class _ExactHeaviside(torch.autograd.Function):
    """Heaviside step forward; its true derivative, zero, backward (at exactly 0 it is undefined: we use 0)."""

    @staticmethod
    def forward(ctx, u):
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output)


def heaviside_spike(u: torch.Tensor) -> torch.Tensor:
    r"""The spike function with its *exact* gradient: :math:`\Theta(u)` forward, :math:`0` backward.

    Same forward pass as ``snntorch.surrogate.atan()``; a network using it gets a gradient of exactly zero for
    every parameter upstream of a spike. Pass it as ``snn.Leaky(..., spike_grad=heaviside_spike)``.

    Args:
        u: ``(...)`` membrane minus threshold.

    Returns:
        ``(...)`` spikes, 0.0 or 1.0.
    """
    return _ExactHeaviside.apply(u)


def spike_function_curves(spike_fn, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Measure a spike function's forward output and the derivative autograd uses for it, at the points ``u``.

    Args:
        spike_fn: e.g. ``snntorch.surrogate.atan(alpha=2.0)`` or :func:`heaviside_spike`.
        u: ``(N,)`` points (membrane minus threshold).

    Returns:
        ``(forward, derivative)``, each ``(N,)``: ``spike_fn(u)`` and ``d spike_fn(u) / du`` from ``backward``.

    Example:
        >>> import torch
        >>> from snntorch import surrogate
        >>> fwd, grad = spike_function_curves(surrogate.atan(alpha=2.0), torch.tensor([-1.0, 0.0, 1.0]))
        >>> fwd.tolist(), round(grad[1].item(), 3)
        ([0.0, 0.0, 1.0], 1.0)
    """
    u = u.detach().clone().requires_grad_(True)
    out = spike_fn(u)
    out.sum().backward()  # each output depends only on its own input: the gradient of the sum is the derivative
    return out.detach(), u.grad.detach()


# -- a tiny trainable spiking layer ------------------------------------------------------------------------------
class RateLayer(nn.Module):
    """A linear map followed by a layer of ``snntorch.Leaky`` neurons: input spikes in, output spikes out.

    .. math:: I_t = W x_t + b, \\qquad (S_t, U_t) = \\mathrm{Leaky}(I_t, U_{t-1})

    Args:
        inputs: I, input channels.
        neurons: H, spiking neurons.
        beta: membrane decay per step (fixed).
        spike_grad: spike function with its backward pass (the atan surrogate by default).

    Example:
        >>> import torch
        >>> layer = RateLayer(3, 4)
        >>> spk, mem = layer(torch.ones(10, 2, 3))
        >>> tuple(spk.shape), tuple(mem.shape)
        ((10, 2, 4), (10, 2, 4))
    """

    def __init__(self, inputs: int, neurons: int, beta: float = 0.9, spike_grad=atan_spike):
        super().__init__()
        self.fc = nn.Linear(inputs, neurons)
        self.lif = snn.Leaky(beta=beta, spike_grad=spike_grad)
        unregister_neuron(self.lif)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(T, B, I)`` -> ``(spk, mem)``, each ``(T, B, H)``, from a zero membrane."""
        return run_leaky(self.lif, self.fc(x))


def rate_loss(spk: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between each neuron's firing rate and its target rate.

    Args:
        spk: ``(T, B, H)`` spikes.
        target: ``(H,)`` target rates in spikes per step.

    Returns:
        scalar: the mean over batch and neurons of ``(spk.mean(0) - target) ** 2``.
    """
    return ((spk.mean(dim=0) - target) ** 2).mean()


@dataclass
class TrainResult:
    """What :func:`train_target_rates` returns.

    Attributes:
        layer: the trained :class:`RateLayer`.
        losses: the loss before each update, ``steps`` floats.
        grad_norms: the norm of the weight gradient at each update, ``steps`` floats.
        spk_before: ``(T, B, H)`` output spikes before training.
        spk_after: ``(T, B, H)`` output spikes after training.
    """

    layer: RateLayer
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    spk_before: torch.Tensor | None = None
    spk_after: torch.Tensor | None = None


def train_target_rates(
    inputs: torch.Tensor,
    target: torch.Tensor,
    spike_grad=atan_spike,
    steps: int = 150,
    lr: float = 0.02,
    beta: float = 0.9,
    seed: int = 0,
) -> TrainResult:
    """Train a :class:`RateLayer` by backpropagation through time so that neuron h fires at rate ``target[h]``.

    Each update runs the layer over all T steps of ``inputs``, computes :func:`rate_loss`, and calls
    ``loss.backward()``: autograd walks back through every time step (BPTT), through the spike function's
    backward pass. With :func:`heaviside_spike` that pass is zero and nothing is learnt.

    Args:
        inputs: ``(T, B, I)`` input spikes, the same at every update.
        target: ``(H,)`` target firing rates (spikes per step).
        spike_grad: the neurons' spike function (forward Heaviside; its backward pass is what differs).
        steps: number of Adam updates.
        lr: Adam learning rate.
        beta: membrane decay.
        seed: seeds the layer's initial weights, so runs with different ``spike_grad`` start identical.

    Returns:
        a :class:`TrainResult`.
    """
    torch.manual_seed(seed)
    layer = RateLayer(inputs.shape[-1], target.shape[0], beta=beta, spike_grad=spike_grad)
    optimizer = torch.optim.Adam(layer.parameters(), lr=lr)
    result = TrainResult(layer=layer)
    for _ in range(steps):
        spk, _ = layer(inputs)
        loss = rate_loss(spk, target)
        optimizer.zero_grad()
        loss.backward()
        if result.spk_before is None:
            result.spk_before = spk.detach()
        result.losses.append(loss.item())
        result.grad_norms.append(layer.fc.weight.grad.norm().item())
        optimizer.step()
    with torch.no_grad():
        result.spk_after, _ = layer(inputs)
    return result
