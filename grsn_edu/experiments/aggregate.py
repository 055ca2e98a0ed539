"""The grids' results aggregated over seeds: how many seeds reached a target, and how much of the gap from a
random team to the scripted controller a team closes. One home for each, used by the scripts, the tables of
RESULTS.md and the notebooks.

Example:
    >>> gap_closed(-50.0, random=-80.0, scripted=-20.0)
    0.5
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TARGET_RETURN", "summary_table", "gap_closed", "marl_table", "sort_in_order"]

#: The return at which CartPole counts as solved (Gymnasium's reward threshold for 500-step episodes).
TARGET_RETURN = 475.0


def summary_table(summary: pd.DataFrame, target: float = TARGET_RETURN, by: tuple[str, ...] = ("env", "agent")
                  ) -> pd.DataFrame:
    """Per ``by`` group: seeds, how many reached ``target`` in greedy evaluation, median steps to it, final returns.

    Medians of steps-to-target are over the seeds that reached it; the spread is the min-max of the final greedy
    evaluation return over seeds. The median of the training episodes' ``final_train_ma20`` is the last column
    when the summary has it.
    """
    def agg(g):
        reached = g["steps_to_target_eval"].dropna()
        row = {
            "seeds": len(g),
            f"reached_{int(target)}_eval": int(len(reached)),
            "median_steps_to_target_eval": float(reached.median()) if len(reached) else float("nan"),
            "median_final_eval_return": float(g["final_eval_return"].median()),
            "min_final_eval_return": float(g["final_eval_return"].min()),
            "max_final_eval_return": float(g["final_eval_return"].max()),
        }
        if "final_train_ma20" in g:
            row["median_final_train_ma20"] = float(g["final_train_ma20"].median())
        return pd.Series(row)

    return summary.groupby(list(by), sort=False).apply(agg, include_groups=False).reset_index()


def sort_in_order(frame: pd.DataFrame, by: list[str], column: str, order) -> pd.DataFrame:
    """``frame`` sorted by the columns ``by``, ``column``'s values in the order of ``order`` (a sequence of them;
    values not in it go last), the other columns' in their natural order."""
    rank = {value: i for i, value in enumerate(order)}
    return frame.sort_values(by, key=lambda c: c.map(rank).fillna(len(rank)) if c.name == column else c)


def gap_closed(team_return: float, random: float, scripted: float) -> float:
    """The share of the gap from the random team's return to the scripted controller's that ``team_return``
    closes: 0 at the random team, 1 at the controller."""
    return (team_return - random) / (scripted - random)


def marl_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (task, agent, algorithm) of a multi-agent summary: seeds, median and range of the final greedy team
    return, the gap the median closes (:func:`gap_closed`), spikes per agent decision; the scripted baselines
    (algo ``none``) first."""
    rows = []
    for (env_id, agent, algo), g in summary.groupby(["env", "agent", "algo"], sort=False):
        base = summary[(summary.env == env_id) & (summary.algo == "none")].set_index("agent")["final_eval_return"]
        median = g["final_eval_return"].median()
        baseline = algo == "none"
        rows.append({"task": env_id, "agent": agent, "algorithm": "-" if baseline else algo,
                     "seeds": "100 episodes" if baseline else str(len(g)),
                     "median final greedy team return": median,
                     "min": float("nan") if baseline else g["final_eval_return"].min(),
                     "max": float("nan") if baseline else g["final_eval_return"].max(),
                     "gap closed, random -> scripted": f"{gap_closed(median, base['random'], base['scripted']):.0%}",
                     "spikes per agent decision": g["spikes_per_decision"].median()})
    return sort_in_order(pd.DataFrame(rows), ["task", "algorithm", "agent"], "agent",
                         ["random", "formation", "memoryless", "memory", "scripted", "mlp", "lif", "gru", "grsn"])
