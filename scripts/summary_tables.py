"""Print the result tables of RESULTS.md (markdown) from the data/ folders.

    .venv/bin/python scripts/summary_tables.py cartpole
    .venv/bin/python scripts/summary_tables.py ablation
    .venv/bin/python scripts/summary_tables.py marl
    .venv/bin/python scripts/summary_tables.py marl-reference   # the runs of data/marl_reference made so far
    .venv/bin/python scripts/summary_tables.py peer      # recurrent PPO beside sb3-contrib's, one table
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from grsn_edu.experiments.aggregate import marl_table, summary_table
from grsn_edu.experiments.grids import MARL_REFERENCE, read_cartpole_summary, read_marl_summary
from grsn_edu.experiments.runner import read_grid_summary
from grsn_edu.util.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def cartpole() -> str:
    table = summary_table(read_cartpole_summary(ROOT / "data" / "cartpole"))
    table.columns = ["env", "agent", "seeds", "seeds reaching 475 (greedy eval)", "median steps to 475 (greedy eval)",
                     "median final greedy eval return", "min", "max", "median final training return (MA20)"]
    return markdown_table(table)


def ablation() -> str:
    sys.path.insert(0, str(ROOT / "scripts"))
    import cartpole_ablation as module  # noqa: E402  (scripts/ is not a package)
    ab = read_grid_summary(module.GRID, ROOT / "data" / "cartpole_ablation")
    grid = read_cartpole_summary(ROOT / "data" / "cartpole")
    ref = grid[(grid.agent == "grsn") & grid.env.isin(ab.env.unique()) & grid.seed.isin(ab.seed.unique())]
    ref = ref.assign(variant="reference (grid's grsn)")[module.SUMMARY_COLUMNS]
    both = pd.concat([ref, ab]).rename(columns={"variant": "agent"})
    table = summary_table(both)
    table.columns = ["env", "variant (one change from the reference)", "seeds", "seeds reaching 475 (greedy eval)",
                     "median steps to 475 (greedy eval)", "median final greedy eval return", "min", "max",
                     "median final training return (MA20)"]
    return markdown_table(table)


def marl() -> str:
    """The multi-agent table (:func:`grsn_edu.experiments.aggregate.marl_table`)."""
    return markdown_table(marl_table(read_marl_summary(ROOT / "data" / "marl")))


def marl_reference() -> str:
    """The multi-agent table of the grid at MAPPO's reference settings, the runs made so far."""
    return markdown_table(marl_table(read_grid_summary(MARL_REFERENCE, ROOT / "data" / "marl_reference")))


def peer() -> str:
    """Per task: sb3-contrib's RecurrentPPO (data/peer_ppo), the project's trainer with its defaults (the grid's
    gru and grsn, data/cartpole) and with the peer's recipe and its one-change variants (data/ppo_recipe), on the
    same ids, seeds, budget and greedy-evaluation protocol."""
    from grsn_edu.util.files import read_csv as read

    sys.path.insert(0, str(ROOT / "scripts"))
    import peer_ppo  # noqa: E402  (scripts/ is not a package)

    peer_runs = read(ROOT / "data" / "peer_ppo" / "summary.csv", peer_ppo.SUMMARY_COLUMNS)
    grid = read_cartpole_summary(ROOT / "data" / "cartpole")
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
    both = pd.concat([part[["env", "trainer", "setting", "seed", "steps_to_target_eval", "final_eval_return"]]
                      for part in parts])
    table = summary_table(both, by=("env", "trainer", "setting"))
    table.columns = ["env", "trainer", "setting", "seeds", "seeds reaching 475 (greedy)", "median steps to 475",
                     "median final greedy return", "min", "max"]
    return markdown_table(table.sort_values("env", kind="stable"))


#: The tables by the name the command line takes.
TABLES = {"cartpole": cartpole, "ablation": ablation, "marl": marl, "marl-reference": marl_reference, "peer": peer}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=list(TABLES))
    args = p.parse_args(argv)
    try:
        print(TABLES[args.what]())
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"summary_tables: {err}")


if __name__ == "__main__":
    main()
