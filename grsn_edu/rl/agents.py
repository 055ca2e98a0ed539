"""A recurrent actor-critic: any core from :func:`grsn_edu.make_core`, a policy head and a value head.

The core carries the agent's memory across environment steps (TAP: one core update per step); the heads read the
core's output (spikes, membrane or both, for a spiking core). :class:`PolicyActor` is the part that acts.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from grsn_edu.snn.cores import Core, make_core
from grsn_edu.snn.trace import Trace

__all__ = ["ObsNormalizer", "ReturnNormalizer", "ValueNorm", "RecurrentActorCritic", "PolicyActor", "map_state",
           "HEAD_INITS"]

#: How the policy and value heads are initialised: ``orthogonal`` (CleanRL's: orthogonal weights, gain 0.01 for
#: the policy and 1 for the value, zero biases) or ``default`` (PyTorch's ``nn.Linear`` initialisation, as
#: sb3-contrib's RecurrentPPO with ``ortho_init=False``).
HEAD_INITS = ("orthogonal", "default")


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


class ReturnNormalizer(nn.Module):
    """Rewards divided by the running standard deviation of the discounted return (as Stable-Baselines3's
    ``VecNormalize`` does), so the value targets stay of order one whatever the reward scale and the horizon.

    Per environment ``i`` it keeps ``G_i <- gamma * G_i + r_i`` (zeroed where an episode ends), folds the ``B``
    values of ``G`` into a running variance ``s^2`` after every step, and returns
    ``clip(r / sqrt(s^2 + eps), -clip, clip)``. The running mean of ``G`` is tracked for the variance but not
    subtracted: the reward keeps its sign. The statistics are buffers (saved in checkpoints); ``G`` is not, since
    a resumed run starts fresh episodes.

    Args:
        num_envs: B, environments stepping together.
        gamma: the discount of the return whose spread is measured (the run's gamma).
        clip: bound on the scaled reward.
        eps: added to the variance.

    Example:
        >>> import torch
        >>> norm = ReturnNormalizer(num_envs=2, gamma=0.5)
        >>> norm(torch.tensor([1.0, 3.0]), torch.tensor([False, False]))  # returns 1 and 3: std about 1
        tensor([0.9999, 2.9997])
        >>> norm.returns.tolist()
        [1.0, 3.0]
    """

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros((), dtype=torch.float64))
        self.register_buffer("var", torch.ones((), dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))
        self.register_buffer("returns", torch.zeros(num_envs, dtype=torch.float64), persistent=False)
        self.gamma, self.clip, self.eps = gamma, clip, eps

    @torch.no_grad()
    def forward(self, rewards: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        """One step: ``rewards`` ``(B,)`` and ``dones`` ``(B,)`` bool -> the scaled rewards ``(B,)`` (float32)."""
        self.returns.mul_(self.gamma).add_(rewards.double())
        b_mean, b_var, n = self.returns.mean(), self.returns.var(unbiased=False), self.returns.numel()
        delta, total = b_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var.copy_((self.var * self.count + b_var * n + delta.pow(2) * self.count * n / total) / total)
        self.count.copy_(total)
        self.returns[torch.as_tensor(dones, dtype=torch.bool)] = 0.0
        scaled = rewards.double() / (self.var + self.eps).sqrt()
        return scaled.clamp(-self.clip, self.clip).float()


class ValueNorm(nn.Module):
    """Running mean and spread of the value targets, so a critic learns numbers of order one (MAPPO's value
    normalisation, Yu et al. 2022).

    The critic predicts *normalised* values; the trainer turns them back into returns (:meth:`denormalize`) for
    GAE, folds each rollout's returns into the statistics (:meth:`update`) and trains the critic on
    :meth:`normalize` of the returns. The statistics are exponential moving averages of the batches' mean and mean
    square with weight ``beta`` per batch, divided by ``1 - beta**n`` after ``n`` batches (the bias of a moving
    average started at zero): with ``beta`` close to 1 they are nearly the plain averages over every batch so far,
    so the targets drift slowly as the returns improve. Unlike :class:`ReturnNormalizer` the rewards are not
    changed, only the critic's scale.

    Args:
        beta: the moving averages' weight of the past, per :meth:`update`.
        min_var: floor of the variance (a batch of equal returns does not divide by zero).

    Example:
        >>> import torch
        >>> norm = ValueNorm()
        >>> norm.update(torch.tensor([-30.0, -10.0]))
        >>> norm.normalize(torch.tensor([-30.0, -20.0, -10.0]))
        tensor([-1.,  0.,  1.])
        >>> norm.denormalize(torch.tensor([1.0]))
        tensor([-10.])
    """

    def __init__(self, beta: float = 0.99999, min_var: float = 1e-2):
        super().__init__()
        if not 0.0 < beta < 1.0:
            raise ValueError(f"beta must lie in (0, 1), got {beta}")
        self.beta, self.min_var = beta, min_var
        self.register_buffer("mean_avg", torch.zeros((), dtype=torch.float64))
        self.register_buffer("square_avg", torch.zeros((), dtype=torch.float64))
        self.register_buffer("weight", torch.zeros((), dtype=torch.float64))  # 1 - beta**n

    def stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, std)`` of the targets so far (0 and 1 before the first :meth:`update`)."""
        if float(self.weight) == 0.0:
            return torch.zeros((), dtype=torch.float64), torch.ones((), dtype=torch.float64)
        mean = self.mean_avg / self.weight
        var = (self.square_avg / self.weight - mean.pow(2)).clamp(min=self.min_var)
        return mean, var.sqrt()

    @torch.no_grad()
    def update(self, targets: torch.Tensor) -> None:
        """Fold one batch of value targets (any shape) into the statistics."""
        x = targets.detach().double()
        self.mean_avg.mul_(self.beta).add_((1 - self.beta) * x.mean())
        self.square_avg.mul_(self.beta).add_((1 - self.beta) * x.pow(2).mean())
        self.weight.mul_(self.beta).add_(1 - self.beta)

    def normalize(self, targets: torch.Tensor) -> torch.Tensor:
        mean, std = self.stats()
        return ((targets.double() - mean) / std).to(targets.dtype)

    def denormalize(self, values: torch.Tensor) -> torch.Tensor:
        mean, std = self.stats()
        return (values.double() * std + mean).to(values.dtype)


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _value_head(features: int, hidden: int, init: str) -> nn.Module:
    """Linear (``hidden=0``) or one tanh layer of ``hidden`` units then linear (sb3's ``net_arch=dict(vf=[64])``)."""
    if hidden == 0:
        layer = nn.Linear(features, 1)
        return _orthogonal(layer, 1.0) if init == "orthogonal" else layer
    layers = [nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, 1)]
    if init == "orthogonal":
        _orthogonal(layers[0], 2**0.5)
        _orthogonal(layers[2], 1.0)
    return nn.Sequential(*layers)


