"""Solutions to the exercises of the chapter ``tap`` (the temporal alignment paradigm). Try the exercise before
reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s gate_acs ../grsn_edu/course/solutions/tap.py``.
"""

from __future__ import annotations

__all__ = ["gate_acs", "memory_left"]


def gate_acs(spike_counts: list[int], hidden_size: int) -> float:
    r"""Exercise 1: accumulates (ACs) of GRSN's spike-driven gate synapses in one decision.

    With ``gate_input="spikes"`` the forget gate and the candidate current read the previous spikes through
    one linear layer ``H -> 2H`` with a bias. A spike costs one AC per target (2H targets); a silent unit costs
    nothing; the bias costs 2H additions at every spiking update. A decision has S updates (S = 1 under TAP),
    so with :math:`n_k` spikes arriving at update k:

    .. math:: \mathrm{AC} = \sum_{k=1}^{S} (n_k \cdot 2H + 2H) = 2H\,\Big(\sum_k n_k + S\Big)

    Args:
        spike_counts: ``(S,)`` the number of spikes arriving at the gates at each update of the decision.
        hidden_size: H.
    """
    return float(sum(2 * hidden_size * (n + 1) for n in spike_counts))


def memory_left(beta: float, env_steps: int, substeps: int = 1) -> float:
    r"""Exercise 2: the fraction of a (sub-threshold) membrane that is left after ``env_steps`` silent env steps.

    The membrane decays by :math:`\beta` per *spiking update*, and an environment step holds S updates, so
    after k environment steps without input :math:`\beta^{kS}` of it is left. Under TAP (S = 1) that is
    :math:`\beta^k`; with S = 4 sub-steps the same neuron forgets four times faster per environment step.
    """
    return float(beta ** (env_steps * substeps))
