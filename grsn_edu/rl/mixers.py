"""Value-decomposition mixers: how per-agent utilities Q_i combine into the team's value Q_tot.

* **VDN** (Sunehag et al. 2018): Q_tot = sum_i Q_i.
* **QMIX** (Rashid et al. 2018): Q_tot = f(Q_1..Q_N; s), a mixing network whose weights are produced from the
  global state s by hypernetworks and made non-negative, so dQ_tot/dQ_i >= 0 (monotonic mixing).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MIXERS", "VDNMixer", "QMixer"]


MIXERS = ("qmix", "vdn")

class VDNMixer(nn.Module):
    """Q_tot = sum of the agents' Q_i. ``forward(q (..., N), state) -> (...)``."""

    def forward(self, agent_qs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return agent_qs.sum(-1)

class QMixer(nn.Module):
    """QMIX's monotonic mixing network, its weights made from the global state by hypernetworks.

    Q_tot = w2(s)^T ELU(W1(s)^T q + b1(s)) + b2(s), with |W1|, |w2| >= 0 so dQ_tot/dq_i >= 0.

    ``forward(agent_qs (..., N), state (..., S)) -> Q_tot (...)``.

    Example:
        >>> import torch
        >>> mixer = QMixer(n_agents=3, state_size=5)
        >>> q = torch.randn(7, 3, requires_grad=True)
        >>> q_tot = mixer(q, torch.randn(7, 5))
        >>> bool((torch.autograd.grad(q_tot.sum(), q)[0] >= 0).all())   # monotonic in every agent's Q
        True
    """

    def __init__(self, n_agents: int, state_size: int, embed_dim: int = 32, hypernet_hidden: int = 64):
        super().__init__()
        self.n_agents, self.embed_dim = n_agents, embed_dim
        self.hyper_w1 = nn.Sequential(nn.Linear(state_size, hypernet_hidden), nn.ReLU(),
                                      nn.Linear(hypernet_hidden, n_agents * embed_dim))
        self.hyper_b1 = nn.Linear(state_size, embed_dim)
        self.hyper_w2 = nn.Sequential(nn.Linear(state_size, hypernet_hidden), nn.ReLU(),
                                      nn.Linear(hypernet_hidden, embed_dim))
        self.hyper_b2 = nn.Sequential(nn.Linear(state_size, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(self, agent_qs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        lead = agent_qs.shape[:-1]
        q = agent_qs.reshape(-1, 1, self.n_agents)
        s = state.reshape(q.shape[0], -1)
        w1 = self.hyper_w1(s).abs().view(-1, self.n_agents, self.embed_dim)
        hidden = F.elu(torch.bmm(q, w1) + self.hyper_b1(s).view(-1, 1, self.embed_dim))
        w2 = self.hyper_w2(s).abs().view(-1, self.embed_dim, 1)
        return (torch.bmm(hidden, w2) + self.hyper_b2(s).view(-1, 1, 1)).view(lead)
