"""Solutions to the exercises of the chapter ``energy_claims`` (when "about 50 %" holds). Try the exercise before
reading on.

Each is also shown in the notebook, in the collapsed *Solution* block under the exercise's check cell; to
load one into a cell instead: ``%load -s break_even_rate ../grsn_edu/course/solutions/energy_claims.py``.
"""

from __future__ import annotations

__all__ = ["break_even_rate"]


def break_even_rate(input_size: int, hidden_size: int, fraction: float = 1.0) -> float:
    """Exercise 1: the firing rate at which a TAP GRSN core (gates driven by spikes) costs ``fraction`` of a GRU.

    Per decision, at firing rate r (s = r * H spikes per update):
    GRSN: encoder I*H MAC + H AC; gates 2H*s + 2H AC; gating 2H MAC + 2H AC; membrane H MAC + 2H + s AC.
    GRU: as ``gru_ops`` counts it (the energy chapter's exercise 1). GRSN's energy is a + b r; solve
    a + b r = fraction * E_GRU for r.
    """
    I, H = input_size, hidden_size
    e_mac, e_ac = 4.6, 0.9  # pJ per MAC and per AC (written out so that this function loads on its own)
    e_gru = (3 * H * I + 3 * H * H + 3 * H) * e_mac + 11 * H * e_ac  # as in gru_ops
    a = (I * H + 3 * H) * e_mac + 7 * H * e_ac  # what GRSN pays with no spikes at all
    b = (2 * H * H + H) * e_ac  # per unit of firing rate: gate accumulates and resets
    return (fraction * e_gru - a) / b
