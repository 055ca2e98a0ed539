"""Value decomposition on a one-step cooperative matrix game: what VDN and QMIX can represent.

Two agents each pick one of A actions at the same time and share one payoff ``payoff[a1, a2]``. Centralised
training fits a per-agent utility table ``Q_i(a_i)`` (A numbers per agent) and a mix of them, ``Q_tot(a1, a2) =
mix(Q_1(a1), Q_2(a2))``, to the payoff table; decentralised execution then has each agent take
``argmax Q_i`` on its own. The mix decides what can be represented:

* **VDN**: ``Q_tot = Q_1 + Q_2``. Only additive tables are exact.
* **QMIX**: ``Q_tot = f(Q_1, Q_2)`` with f monotonic in each argument (a small network with non-negative
  weights; the :class:`grsn_edu.rl.mixers.QMixer` of training, here fed a constant state because a matrix game has
  only one state). Any table whose rows and columns can be ordered so that it grows along both is
  representable, and every such mix has the *individual-global-max* property: the agents' own argmaxes form
  the argmax of Q_tot.

Neither can represent a payoff where an agent's best action depends on what the other does (a
non-monotonic table). When the fit weighs every joint action equally, an action whose payoff is high with one
partner action and very low with the others looks bad on average to both mixes, and the agents settle on a safe
joint action instead: *relative overgeneralisation*. Weighing the best joint action more (the idea of Weighted
QMIX, Rashid et al. 2020) brings it back. :data:`MATRIX_GAMES` has one game of each kind.

Example:
    >>> fit = fit_matrix_game(MATRIX_GAMES["additive"], "vdn", steps=1500)
    >>> bool(abs(fit.q_tot - MATRIX_GAMES["additive"]).max() < 0.05)
    True
    >>> fit.greedy_joint == fit.decentralised_greedy
    True
    >>> fit.fits_table, fit_matrix_game(MATRIX_GAMES["coordination"], "vdn").fits_table
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from grsn_edu.rl.mixers import MIXERS, QMixer, VDNMixer

__all__ = ["MATRIX_GAMES", "FIT_TOLERANCE", "GameFit", "fit_matrix_game", "joint_q_inputs"]

#: Two-agent one-step cooperative games, 3 actions each, as payoff tables ``payoff[a1, a2]``.
#:
#: * ``additive``: each agent's contribution adds up (payoff = r1[a1] + r2[a2]); VDN represents it exactly.
#: * ``coordination``: a large payoff only when both pick action 2 (monotonic but not additive): QMIX
#:   represents it, VDN only approximates it.
#: * ``penalty``: 8 if both pick action 0, but -12 if only one does (non-monotonic: action 0 is best for agent 1
#:   only if agent 2 also takes it); neither mix represents it. It is the matrix game of the QTRAN paper (Son et
#:   al. 2019, table 1).
#: * ``climb``: the climbing game (Claus and Boutilier 1998): 11 if both pick action 0, but -30 if only one does;
#:   the safe action 2 pays 0 to 5 whatever the other does. Non-monotonic, and the textbook case of relative
#:   overgeneralisation: averaged over the partner's actions, action 0 is the worst an agent can take.
MATRIX_GAMES = {
    "additive": np.array([[0.0, 2.0, 1.0], [3.0, 5.0, 4.0], [1.0, 3.0, 2.0]]),
    "coordination": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 10.0]]),
    "penalty": np.array([[8.0, -12.0, -12.0], [-12.0, 0.0, 0.0], [-12.0, 0.0, 0.0]]),
    "climb": np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]]),
}

#: How close a learned value must come to the payoff to count as fitted, as a share of the table's range (largest
#: minus smallest payoff). A fit is found by gradient descent in float32, so its last digits depend on the CPU
#: (on the order in which a matrix product adds its terms); the tables and joint actions notebook 09 judges are
#: fitted either within a few percent of the range (at most 6% over seeds) or off by more than 20%, so its
#: verdicts do not.
FIT_TOLERANCE = 0.1


@dataclass
class GameFit:
    """The result of :func:`fit_matrix_game`.

    Attributes:
        mixer: ``"vdn"`` or ``"qmix"``.
        payoff: ``(A, A)`` the true payoff table.
        agent_qs: ``(2, A)`` the learned utilities Q_i(a) of agent i.
        q_tot: ``(A, A)`` the learned joint value ``mix(Q_1(a1), Q_2(a2))``.
        loss: the final (weighted) mean squared error over the A * A joint actions.
    """

    mixer: str
    payoff: np.ndarray
    agent_qs: np.ndarray
    q_tot: np.ndarray
    loss: float

    @property
    def greedy_joint(self) -> tuple[int, int]:
        """The joint action with the highest learned Q_tot (centralised greedy)."""
        return tuple(int(i) for i in np.unravel_index(np.argmax(self.q_tot), self.q_tot.shape))

    @property
    def decentralised_greedy(self) -> tuple[int, int]:
        """Each agent's own argmax of Q_i (decentralised execution)."""
        return tuple(int(i) for i in self.agent_qs.argmax(1))

    @property
    def payoff_of_greedy(self) -> float:
        """The true payoff the agents get when each takes its own argmax."""
        return float(self.payoff[self.decentralised_greedy])

    @property
    def rms_error(self) -> float:
        """Root-mean-square error of the learned Q_tot over all joint actions, every one weighed equally."""
        return float(np.sqrt(((self.q_tot - self.payoff) ** 2).mean()))

    @property
    def fits_table(self) -> bool:
        """Whether Q_tot fits the whole payoff table: :attr:`rms_error` within :data:`FIT_TOLERANCE` of its range."""
        return bool(self.rms_error <= FIT_TOLERANCE * np.ptp(self.payoff))

    def fits_at(self, joint: tuple[int, int]) -> bool:
        """Whether Q_tot fits the payoff of the joint action ``(a1, a2)``: within :data:`FIT_TOLERANCE` of the
        table's range."""
        return bool(abs(self.q_tot[joint] - self.payoff[joint]) <= FIT_TOLERANCE * np.ptp(self.payoff))