class RecurrentActorCritic(nn.Module):
    """A recurrent policy (core + categorical head) and a recurrent value function (core + linear head).

    By default the value function has its own core of the same kind (``shared_core=False``, as in
    sb3-contrib's RecurrentPPO): with one shared core, the value loss (returns of tens to hundreds) dominates the
    core's gradients and slows the policy's learning. Only the policy acts, so only the policy's core counts
    for the energy per decision. ``shared_core=True`` gives the CleanRL layout (one core, two heads).

    Args:
        obs_size: O, observation features.
        n_actions: A, discrete actions.
        core: a core name (``mlp``, ``gru``, ``lif``, ``grsn``, ...) or a built :class:`~grsn_edu.snn.cores.Core`.
        hidden_size: H, when ``core`` is a name.
        shared_core: one core for policy and value (True) or a separate value core of the same kind (False).
        value_hidden: units of a tanh hidden layer between the value core and the value (0: a linear value head).
            The policy head is always linear on the core's output.
        head_init: one of :data:`HEAD_INITS`.
        **core_options: passed to :func:`~grsn_edu.make_core` (``substeps``, ``readout``, ``gate_input``, ...).

    Example:
        >>> import torch
        >>> agent = RecurrentActorCritic(obs_size=2, n_actions=2, core="grsn", hidden_size=16, readout="membrane")
        >>> state = agent.initial_state(4)
        >>> logits, value, state = agent(torch.randn(1, 4, 2), state)       # one step for 4 environments
        >>> tuple(logits.shape), tuple(value.shape)
        ((1, 4, 2), (1, 4))
    """

    def __init__(self, obs_size: int, n_actions: int, core: str | Core = "gru", hidden_size: int = 128,
                 shared_core: bool = False, value_hidden: int = 0, head_init: str = "orthogonal", **core_options):
        super().__init__()
        if not isinstance(n_actions, int) or n_actions < 2:
            raise ValueError(f"n_actions must be an int >= 2, got {n_actions!r}")
        if head_init not in HEAD_INITS:
            raise ValueError(f"head_init must be one of {', '.join(HEAD_INITS)}, got {head_init!r}")
        if isinstance(value_hidden, bool) or not isinstance(value_hidden, int) or value_hidden < 0:
            raise ValueError(f"value_hidden must be an integer >= 0, got {value_hidden!r}")
        if isinstance(core, Core) and not shared_core:
            raise ValueError("pass a core name (not a built core) when shared_core=False, so a value core can be built")
        self.core = core if isinstance(core, Core) else make_core(core, obs_size, hidden_size, **core_options)
        if self.core.input_size != obs_size:
            raise ValueError(f"the core expects {self.core.input_size} inputs but obs_size is {obs_size}")
        self.shared_core = bool(shared_core)
        self.value_core = None if shared_core else make_core(core, obs_size, hidden_size, **core_options)
        self.obs_size, self.n_actions = obs_size, n_actions
        self.normalizer = ObsNormalizer(obs_size)
        self.actor = nn.Linear(self.core.output_size, n_actions)
        if head_init == "orthogonal":
            _orthogonal(self.actor, 0.01)
        self.critic = _value_head(self.core.output_size, value_hidden, head_init)

    def initial_state(self, batch_size: int) -> dict[str, dict[str, torch.Tensor]]:
        """The state at an episode start: ``{"policy": core state, "value": value-core state}``."""
        state = {"policy": self.core.initial_state(batch_size)}
        if self.value_core is not None:
            state["value"] = self.value_core.initial_state(batch_size)
        return state

    def forward(self, obs, state, episode_start=None, trace=None, normalized=False):
        """``obs`` ``(T, B, O)`` -> ``(logits (T, B, A), value (T, B), final_state)``.

        ``normalized=True`` when ``obs`` already went through :attr:`normalizer` (stored training sequences).
        """
        if not normalized:
            obs = self.normalizer(obs)
        features, policy_state = self.core(obs, state["policy"], episode_start=episode_start, trace=trace)
        new_state = {"policy": policy_state}
        if self.value_core is None:
            value_features = features
        else:
            value_features, new_state["value"] = self.value_core(obs, state["value"], episode_start=episode_start)
        return self.actor(features), self.critic(value_features).squeeze(-1), new_state


