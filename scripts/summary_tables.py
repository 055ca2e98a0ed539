"""Print the README's result tables (markdown) from the data/ folders.

    .venv/bin/python scripts/summary_tables.py cartpole
    .venv/bin/python scripts/summary_tables.py ablation
    .venv/bin/python scripts/summary_tables.py marl
    .venv/bin/python scripts/summary_tables.py peer      # recurrent PPO beside sb3-contrib's, one table
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.grids import MARL_SUMMARY_COLUMNS, SUMMARY_COLUMNS, summary_table
from grsn_edu.util.files import read_csv
from grsn_edu.util.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def cartpole() -> str:
    summary = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    table = summary_table(summary)
    table.columns = ["env", "agent", "seeds", "seeds reaching 475 (greedy eval)", "median steps to 475 (greedy eval)",
                     "median final greedy eval return", "min", "max", "median final training return (MA20)"]
    return markdown_table(table)


def ablation() -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("cartpole_ablation", ROOT / "scripts" / "cartpole_ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ab = read_csv(ROOT / "data" / "cartpole_ablation" / "summary.csv", module.SUMMARY_COLUMNS)
    grid = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    ref = grid[(grid.agent == "grsn") & grid.env.isin(ab.env.unique()) & grid.seed.isin(ab.seed.unique())]
    ref = ref.assign(variant="reference (grid's grsn)")[module.SUMMARY_COLUMNS]
    both = pd.concat([ref, ab]).rename(columns={"variant": "agent"})
    table = summary_table(both)
    table.columns = ["env", "variant (one change from the reference)", "seeds", "seeds reaching 475 (greedy eval)",
                     "median steps to 475 (greedy eval)", "median final greedy eval return", "min", "max",
                     "median final training return (MA20)"]
    return markdown_table(table)


def marl() -> str:
    """Per (task, agent, algorithm): seeds, median and range of the final greedy team return, the share of the gap
    from random to the scripted controller that the median closes, spikes per agent decision; the baselines
    first."""
    summary = read_csv(ROOT / "data" / "marl" / "summary.csv", MARL_SUMMARY_COLUMNS)
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
                     "gap closed, random -> scripted":
                         f"{(median - base['random']) / (base['scripted'] - base['random']):.0%}",
                     "spikes per agent decision": g["spikes_per_decision"].median()})
    order = {name: i for i, name in enumerate(["random", "formation", "memoryless", "memory", "scripted", "mlp",
                                               "lif", "gru", "grsn"])}
    table = pd.DataFrame(rows).sort_values(["task", "algorithm", "agent"],
                                           key=lambda c: c.map(order) if c.name == "agent" else c)
    return markdown_table(table)


def peer() -> str:
    """Per task: sb3-contrib's RecurrentPPO (data/peer_ppo), the project's trainer with its defaults (the grid's
    gru and grsn, data/cartpole) and with the peer's recipe and its one-change variants (data/ppo_recipe), on the
    same ids, seeds, budget and greedy-evaluation protocol."""
    from grsn_edu.util.files import read_csv as read

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import peer_ppo  # noqa: E402  (benchmarks/ is not a package)

    peer_runs = read(ROOT / "data" / "peer_ppo" / "summary.csv", peer_ppo.SUMMARY_COLUMNS)
    grid = read_csv(ROOT / "data" / "cartpole" / "summary.csv", SUMMARY_COLUMNS)
    recipe_path = ROOT / "data" / "ppo_recipe" / "summary.csv"
    recipe = pd.read_csv(recipe_path) if recipe_path.is_file() else pd.DataFrame(columns=["variant", "env"])
    peer_setting = {peer_ppo.PEER: "its CartPoleNoVel settings, LSTM 64",
                    **{name: f"its CartPoleNoVel settings, the grid's {agent} core in place of its LSTMs"
                       for name, agent in peer_ppo.PEER_WITH_CORE.items()}}
    parts = [peer_runs.assign(trainer="sb3-contrib RecurrentPPO", setting=peer_runs.agent.map(peer_setting)),
             grid[grid.agent.isin(["gru", "grsn"]) & grid.env.isin(peer_runs.env.unique())]
             .assign(trainer="grsn-edu", setting=lambda f: "defaults (PPOConfig), the grid's " + f.agent),
             recipe.assign(trainer="grsn-edu", setting=lambda f: "peer recipe" + f.variant.map(
                 lambda v: "" if v == "peer" else f", but {v}"))]
    rows = []
    for part in parts:
        for (env_id, trainer, setting), g in part.groupby(["env", "trainer", "setting"], sort=False):
            reached = g["steps_to_target_eval"].dropna()
            rows.append({"env": env_id, "trainer": trainer, "setting": setting, "seeds": len(g),
                         "seeds reaching 475 (greedy)": len(reached),
                         "median steps to 475": reached.median() if len(reached) else float("nan"),
                         "median final greedy return": g["final_eval_return"].median(),
                         "min": g["final_eval_return"].min(), "max": g["final_eval_return"].max()})
    return markdown_table(pd.DataFrame(rows).sort_values("env", kind="stable"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["cartpole", "ablation", "marl", "peer"])
    args = p.parse_args(argv)
    try:
        print({"cartpole": cartpole, "ablation": ablation, "marl": marl, "peer": peer}[args.what]())
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"summary_tables: {err}")


if __name__ == "__main__":
    main()
