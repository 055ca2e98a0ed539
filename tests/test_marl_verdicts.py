"""grsn_edu.course.marl_verdicts: the verdicts notebook 10 draws from the saved MARL runs, on hand-made tables."""

import math

import pandas as pd
import pytest

from grsn_edu.course import marl_verdicts as mv


def _runs(finals: dict) -> pd.DataFrame:
    """A runs table from ``{(env, algo, agent): [final return of each seed]}``."""
    return pd.DataFrame([{"env": env, "algo": algo, "agent": agent, "seed": seed, "final_eval_return": value}
                         for (env, algo, agent), values in finals.items() for seed, value in enumerate(values)])


def test_noise_band_is_two_standard_errors_of_a_difference():
    assert mv.noise_band(14.0, 20, 100) == pytest.approx(2 * 14.0 * math.sqrt(1 / 20 + 1 / 100))
    assert mv.noise_band(10.0, 25) == pytest.approx(4.0)
    assert mv.noise_band(10.0, 20, 20) > mv.noise_band(10.0, 20, 100)  # fewer episodes, a wider band
    for bad in ((), (0,), (20, 0)):
        with pytest.raises(ValueError, match="episode"):
            mv.noise_band(1.0, *bad)
    with pytest.raises(ValueError, match="not negative"):
        mv.noise_band(-1.0, 20)


@pytest.mark.parametrize("worst,best,verdict", [
    (-60.0, -55.0, mv.CLEARLY_ABOVE),  # even the worst seed is more than the band above
    (-80.0, -75.0, mv.CLEARLY_BELOW),  # even the best seed is more than the band below
    (-80.0, -55.0, mv.MIXED),  # one seed beyond the band on each side
    (-68.0, -55.0, mv.NOT_CLEAR),  # one beyond above, the other within
    (-80.0, -66.0, mv.NOT_CLEAR),  # one beyond below, the other within
    (-69.0, -64.0, mv.LEVEL),  # all within the band
    (-62.0, -60.0, mv.NOT_CLEAR),  # the worst seed exactly at the band's edge is not beyond it: not clearly above
])
def test_seed_verdict_against_a_single_yardstick(worst, best, verdict):
    assert mv.seed_verdict(worst, best, -67.0, -67.0, 5.0) == verdict


def test_seed_verdict_between_two_agents_uses_the_other_agents_seeds():
    # medians far apart, but the seeds overlap: not clearly different
    assert mv.seed_verdict(-62.0, -50.0, -70.0, -58.0, 1.0) == mv.MIXED
    assert mv.seed_verdict(-57.0, -50.0, -70.0, -58.0, 0.5) == mv.CLEARLY_ABOVE
    assert mv.seed_verdict(-57.0, -50.0, -70.0, -58.0, 2.0) == mv.NOT_CLEAR
    with pytest.raises(ValueError, match="worst must not exceed best"):
        mv.seed_verdict(-50.0, -60.0, -67.0, -67.0, 1.0)