def joint_q_inputs(agent_qs: torch.Tensor) -> torch.Tensor:
    """Every joint action's pair of utilities: ``agent_qs (2, A)`` -> ``(A, A, 2)``, entry ``[a1, a2] =
    (Q_1(a1), Q_2(a2))``, ready for a mixer that takes ``(..., N)``."""
    if agent_qs.dim() != 2 or agent_qs.shape[0] != 2:
        raise ValueError(f"agent_qs must have shape (2, A) (two agents), got {tuple(agent_qs.shape)}")
    A = agent_qs.shape[1]
    a1, a2 = torch.meshgrid(torch.arange(A), torch.arange(A), indexing="ij")
    return torch.stack([agent_qs[0][a1], agent_qs[1][a2]], dim=-1)


def fit_matrix_game(payoff, mixer: str, steps: int = 1500, lr: float = 0.01, seed: int = 0,
                    embed_dim: int = 8, weights=None) -> GameFit:
    """Fit per-agent utility tables and a mix to a two-agent payoff table by gradient descent.

    By default every joint action is weighted equally (as if the agents explored uniformly) and the loss is the
    mean squared error between ``Q_tot(a1, a2)`` and ``payoff[a1, a2]``, optimised with Adam. QMIX uses
    :class:`grsn_edu.rl.mixers.QMixer` with a constant one-number state (a matrix game has a single state).

    Args:
        payoff: ``(A, A)`` array, ``payoff[a1, a2]`` the shared reward (e.g. ``MATRIX_GAMES["penalty"]``).
        mixer: ``"vdn"`` or ``"qmix"``.
        steps: gradient steps (1500 take about a second for QMIX).
        lr: Adam's learning rate.
        seed: seeds the initial utilities and the mixer's weights.
        embed_dim: QMIX's hidden mixing units.
        weights: ``(A, A)`` non-negative weight of each joint action in the loss (a weighted mean of the squared
            errors), e.g. how often the joint action is explored; ``None`` weighs all equally.

    Returns:
        A :class:`GameFit`.
    """
    if mixer not in MIXERS:
        raise ValueError(f"unknown mixer {mixer!r}; known mixers: {', '.join(MIXERS)}")
    table = np.asarray(payoff, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] != table.shape[1] or table.shape[0] < 2:
        raise ValueError(f"payoff must be a square (A, A) table with A >= 2, got shape {table.shape}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if weights is None:
        weights = np.ones_like(table)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != table.shape or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"weights must be a non-negative {table.shape} table with a positive sum, got "
                         f"shape {weights.shape}")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    A = table.shape[0]
    agent_qs = torch.nn.Parameter(0.1 * torch.randn(2, A, generator=generator))
    mix = QMixer(2, state_size=1, embed_dim=embed_dim, hypernet_hidden=16) if mixer == "qmix" else VDNMixer()
    optimizer = torch.optim.Adam([agent_qs, *mix.parameters()], lr=lr)
    target = torch.as_tensor(table, dtype=torch.float32)
    weight = torch.as_tensor(weights / weights.sum(), dtype=torch.float32)
    state = torch.ones(A, A, 1)
    for _ in range(steps):
        q_tot = mix(joint_q_inputs(agent_qs), state)
        loss = (weight * (q_tot - target).pow(2)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        q_tot = mix(joint_q_inputs(agent_qs), state)
        loss = (weight * (q_tot - target).pow(2)).sum()
    return GameFit(mixer=mixer, payoff=table, agent_qs=agent_qs.detach().numpy().astype(np.float64),
                   q_tot=q_tot.numpy().astype(np.float64), loss=float(loss))
