"""A recurrent actor-critic: any core from :func:`grsn_edu.make_core`, a policy head and a value head.

The core carries the agent's memory across environment steps (TAP: one core update per step); the heads read the
core's output (spikes, membrane or both, for a spiking core).
"""

from __future__ import annotations

import torch
from torch import nn

from .cores import Core, make_core

__all__ = ["ObsNormalizer", "RecurrentActorCritic"]


class ObsNormalizer(nn.Module):
    """Running mean and variance of observations; maps each feature to roughly zero mean, unit variance.

    Partially observed CartPole hands the core tiny numbers (a pole angle of a few hundredths of a radian that
    changes by thousandths per step); a recurrent core must difference them to recover velocities. Normalising
    puts every feature on the same scale. The statistics are buffers (saved with the model) and change only
    when :meth:`update` is called, i.e. while collecting training data.

    Example:
        >>> import torch
        >>> norm = ObsNormalizer(2)
        >>> norm.update(torch.tensor([[0.0, 10.0], [2.0, 30.0]]))
        >>> norm(torch.tensor([[1.0, 20.0]])).abs().max().item() < 1e-3
        True
    """

    def __init__(self, size: int, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("var", torch.ones(size))
        self.register_buffer("count", torch.tensor(eps))
        self.clip, self.eps = clip, eps

    @torch.no_grad()
    def update(self, batch: torch.Tensor) -> None:
        """Fold a batch ``(N, size)`` into the running statistics (parallel Welford update)."""
        batch = batch.reshape(-1, self.mean.shape[0])
        b_mean, b_var, n = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta, total = b_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var.copy_((self.var * self.count + b_var * n + delta.pow(2) * self.count * n / total) / total)
        self.count.copy_(total)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return ((obs - self.mean) / (self.var + self.eps).sqrt()).clamp(-self.clip, self.clip)


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class RecurrentActorCritic(nn.Module):
    """Shared recurrent core with a categorical policy head and a value head.

    Args:
        obs_size: O, observation features.
        n_actions: A, discrete actions.
        core: a core name (``mlp``, ``gru``, ``lif``, ``grsn``, ...) or a built :class:`~grsn_edu.cores.Core`.
        hidden_size: H, when ``core`` is a name.
        **core_options: passed to :func:`~grsn_edu.make_core` (``substeps``, ``readout``, ``gate_input``, ...).

    Example:
        >>> import torch
        >>> agent = RecurrentActorCritic(obs_size=2, n_actions=2, core="grsn", hidden_size=16, readout="membrane")
        >>> state = agent.initial_state(4)
        >>> logits, value, state = agent(torch.randn(1, 4, 2), state)       # one step for 4 environments
        >>> tuple(logits.shape), tuple(value.shape)
        ((1, 4, 2), (1, 4))
    """

    def __init__(self, obs_size: int, n_actions: int, core: str | Core = "gru", hidden_size: int = 128, **core_options):
        super().__init__()
        if not isinstance(n_actions, int) or n_actions < 2:
            raise ValueError(f"n_actions must be an int >= 2, got {n_actions!r}")
        self.core = core if isinstance(core, Core) else make_core(core, obs_size, hidden_size, **core_options)
        if self.core.input_size != obs_size:
            raise ValueError(f"the core expects {self.core.input_size} inputs but obs_size is {obs_size}")
        self.obs_size, self.n_actions = obs_size, n_actions
        self.normalizer = ObsNormalizer(obs_size)
        self.actor = _orthogonal(nn.Linear(self.core.output_size, n_actions), 0.01)
        self.critic = _orthogonal(nn.Linear(self.core.output_size, 1), 1.0)

    def initial_state(self, batch_size: int) -> dict[str, torch.Tensor]:
        """The core's state at an episode start."""
        return self.core.initial_state(batch_size)

    def forward(self, obs, state, episode_start=None, trace=None, normalized=False):
        """``obs`` ``(T, B, O)`` -> ``(logits (T, B, A), value (T, B), final_state)``.

        ``normalized=True`` when ``obs`` already went through :attr:`normalizer` (stored training sequences).
        """
        if not normalized:
            obs = self.normalizer(obs)
        features, state = self.core(obs, state, episode_start=episode_start, trace=trace)
        return self.actor(features), self.critic(features).squeeze(-1), state