def test_seed_ranges_and_verdicts_against_a_yardstick():
    runs = _runs({("simple_spread", "qmix", "gru"): [-50.0, -55.0, -52.0],
                  ("simple_spread", "qmix", "mlp"): [-66.0, -68.0, -67.5],
                  ("simple_spread", "vdn", "gru"): [-90.0],
                  ("spread_memory", "qmix", "gru"): [-75.0, -60.0]})
    ranges = mv.seed_ranges(runs, "simple_spread", "qmix")
    assert ranges["gru"] == mv.SeedRange(median=-52.0, worst=-55.0, best=-50.0, seeds=3)
    assert set(ranges) == {"gru", "mlp"}
    assert ranges["gru"].against(-67.0, 5.0) == mv.CLEARLY_ABOVE
    assert ranges["gru"].against(ranges["mlp"], 5.0) == mv.CLEARLY_ABOVE
    verdicts = mv.verdicts_against(runs, {"simple_spread": -67.0, "spread_memory": -67.0},
                                   {"simple_spread": 5.0, "spread_memory": 5.0})
    assert verdicts.loc[("simple_spread", "qmix", "gru"), "verdict"] == mv.CLEARLY_ABOVE
    assert verdicts.loc[("simple_spread", "qmix", "mlp"), "verdict"] == mv.LEVEL
    assert verdicts.loc[("simple_spread", "vdn", "gru"), "verdict"] == mv.CLEARLY_BELOW
    assert verdicts.loc[("spread_memory", "qmix", "gru"), "verdict"] == mv.MIXED
    assert verdicts.loc[("spread_memory", "qmix", "gru"), "seeds"] == 2
    assert verdicts.loc[("spread_memory", "qmix", "gru"), "final_median"] == -67.5
    (_, first), = list(verdicts.iterrows())[:1]  # rows read as notebook 10 reads them, by attribute
    assert first.final_median - first.yardstick == pytest.approx(-52.0 + 67.0) and first.seeds == 3
    assert mv.teams_with_verdict(verdicts, "simple_spread") == ["gru + qmix"]
    assert mv.teams_with_verdict(verdicts, "simple_spread", mv.CLEARLY_BELOW) == ["gru + vdn"]
    assert mv.teams_with_verdict(verdicts, "simple_spread", agents=["mlp"]) == []
    assert mv.teams_with_verdict(verdicts, "no_such_task") == []


def test_compare_grsn_within_ten_percent_and_worst_above_best():
    runs = _runs({("spread_memory", "qmix", "grsn"): [-55.0, -60.0, -58.0],
                  ("spread_memory", "qmix", "gru"): [-52.0, -53.0, -54.0],
                  ("spread_memory", "qmix", "mlp"): [-70.0, -66.0, -68.0],
                  ("spread_memory", "qmix", "lif"): [-59.0, -57.0, -62.0]})
    by_other = {c.other: c for c in mv.compare_grsn(runs, "spread_memory", "qmix")}
    assert list(by_other) == ["gru", "mlp", "lif"]
    gru = by_other["gru"]
    assert gru.shortfall == pytest.approx((-53.0 - -58.0) / 53.0)  # 9.4 % below GRU
    assert gru.within_10_percent and "within 10% of GRU: True" in gru.describe()
    assert by_other["mlp"].worst_above_best  # GRSN's worst, -60, above MLP's best, -66
    assert not by_other["lif"].worst_above_best  # -60 is not above LIF's best, -57
    assert "above LIF's best -57.0: False" in by_other["lif"].describe()
    further = _runs({("spread_memory", "qmix", "grsn"): [-60.0], ("spread_memory", "qmix", "gru"): [-50.0]})
    assert not mv.compare_grsn(further, "spread_memory", "qmix")[0].within_10_percent  # 20 % below
    assert mv.compare_grsn(runs, "spread_memory", "vdn") == []
    assert mv.compare_grsn(runs.query("agent != 'grsn'"), "spread_memory", "qmix") == []


def _formation_verdicts(simple: dict, memory: dict) -> pd.DataFrame:
    """Verdicts of (algo, agent) teams on both tasks, as verdicts_against returns them."""
    rows = [{"env": env, "algo": m, "agent": a, "verdict": v}
            for env, teams in (("simple_spread", simple), ("spread_memory", memory)) for (m, a), v in teams.items()]
    return pd.DataFrame(rows).set_index(["env", "algo", "agent"])