def map_state(fn, state):
    """Apply ``fn`` to every tensor of a (nested) state dict, e.g. ``map_state(lambda v: v[idx], state)``."""
    return {k: map_state(fn, v) if isinstance(v, dict) else fn(v) for k, v in state.items()}


class PolicyActor:
    """The acting half of a :class:`RecurrentActorCritic`, one decision per call: the observation normaliser, the
    policy core (its state carried from call to call) and the actor head. The value core is not run: it does not
    act, and the actions do not depend on it.

    Args:
        agent: the agent (its normaliser is applied, not updated).
        batch_size: B, environments acting together.
        greedy: argmax action (True) or a sample from the policy (False; torch's global generator).
        record: give each call a fresh :class:`~grsn_edu.snn.trace.Trace` of the core's internals.

    After each call, ``features`` ``(1, B, F)`` is the core's output, ``logits`` ``(B, A)`` the actor's, and
    ``trace`` that step's record (None unless ``record``).

    Example:
        >>> import torch
        >>> agent = RecurrentActorCritic(obs_size=2, n_actions=2, core="gru", hidden_size=8)
        >>> actor = PolicyActor(agent, batch_size=3)
        >>> obs = torch.randn(3, 2)
        >>> bool((actor(obs) == agent(obs[None], agent.initial_state(3))[0][0].argmax(-1).numpy()).all())
        True
    """

    def __init__(self, agent: RecurrentActorCritic, batch_size: int, greedy: bool = True, record: bool = False):
        self.agent, self.greedy, self.record = agent, greedy, record
        self.state = agent.core.initial_state(batch_size)
        self.features = self.logits = self.trace = None

    @torch.no_grad()
    def __call__(self, obs) -> np.ndarray:
        """``obs`` ``(B, O)`` raw observations -> ``(B,)`` actions."""
        self.trace = Trace() if self.record else None
        x = self.agent.normalizer(torch.as_tensor(obs, dtype=torch.float32))[None]
        self.features, self.state = self.agent.core(x, self.state, trace=self.trace)
        self.logits = self.agent.actor(self.features)[0]
        if self.greedy:
            action = self.logits.argmax(-1)
        else:
            action = torch.distributions.Categorical(logits=self.logits).sample()
        return action.numpy()
