r"""The authors' whole GRSN actor, counted: operations per decision beside the same actor with a GRU or an LSTM.

The layout is the actor of GitHub StillWolf/GRSN-SNN (``grsn/policies/spiking_actor.py``), with the sizes of
its CartPole-P configuration (``configs/pomdp/cartpole/p/rnn.yml``)::

    a_{t-1} (one-hot) -> Linear + ReLU (8)  --+
    r_{t-1}           -> Linear + ReLU (8)  --+--> cell, H = 128 (48 inputs) --> o_t --+
    x_t               -> Linear + ReLU (32) --+                                        +--> MLP 128, 128 (ReLU)
    x_t               -> Linear + ReLU (32) ---------------------------------- e_t ----+    -> Linear -> logits

The cell is the authors' GRSN (:class:`~grsn_edu.snn.cores.GRSNFirstReleaseCore`, whose output :math:`o_t` is
spikes), a GRU (``nn.GRU``) or an LSTM (``nn.LSTM``); everything else is the same in the three actors. Only
the actor is counted: it is what runs when the agent acts (the critics serve training).

The counts follow :mod:`grsn_edu.snn.ops`: a synapse driven by a binary input (spikes, the one-hot previous
action, CartPole's reward of 0 or 1) costs one AC per nonzero input per target, a real-valued one a MAC per
input per target, a bias an AC per target; inside the cells, each core's declared element-wise operations.
``event_driven=False`` counts hardware that runs every layer as a dense matrix product: every synapse costs a
MAC per input per target, spikes or not. The first policy layer reads :math:`[o_t; e_t]`: with the GRSN cell
and ``event_driven=True`` its 128 spike inputs cost ACs and its 32 real ones MACs.

Acting (``acting=True``, the default) calls the cell once per environment step, as deployment does; with the
authors' cell the membrane then starts from 0 at every step (their ``functional.reset_net`` after each
forward call) and fires only where :math:`h_t \ge 2`. ``acting=False`` runs each sequence in one call, as their
training does, carrying the membrane over its steps; the firing rate, and so the energy, differ.

Untrained, the authors' cell is silent on CartPole-P (the gated current of the small embeddings stays far
below threshold). :func:`imitate` trains an actor briefly, on sequences as the authors train, to copy a
controller that sees the whole state (:func:`expert_action`); :func:`imitation_accuracy` then compares how
well it acts one step per call and one sequence per call.

Example:
    >>> import torch
    >>> from grsn_edu.rl.authors_actor import AuthorsActor, actor_ops, cartpole_batch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> batch = cartpole_batch(batch_size=2, steps=16, seed=0)      # random actions
    >>> tuple(batch.observs.shape), tuple(batch.prev_actions.shape)
    ((16, 2, 2), (16, 2, 2))
    >>> counted = actor_ops(AuthorsActor(obs_dim=2, action_dim=2, cell="gru"), batch)
    >>> counted.report.decisions, counted.report.rows[0].layer
    (32, 'action embedding')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from grsn_edu.envs.gym_tasks import make_env
from grsn_edu.snn.cores import Core, make_core
from grsn_edu.snn.ops import EnergyReport, OpCount, Synapse, linear_ops
from grsn_edu.snn.trace import Trace
from grsn_edu.util.validation import check_int

__all__ = ["ACTOR_CELLS", "ActorBatch", "AuthorsActor", "ActorOps", "expert_action", "cartpole_batch", "actor_ops",
           "compare_actor_energy", "imitate", "imitation_accuracy"]

#: The cells an :class:`AuthorsActor` can have.
ACTOR_CELLS = ("grsn", "gru", "lstm")


class _LSTMCore(Core):
    """``torch.nn.LSTM``, one layer, on the shared time loop: state ``{"h", "c"}``, counted like an LSTM cell
    (4 gate blocks, dense on the input and on the real-valued h_{t-1}; 3 multiplies and 5 adds per unit)."""

    _name = "lstm"
    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        self.lstm = nn.LSTM(self.input_size, self.hidden_size)

    def step(self, x_t, state, trace):
        y, (h, c) = self.lstm(x_t.unsqueeze(0), (state["h"].unsqueeze(0), state["c"].unsqueeze(0)))
        if trace is not None:
            trace.add("h", y[0])
        return y[0], {"h": h[0], "c": c[0]}

    @classmethod
    def synapse_layers(cls, input_size, hidden_size) -> tuple[Synapse, ...]:
        return (Synapse("input weights", "x", input_size, 4 * hidden_size),
                Synapse("recurrent weights", "state", hidden_size, 4 * hidden_size, note="real-valued h_{t-1}"))

    @classmethod
    def elementwise_ops(cls, hidden_size, updates, resets):
        # f*c, i*g, o*tanh(c) are 3 multiplies; the four gate sums and c's sum are 5 adds (as GRUCore counts a GRU)
        n = float(updates * hidden_size)
        return [OpCount("gating", mac=3 * n, ac=5 * n, note="element-wise")]


@dataclass
class ActorBatch:
    """A batch of sequences as the actor reads them, each ``(T, B, ...)`` float32: the previous action one-hot
    ``(T, B, A)`` (zeros at an episode start), the previous reward ``(T, B, 1)`` (0 at a start), the observation
    ``(T, B, O)``; ``episode_start`` ``(T, B)`` bool; ``expert_actions`` ``(T, B)`` int64, what
    :func:`expert_action` would do at each step (a label for :func:`imitate`)."""

    prev_actions: torch.Tensor
    rewards: torch.Tensor
    observs: torch.Tensor
    episode_start: torch.Tensor
    expert_actions: torch.Tensor


def expert_action(state: Sequence[float]) -> int:
    r"""A linear controller on CartPole's full state ``(x, x_dot, theta, theta_dot)``: push right (1) when
    :math:`\theta + 0.5\dot\theta + 0.05 x + 0.1 \dot x > 0`. It balances the pole for the full 500 steps;
    it reads the velocities that CartPole-P hides, so an actor copying it must infer them."""
    x, x_dot, theta, theta_dot = (float(v) for v in state)
    return int(theta + 0.5 * theta_dot + 0.05 * x + 0.1 * x_dot > 0)


def cartpole_batch(env_id: str = "CartPole-P", batch_size: int = 16, steps: int = 64, seed: int = 0,
                   epsilon: float = 1.0) -> ActorBatch:
    """Real observations of a CartPole task: ``batch_size`` sequences of ``steps`` steps.

    Each sequence runs one environment (seeded ``seed, seed + 1, ...``); at each step the action is uniformly
    random with probability ``epsilon`` (default 1: random actions) and :func:`expert_action` otherwise. A new
    episode starts where one ends (``episode_start`` marks it; the previous action and reward are then zeros, as
    the authors' actor starts an episode).
    """
    batch_size, steps = check_int("batch_size", batch_size), check_int("steps", steps)
    seed = check_int("seed", seed, minimum=0)
    if not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"epsilon is a probability in [0, 1], got {epsilon}")
    env = make_env(env_id)
    n_actions = int(env.action_space.n)
    rng = np.random.default_rng(seed)
    obs_dim = env.observation_space.shape[0]
    observs = np.zeros((steps, batch_size, obs_dim), dtype=np.float32)
    prev_actions = np.zeros((steps, batch_size, n_actions), dtype=np.float32)
    rewards = np.zeros((steps, batch_size, 1), dtype=np.float32)
    starts = np.zeros((steps, batch_size), dtype=bool)
    experts = np.zeros((steps, batch_size), dtype=np.int64)
    for b in range(batch_size):
        obs, _ = env.reset(seed=seed + b)
        start = True
        for t in range(steps):
            observs[t, b], starts[t, b] = obs, start
            experts[t, b] = expert_action(env.unwrapped.state)
            action = int(rng.integers(n_actions)) if rng.random() < epsilon else int(experts[t, b])
            obs, reward, terminated, truncated, _ = env.step(action)
            start = terminated or truncated
            if start:
                obs, _ = env.reset()
            elif t + 1 < steps:
                prev_actions[t + 1, b, action] = 1.0
                rewards[t + 1, b, 0] = reward
    env.close()
    return ActorBatch(*(torch.as_tensor(a) for a in (prev_actions, rewards, observs, starts, experts)))


class AuthorsActor(nn.Module):
    """The authors' actor layout (see the module docstring) with a GRSN, GRU or LSTM cell.

    Args:
        obs_dim: O, observation features (CartPole-P: 2).
        action_dim: A, discrete actions (CartPole: 2); the previous action is read one-hot.
        cell: ``"grsn"`` (:class:`~grsn_edu.snn.cores.GRSNFirstReleaseCore`), ``"gru"`` or ``"lstm"``.
        hidden_size: H, units in the cell (128).
        action_embedding, reward_embedding, observ_embedding: widths of the three embeddings (8, 8, 32); the
            cell reads their concatenation and the second observation embedding is ``observ_embedding`` wide.
        policy_layers: hidden widths of the policy MLP (128, 128).
        **cell_options: passed to the GRSN cell: ``reset_membrane_each_call``, ``tau``, ``threshold``.
    """

    #: Options of the GRSN cell that keep the authors' layout (a spike output, one update per step).
    CELL_OPTIONS = ("reset_membrane_each_call", "tau", "threshold")

    def __init__(self, obs_dim: int, action_dim: int, cell: str = "grsn", hidden_size: int = 128,
                 action_embedding: int = 8, reward_embedding: int = 8, observ_embedding: int = 32,
                 policy_layers: Sequence[int] = (128, 128), **cell_options):
        super().__init__()
        if cell not in ACTOR_CELLS:
            raise ValueError(f"cell must be one of {ACTOR_CELLS}, got {cell!r}")
        if cell_options and cell != "grsn":
            raise ValueError(f"cell options {sorted(cell_options)} apply to the GRSN cell only, not {cell!r}")
        unknown = sorted(set(cell_options) - set(self.CELL_OPTIONS))
        if unknown:
            raise ValueError(f"unknown GRSN cell options {unknown}; the actor's cell takes {list(self.CELL_OPTIONS)}")
        obs_dim, action_dim = check_int("obs_dim", obs_dim), check_int("action_dim", action_dim)
        H = check_int("hidden_size", hidden_size)
        widths = [check_int(n, w) for n, w in (("action_embedding", action_embedding),
                                                ("reward_embedding", reward_embedding),
                                                ("observ_embedding", observ_embedding))]
        layers = [check_int("policy layer width", w) for w in policy_layers]
        self.cell_kind = cell
        self.action_embedder = nn.Linear(action_dim, widths[0])
        self.reward_embedder = nn.Linear(1, widths[1])
        self.observ_embedder = nn.Linear(obs_dim, widths[2])
        if cell == "grsn":
            self.cell = make_core("grsn-first-release", sum(widths), H, **cell_options)
        elif cell == "gru":
            self.cell = make_core("gru", sum(widths), H)
        else:
            self.cell = _LSTMCore(sum(widths), H)
        self.current_observ_embedder = nn.Linear(obs_dim, widths[2])
        sizes = [H + widths[2], *layers]
        self.policy = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.policy_output = nn.Linear(sizes[-1], action_dim)

    def forward(self, batch: ActorBatch, acting: bool = True, trace: Trace | None = None,
                activations: dict | None = None) -> torch.Tensor:
        """Action logits ``(T, B, A)`` for every step of ``batch``, the cell starting from its initial state.

        ``acting=True`` calls the cell once per step (state carried, episode starts reset it), as an agent acting
        in an environment does; ``acting=False`` calls it once on the whole sequence. ``trace`` records the
        cell's internals; ``activations``, when given, receives each layer's input ``(T, B, in_features)`` under
        the layer's name.
        """
        relu = torch.relu
        inputs = {"action embedding": batch.prev_actions, "reward embedding": batch.rewards,
                  "observation embedding": batch.observs, "policy observation embedding": batch.observs}
        cell_in = torch.cat([relu(self.action_embedder(batch.prev_actions)), relu(self.reward_embedder(batch.rewards)),
                             relu(self.observ_embedder(batch.observs))], dim=-1)
        state = self.cell.initial_state(cell_in.shape[1])
        if acting:
            outs = []
            for t in range(cell_in.shape[0]):
                out, state = self.cell(cell_in[t : t + 1], state, episode_start=batch.episode_start[t : t + 1],
                                       trace=trace)
                outs.append(out)
            cell_out = torch.cat(outs)
        else:
            cell_out, _ = self.cell(cell_in, state, episode_start=batch.episode_start, trace=trace)
        x = torch.cat([cell_out, relu(self.current_observ_embedder(batch.observs))], dim=-1)
        for i, fc in enumerate(self.policy):
            inputs[f"policy layer {i + 1}"] = x
            x = relu(fc(x))
        inputs["policy output"] = x
        if activations is not None:
            activations.update(inputs)
        return self.policy_output(x)

    def layers(self) -> dict[str, nn.Linear]:
        """The actor's linear layers outside the cell, by the names of their rows in :func:`actor_ops`."""
        named = {"action embedding": self.action_embedder, "reward embedding": self.reward_embedder,
                 "observation embedding": self.observ_embedder,
                 "policy observation embedding": self.current_observ_embedder}
        named.update({f"policy layer {i + 1}": fc for i, fc in enumerate(self.policy)})
        named["policy output"] = self.policy_output
        return named


@dataclass
class ActorOps:
    """Per-decision operations of an actor over a batch: the report (one row per layer; the cell's rows are
    prefixed ``cell:``) and the cell's firing rate (spikes per unit per step; NaN for a GRU or LSTM)."""

    report: EnergyReport
    firing_rate: float


#: The layers that read a binary-valued input as the authors feed it (one-hot action, reward of 0 or 1 in
#: CartPole); with event-driven counting linear_ops checks the tensor and counts ACs only when it is binary.
_MAYBE_BINARY = ("action embedding", "reward embedding")


def actor_ops(actor: AuthorsActor, batch: ActorBatch, acting: bool = True, event_driven: bool = True) -> ActorOps:
    """Run ``actor`` on ``batch`` (no gradients) and count its operations per decision (``T * B`` decisions).

    Args:
        actor: an :class:`AuthorsActor`.
        batch: e.g. :func:`cartpole_batch`.
        acting: one cell call per step (deployment) or one per sequence (see :meth:`AuthorsActor.forward`).
        event_driven: True: spikes and one-hot inputs cost ACs; False: every synapse costs a MAC per input.
    """
    trace, activations = Trace(), {}
    with torch.no_grad():
        actor(batch, acting=acting, trace=trace, activations=activations)
    T, B = batch.observs.shape[:2]
    decisions = T * B
    H = actor.cell.hidden_size
    rows = []
    for name, fc in actor.layers().items():
        x, width = activations[name], fc.out_features
        if event_driven and name in _MAYBE_BINARY:
            rows.append(linear_ops(name, x, width))
        elif event_driven and name == "policy layer 1" and actor.cell.spiking:  # [spikes; real embedding]
            rows.append(linear_ops(name, x, width, binary_features=slice(0, H)))
        else:
            rows.append(linear_ops(name, x, width, event_driven=False, note="real-valued" if event_driven else ""))
    cell_rows = [OpCount(f"cell: {r.layer}", r.mac, r.ac, r.note) for r in actor.cell.op_counts(trace)]
    rows = rows[:3] + cell_rows + rows[3:]
    rate = float(trace["spk"].mean()) if actor.cell.spiking else float("nan")
    return ActorOps(EnergyReport([r.scaled(1.0 / decisions) for r in rows], decisions), rate)


def compare_actor_energy(batch: ActorBatch | None = None, seed: int = 0, acting: bool = True,
                         actors: dict[str, AuthorsActor] | None = None, **actor_options) -> dict:
    """The authors' GRSN actor's energy per decision as a fraction of the GRU actor's and the LSTM actor's.

    Builds the three actors (seeded ``seed``; or takes ``actors``, ``{"grsn": ..., "gru": ..., "lstm": ...}``),
    runs each on ``batch`` (default: :func:`cartpole_batch` with ``seed``) and counts both ways.

    Returns:
        ``{"firing_rate": r, "energy_pj": {(cell, mode): pJ}, "grsn/gru": {mode: ratio},
        "grsn/lstm": {mode: ratio}, "reports": {(cell, mode): EnergyReport}}`` with ``mode`` ``"event-driven"``
        or ``"dense"``.
    """
    batch = cartpole_batch(seed=seed) if batch is None else batch
    if actors is None:
        obs_dim, action_dim = batch.observs.shape[-1], batch.prev_actions.shape[-1]
        actors = {}
        for cell in ACTOR_CELLS:
            torch.manual_seed(seed)
            actors[cell] = AuthorsActor(obs_dim, action_dim, cell=cell, **(actor_options if cell == "grsn" else {}))
    reports, energy, rate = {}, {}, float("nan")
    for cell, actor in actors.items():
        for mode, event_driven in (("event-driven", True), ("dense", False)):
            counted = actor_ops(actor, batch, acting=acting, event_driven=event_driven)
            reports[cell, mode], energy[cell, mode] = counted.report, counted.report.energy_pj()
            if cell == "grsn":
                rate = counted.firing_rate
    modes = ("event-driven", "dense")
    return {"firing_rate": rate, "energy_pj": energy, "reports": reports,
            "grsn/gru": {m: energy["grsn", m] / energy["gru", m] for m in modes},
            "grsn/lstm": {m: energy["grsn", m] / energy["lstm", m] for m in modes}}


def imitate(actor: AuthorsActor, steps: int = 300, batch_size: int = 16, seq_len: int = 64, lr: float = 3e-3,
            epsilon: float = 0.2, seed: int = 0) -> list[float]:
    """Train ``actor`` briefly to copy :func:`expert_action` on CartPole-P: cross-entropy on fresh sequences.

    Each update draws a :func:`cartpole_batch` (``epsilon`` random actions among the expert's, so the actor
    also sees states off the expert's path) and runs it in one cell call per sequence, as the authors train
    (``acting=False``); Adam with learning rate ``lr``. Returns the loss of every update.
    """
    steps = check_int("steps", steps)
    optimiser = torch.optim.Adam(actor.parameters(), lr=lr)
    losses = []
    for i in range(steps):
        batch = cartpole_batch(batch_size=batch_size, steps=seq_len, seed=seed + i * batch_size, epsilon=epsilon)
        logits = actor(batch, acting=False)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch.expert_actions.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def imitation_accuracy(actor: AuthorsActor, batch: ActorBatch, acting: bool = True) -> float:
    """Fraction of the steps of ``batch`` where the actor's most likely action is the expert's."""
    with torch.no_grad():
        logits = actor(batch, acting=acting)
    return float((logits.argmax(-1) == batch.expert_actions).float().mean())