def test_memory_test_conclusion_decides_in_order():
    level = {("qmix", a): mv.LEVEL for a in ("gru", "grsn", "mlp")}
    inconclusive = mv.memory_test_conclusion(_formation_verdicts(level, level), {"gru": mv.LEVEL})
    assert inconclusive.verdict == "inconclusive" and "inconclusive" in str(inconclusive)

    uses = {**level, ("qmix", "gru"): mv.CLEARLY_ABOVE}
    no_memory = mv.memory_test_conclusion(_formation_verdicts(uses, level), {"gru": mv.CLEARLY_ABOVE})
    assert no_memory.verdict == "no sign of memory" and no_memory.uses_landmarks == ("gru + qmix",)

    mlp_remembers = {**level, ("qmix", "mlp"): mv.CLEARLY_ABOVE}  # the MLP is no team with memory
    assert mv.memory_test_conclusion(_formation_verdicts(uses, mlp_remembers), {}).verdict == "no sign of memory"

    remembers = {**level, ("qmix", "grsn"): mv.CLEARLY_ABOVE}
    tied = mv.memory_test_conclusion(_formation_verdicts(uses, remembers), {"grsn": mv.NOT_CLEAR, "gru": mv.LEVEL})
    assert tied.verdict == "not separated" and tied.remembers == ("grsn + qmix",)

    # beating the MLP counts only for a team that also beat the formation on the memory task
    other = mv.memory_test_conclusion(_formation_verdicts(uses, remembers), {"gru": mv.CLEARLY_ABOVE})
    assert other.verdict == "not separated"

    helps = mv.memory_test_conclusion(_formation_verdicts(uses, remembers), {"grsn": mv.CLEARLY_ABOVE})
    assert helps.verdict == "memory helps" and helps.beats_mlp == ("grsn",) and "grsn" in str(helps)

    # teams with memory beat the formation, but no MLP team is saved on the memory task to compare with
    no_mlp = mv.memory_test_conclusion(_formation_verdicts(uses, remembers), {})
    assert no_mlp.verdict == "no memoryless control yet" and "no MLP team" in str(no_mlp)


def test_memory_test_conclusion_says_when_the_memory_task_has_no_runs_yet():
    uses = {("mappo", "gru"): mv.CLEARLY_ABOVE, ("mappo", "grsn"): mv.LEVEL}
    only_simple = _formation_verdicts(uses, {})
    assert set(only_simple.index.get_level_values("env")) == {"simple_spread"}
    waiting = mv.memory_test_conclusion(only_simple, {})
    assert waiting.verdict == "not yet in the data" and waiting.uses_landmarks == ("gru + mappo",)
    assert "no learned team on spread_memory" in str(waiting)
    # without a use of the landmarks in view the earlier step decides, runs on the memory task or not
    level = {("mappo", "gru"): mv.LEVEL}
    assert mv.memory_test_conclusion(_formation_verdicts(level, {}), {}).verdict == "inconclusive"


def test_compare_algorithms_pairs_the_algorithms_of_each_agent():
    runs = _runs({("simple_spread", "mappo", "gru"): [-54.0], ("simple_spread", "qmix", "gru"): [-66.0],
                  ("simple_spread", "vdn", "gru"): [-55.0], ("simple_spread", "mappo", "grsn"): [-63.0],
                  ("simple_spread", "qmix", "grsn"): [-80.0, -70.0], ("spread_memory", "qmix", "gru"): [-60.0]})
    table = mv.compare_algorithms(runs, "simple_spread", band=5.0)
    pairs = [(r.agent, r.algo, r.other, r.verdict) for r in table.itertuples()]
    assert pairs == [("grsn", "mappo", "qmix", mv.CLEARLY_ABOVE),
                     ("gru", "mappo", "qmix", mv.CLEARLY_ABOVE), ("gru", "mappo", "vdn", mv.LEVEL),
                     ("gru", "qmix", "vdn", mv.CLEARLY_BELOW)]
    assert table.loc[0, "other_seeds"] == 2 and table.loc[0, "other_median"] == -75.0
    # one algorithm per agent: nothing to compare, an empty table with the same columns
    alone = mv.compare_algorithms(runs, "spread_memory", band=5.0)
    assert alone.empty and list(alone.columns) == list(table.columns)
