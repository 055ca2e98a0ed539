"""Verdicts of notebook 10: does a team beat a yardstick, beyond chance, and what does the memory test conclude?

A saved run's final evaluation is the mean team return of a few greedy episodes, and each agent has a few
seeds, so two agents' medians can differ by chance. The helpers here make every verdict from the seeds' final
returns and an explicit noise band, so that the notebook states only what they decide:

* :func:`noise_band`: how large a difference of two means chance alone could make (two standard errors);
* :func:`seed_verdict`: one agent's seeds ``[worst, best]`` against another's (or against a single yardstick
  value, with ``worst == best``): clearly above, clearly below, level, or seeds on both sides of the band;
* :func:`seed_ranges` and :func:`verdicts_against`: those verdicts for every task, algorithm and agent of a grid;
* :func:`compare_algorithms`: the algorithms (MAPPO, QMIX, VDN) against each other, agent by agent;
* :func:`compare_grsn`: the comparisons the chapter set out to make (GRSN within 10 % of GRU; GRSN's worst seed
  above the best of the MLP and LIF teams);
* :func:`memory_test_conclusion`: what the memory task can conclude from the verdicts, including that it cannot
  conclude anything yet when the data has no learned team on the memory task.

Returns are team returns (summed over agents and steps; higher is better). The runs table has one row per
run with the columns ``env``, ``algo``, ``agent``, ``seed`` and ``final_eval_return``
(``data/marl/summary.csv``, without its baseline rows of algo ``none``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "CLEARLY_ABOVE",
    "CLEARLY_BELOW",
    "MIXED",
    "NOT_CLEAR",
    "LEVEL",
    "MEMORY_AGENTS",
    "noise_band",
    "seed_verdict",
    "SeedRange",
    "seed_ranges",
    "verdicts_against",
    "teams_with_verdict",
    "compare_algorithms",
    "GRSNComparison",
    "compare_grsn",
    "MemoryTestConclusion",
    "memory_test_conclusion",
]

CLEARLY_ABOVE = "clearly above"
CLEARLY_BELOW = "clearly below"
MIXED = "mixed (seeds on both sides of the noise band)"
NOT_CLEAR = "not clearly different (some seeds beyond the noise band, others within it)"
LEVEL = "level (every seed within the noise)"

#: The agents with a recurrent state; the MLP is the memoryless control.
MEMORY_AGENTS = ("gru", "lif", "grsn")

FINAL = "final_eval_return"


def noise_band(episode_std: float, *episodes: int) -> float:
    r"""Two standard errors of a difference of mean returns: how far apart chance alone puts two means.

    For means over :math:`n_1, n_2, \dots` episodes with the same per-episode standard deviation
    :math:`\sigma`: :math:`2 \sigma \sqrt{\sum_k 1 / n_k}`. Notebook 10 uses the landmark-blind formation's
    episode-to-episode spread as a stand-in for every team's.

    Args:
        episode_std: the per-episode standard deviation of the team return.
        *episodes: the number of episodes behind each mean (at least one mean, each at least one episode).

    Returns:
        The band's half-width, in return units.
    """
    if not episodes or any(n < 1 for n in episodes):
        raise ValueError(f"need at least one mean of at least one episode, got {episodes}")
    if episode_std < 0:
        raise ValueError(f"a standard deviation is not negative, got {episode_std}")
    return 2.0 * episode_std * math.sqrt(sum(1.0 / n for n in episodes))


def seed_verdict(worst: float, best: float, other_worst: float, other_best: float, band: float) -> str:
    """One agent's seeds ``[worst, best]`` against another's ``[other_worst, other_best]``, with a noise band.

    * :data:`CLEARLY_ABOVE` if even the worst seed is above the other's best by more than ``band``;
    * :data:`CLEARLY_BELOW` if even the best seed is below the other's worst by more than ``band``;
    * :data:`MIXED` if some seeds are beyond the band above the other and some beyond it below;
    * :data:`NOT_CLEAR` if some seeds are beyond the band on one side and the rest within it;
    * :data:`LEVEL` if every seed is within the band of the other's.

    A single yardstick value (a baseline policy's mean) is passed as ``other_worst == other_best``.
    """
    if worst > best or other_worst > other_best:
        raise ValueError(f"worst must not exceed best: [{worst}, {best}] against [{other_worst}, {other_best}]")
    if worst - other_best > band:
        return CLEARLY_ABOVE
    if other_worst - best > band:
        return CLEARLY_BELOW
    below = worst - other_best < -band  # a seed beyond the band below the other's seeds
    above = best - other_worst > band  # a seed beyond the band above them
    if below and above:
        return MIXED
    if below or above:
        return NOT_CLEAR
    return LEVEL


@dataclass(frozen=True)
class SeedRange:
    """The final returns of one agent's seeds: median, worst, best and how many seeds."""

    median: float
    worst: float
    best: float
    seeds: int

    def against(self, other: SeedRange | float, band: float) -> str:
        """:func:`seed_verdict` of these seeds against another agent's seeds or a single value."""
        lo, hi = (other, other) if isinstance(other, (int, float)) else (other.worst, other.best)
        return seed_verdict(self.worst, self.best, lo, hi, band)


def seed_ranges(runs: pd.DataFrame, env_id: str, algo: str) -> dict[str, SeedRange]:
    """``{agent: SeedRange}`` of the final returns of every agent trained on ``env_id`` with ``algo``."""
    rows = runs[(runs["env"] == env_id) & (runs["algo"] == algo)]
    return {agent: SeedRange(float(final.median()), float(final.min()), float(final.max()), int(final.size))
            for agent, final in rows.groupby("agent")[FINAL]}


def verdicts_against(runs: pd.DataFrame, yardstick: Mapping[str, float], band: Mapping[str, float]) -> pd.DataFrame:
    """Every task, algorithm and agent of ``runs`` against a yardstick return per task.

    Args:
        runs: one row per run (``env``, ``algo``, ``agent``, ``seed``, ``final_eval_return``).
        yardstick: ``{env: return}``, e.g. the landmark-blind formation's mean team return.
        band: ``{env: noise band}`` (:func:`noise_band`).

    Returns:
        One row per ``(env, algo, agent)`` (the index), with the columns ``seeds``, ``final_median`` (the
        median of the seeds' final returns; a column named ``median`` would be hidden by a row's method),
        ``worst``, ``best``, ``yardstick``, ``band`` and ``verdict`` (:func:`seed_verdict` with the yardstick as
        a single value).
    """
    rows = []
    for (env_id, algo), _ in runs.groupby(["env", "algo"], sort=True):
        for agent, r in seed_ranges(runs, env_id, algo).items():
            rows.append({"env": env_id, "algo": algo, "agent": agent, "seeds": r.seeds, "final_median": r.median,
                         "worst": r.worst, "best": r.best, "yardstick": yardstick[env_id], "band": band[env_id],
                         "verdict": r.against(yardstick[env_id], band[env_id])})
    columns = ["env", "algo", "agent", "seeds", "final_median", "worst", "best", "yardstick", "band", "verdict"]
    return pd.DataFrame(rows, columns=columns).set_index(["env", "algo", "agent"])


def teams_with_verdict(verdicts: pd.DataFrame, env_id: str, verdict: str = CLEARLY_ABOVE,
                       agents: Iterable[str] | None = None) -> list[str]:
    """The teams (``"agent + algo"``) on ``env_id`` whose verdict is ``verdict``, optionally among ``agents``."""
    if env_id not in verdicts.index.get_level_values("env"):
        return []
    rows = verdicts.xs(env_id, level="env")
    keep = set(agents) if agents is not None else None
    return [f"{agent} + {algo}" for (algo, agent), v in rows["verdict"].items()
            if v == verdict and (keep is None or agent in keep)]


def compare_algorithms(runs: pd.DataFrame, env_id: str, band: float,
                       order: Iterable[str] = ("mappo", "qmix", "vdn")) -> pd.DataFrame:
    """Every pair of algorithms that trained the same agent on ``env_id``, the first against the second.

    Args:
        runs: one row per run (``env``, ``algo``, ``agent``, ``seed``, ``final_eval_return``).
        env_id: the task.
        band: the noise band of a difference of two runs' means (:func:`noise_band`).
        order: the algorithms in the order their pairs are formed (others after them, sorted).

    Returns:
        One row per (agent, algorithm, other algorithm): ``agent``, ``algo``, ``other``, ``seeds``,
        ``other_seeds``, ``median``, ``other_median``, ``band`` and ``verdict`` (:meth:`SeedRange.against`).
        Empty (with these columns) when no agent was trained with two algorithms.
    """
    rows = runs[runs["env"] == env_id]
    known = list(order)
    algos = [a for a in known if a in set(rows["algo"])] + sorted(set(rows["algo"]) - set(known))
    ranges = {algo: seed_ranges(runs, env_id, algo) for algo in algos}
    out = []
    for agent in sorted(set(rows["agent"])):
        have = [a for a in algos if agent in ranges[a]]
        for i, algo in enumerate(have):
            for other in have[i + 1:]:
                r, o = ranges[algo][agent], ranges[other][agent]
                out.append({"agent": agent, "algo": algo, "other": other, "seeds": r.seeds, "other_seeds": o.seeds,
                            "median": r.median, "other_median": o.median, "band": band,
                            "verdict": r.against(o, band)})
    return pd.DataFrame(out, columns=["agent", "algo", "other", "seeds", "other_seeds", "median", "other_median",
                                      "band", "verdict"])


@dataclass(frozen=True)
class GRSNComparison:
    """GRSN against one other agent on one task and algorithm (final returns over seeds)."""

    env: str
    algo: str
    other: str
    grsn: SeedRange
    other_range: SeedRange

    @property
    def shortfall(self) -> float:
        """How far GRSN's median is below the other's, as a fraction of the other's size (negative: above)."""
        return (self.other_range.median - self.grsn.median) / abs(self.other_range.median)

    @property
    def within_10_percent(self) -> bool:
        """GRSN's median is at most 10 % below the other's (the chapter's test against GRU)."""
        return self.shortfall <= 0.10

    @property
    def worst_above_best(self) -> bool:
        """GRSN's worst seed is above the other's best seed (the chapter's strict test against MLP and LIF)."""
        return self.grsn.worst > self.other_range.best

    def describe(self) -> str:
        """One line for the notebook: the medians and the test that applies to this pair."""
        g, o, name = self.grsn, self.other_range, self.other.upper()
        head = f"{self.env}, {self.algo}: GRSN {g.median:.1f} vs {name} {o.median:.1f}"
        if self.other == "gru":
            return (f"{head}: GRSN is {abs(self.shortfall):.1%} {'below' if self.shortfall > 0 else 'above'} GRU "
                    f"-> within 10% of GRU: {self.within_10_percent}")
        return (f"{head} ({g.median - o.median:+.1f}); GRSN's worst seed {g.worst:.1f} above {name}'s best "
                f"{o.best:.1f}: {self.worst_above_best}")


def compare_grsn(runs: pd.DataFrame, env_id: str, algo: str,
                 others: Iterable[str] = ("gru", "mlp", "lif")) -> list[GRSNComparison]:
    """GRSN against each of ``others`` that has runs on ``env_id`` with ``algo`` (none if GRSN has no runs)."""
    ranges = seed_ranges(runs, env_id, algo)
    if "grsn" not in ranges:
        return []
    return [GRSNComparison(env_id, algo, other, ranges["grsn"], ranges[other]) for other in others if other in ranges]


@dataclass(frozen=True)
class MemoryTestConclusion:
    """What the memory task (``spread_memory`` against ``simple_spread``) concludes from the saved runs.

    ``verdict`` is the first step that fails, in order:

    * ``"inconclusive"``: no learned team uses the landmarks even in view (none clearly above the formation on
      ``simple_spread``), so there is nothing for a memory to keep;
    * ``"not yet in the data"``: no learned team on ``spread_memory`` has been saved;
    * ``"no sign of memory"``: teams use the landmarks in view, but none with memory ends clearly above the
      formation once they are hidden;
    * ``"no memoryless control yet"``: teams with memory beat the formation on the memory task, but no MLP team
      has been trained there to compare with;
    * ``"not separated"``: ... but none of them is clearly above the memoryless MLP;
    * ``"memory helps"``: a team with memory is clearly above both.

    The team lists say which teams each step rests on.
    """

    verdict: str
    uses_landmarks: tuple[str, ...]
    remembers: tuple[str, ...]
    beats_mlp: tuple[str, ...]

    def __str__(self) -> str:
        def teams(names):
            return ", ".join(names) if names else "none"

        reasons = {
            "inconclusive": "no learned team ends clearly above the landmark-blind formation on simple_spread, where "
                            "the landmarks are in view, so there is no use of the landmarks for a memory to keep; "
                            "the memory task cannot separate agents with memory from agents without yet.",
            "not yet in the data": f"teams use the landmarks when they see them ({teams(self.uses_landmarks)}), but "
                                   "no learned team on spread_memory is saved yet, so the memory test has not "
                                   "been run.",
            "no sign of memory": f"teams use the landmarks when they see them ({teams(self.uses_landmarks)}), but "
                                 "no team with memory ends clearly above the formation once they are hidden "
                                 "(spread_memory).",
            "no memoryless control yet": f"teams with memory end clearly above the formation on spread_memory "
                                         f"({teams(self.remembers)}), but no MLP team is saved there to show what "
                                         "an agent without memory reaches.",
            "not separated": f"teams with memory end clearly above the formation on spread_memory "
                             f"({teams(self.remembers)}), but none clearly above the memoryless MLP.",
            "memory helps": f"teams with memory end clearly above both the formation and the memoryless MLP on "
                            f"spread_memory: {teams(self.beats_mlp)}.",
        }
        return f"memory test: {self.verdict}: {reasons[self.verdict]}"


def memory_test_conclusion(formation_verdicts: pd.DataFrame, memory_vs_mlp: Mapping[str, str]) -> MemoryTestConclusion:
    """Decide what the memory test shows, in order: landmarks used in view, memory-task runs saved, landmarks kept
    in memory, a memoryless control saved, and beyond it.

    Args:
        formation_verdicts: :func:`verdicts_against` with the landmark-blind formation as the yardstick, for
            whichever of ``simple_spread`` and ``spread_memory`` have runs.
        memory_vs_mlp: ``{agent: verdict}`` of each agent with memory against the MLP on ``spread_memory``
            (:meth:`SeedRange.against`, same algorithm); empty when no MLP team is saved there.

    Returns:
        A :class:`MemoryTestConclusion` whose ``verdict`` is the first step that fails (see there).

    Example:
        >>> v = pd.DataFrame([{"env": "simple_spread", "algo": "mappo", "agent": "gru", "verdict": CLEARLY_ABOVE}])
        >>> memory_test_conclusion(v.set_index(["env", "algo", "agent"]), {}).verdict
        'not yet in the data'
    """
    uses = tuple(teams_with_verdict(formation_verdicts, "simple_spread"))
    remembers = tuple(teams_with_verdict(formation_verdicts, "spread_memory", agents=MEMORY_AGENTS))
    remembering_agents = {team.split(" + ")[0] for team in remembers}
    beats = tuple(sorted(a for a, v in memory_vs_mlp.items() if v == CLEARLY_ABOVE and a in remembering_agents))
    memory_runs = "spread_memory" in formation_verdicts.index.get_level_values("env")
    if not uses:
        verdict = "inconclusive"
    elif not memory_runs:
        verdict = "not yet in the data"
    elif not remembers:
        verdict = "no sign of memory"
    elif not memory_vs_mlp:
        verdict = "no memoryless control yet"
    elif not beats:
        verdict = "not separated"
    else:
        verdict = "memory helps"
    return MemoryTestConclusion(verdict, uses, remembers, beats)
