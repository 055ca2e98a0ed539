"""Energy per decision of every trained agent in data/, from the spikes of real greedy evaluation episodes.

The command that made ``data/energy/`` (from the project root), and a quicker look written elsewhere:

    .venv/bin/python scripts/energy_table.py                   # every agent file present (about a minute)
    .venv/bin/python scripts/energy_table.py --episodes 5 --out /tmp/energy   # fewer episodes per agent

For each agent file in ``data/cartpole/agents/`` (recurrent PPO) and ``data/marl/agents/`` (MAPPO, QMIX, VDN), the
agent plays ``--episodes`` greedy episodes and every operation of what runs at deployment is counted
(:func:`grsn_edu.rl.agent_energy.ppo_agent_energy`, :func:`grsn_edu.rl.agent_energy.marl_agent_energy`):
normaliser, policy core and actor head for PPO agents (the value network only serves training), core and output
head per agent for the multi-agent networks (the mixer or the centralised critic only serves training). The
evaluation episodes use the seeds of the run's final greedy evaluation (``10_000 + training seed``, ``--eval-seed``
overrides the base), so with 20 episodes the measured return equals ``final_eval_return`` in
``data/*/summary.csv`` (the script reports any disagreement; the multi-agent episodes are played here one at a
time in mpe2's own environment, in training as a batch in the numpy copy of its world, so they agree to float
rounding).

Writes, atomically, ``data/energy/per_agent.csv`` and ``data/energy/per_layer.csv`` (columns in
``data/energy/README.md``), and prints the markdown headline table (GRU and GRSN on each task) for RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from grsn_edu.rl.agent_energy import marl_agent_energy, ppo_agent_energy
from grsn_edu.rl.marl import load_marl_agent
from grsn_edu.rl.ppo import load_agent
from grsn_edu.util.files import write_csv
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python scripts/energy_table.py"
#: Columns of ``per_agent.csv``: one row per agent file.
AGENT_COLUMNS = ["task", "agent", "algo", "seed", "hidden_size", "substeps", "episodes", "eval_seed", "decisions",
                 "return_mean", "return_std", "summary_final_eval_return", "firing_rate", "spikes_per_decision",
                 "mac_per_decision", "ac_per_decision", "energy_pj", "energy_pj_dense_inputs",
                 "energy_ratio_to_gru", "agent_file"]
#: Columns of ``per_layer.csv``: one row per agent file and layer.
LAYER_COLUMNS = ["task", "agent", "algo", "layer", "mac_per_decision", "ac_per_decision", "energy_pj", "note"]
TASK_ORDER = ["CartPole-P", "CartPole-V", "CartPole-F", "simple_spread", "spread_memory"]
AGENT_ORDER = ["mlp", "gru", "lif", "grsn", "grsn-notap", "grsn-eq17", "grsn-first-release"]


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that says what to do."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=20, help="greedy episodes per agent (default 20)")
    p.add_argument("--eval-seed", type=int, default=None,
                   help="base environment seed (default: 10000 + the agent's training seed, its final evaluation)")
    p.add_argument("--cartpole-agents", type=Path, default=ROOT / "data" / "cartpole" / "agents")
    p.add_argument("--marl-agents", type=Path, default=ROOT / "data" / "marl" / "agents")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "energy", help="output folder (default data/energy)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    check_int_arguments(p, args, {"episodes": 1, "threads": 1, "eval_seed": 0})
    for name in ("cartpole_agents", "marl_agents"):
        folder = getattr(args, name)
        if not folder.is_dir():
            p.error(f"--{name.replace('_', '-')} {folder} is not a folder (train agents first, or point it at one)")
    if not list(args.cartpole_agents.glob("*.pt")) + list(args.marl_agents.glob("*.pt")):
        p.error(f"no agent files (*.pt) in {args.cartpole_agents} or {args.marl_agents}")
    return args


def _summary_return(path: Path, key: dict) -> float:
    if not path.is_file():
        return float("nan")
    summary = pd.read_csv(path)
    match = np.ones(len(summary), dtype=bool)
    for column, value in key.items():
        match &= (summary[column] == value).to_numpy()
    return float(summary.loc[match, "final_eval_return"].iloc[0]) if match.any() else float("nan")


def measure(path: Path, family: str, episodes: int, eval_seed: int | None) -> tuple[dict, list[dict]]:
    """One agent file -> (its per_agent row, its per_layer rows)."""
    if family == "cartpole":
        agent, cfg = load_agent(path)
        task, label, algo = cfg.env_id, path.stem[len(cfg.env_id) + 1:], "ppo"
        seed = (10_000 + cfg.seed) if eval_seed is None else eval_seed
        result = ppo_agent_energy(agent, task, episodes, seed)
        core = agent.core
        summary_key = {"env": task, "agent": label, "seed": cfg.seed}
    else:
        net, cfg = load_marl_agent(path)
        task, label, algo = cfg.env_id, cfg.label, cfg.algo
        seed = (10_000 + cfg.seed) if eval_seed is None else eval_seed
        result = marl_agent_energy(net, task, episodes, seed)
        core = net.core
        summary_key = {"env": task, "agent": label, "algo": algo, "seed": cfg.seed}
    # the run's final evaluation used 20 episodes from seed 10_000 + training seed: comparable only then
    comparable = episodes == 20 and eval_seed is None
    summary_return = _summary_return(path.parent.parent / "summary.csv", summary_key) if comparable else float("nan")
    report = result.report
    row = {"task": task, "agent": label, "algo": algo, "seed": cfg.seed, "hidden_size": core.hidden_size,
           "substeps": core.substeps, "episodes": episodes, "eval_seed": seed, "decisions": result.decisions,
           "return_mean": float(np.mean(result.returns)), "return_std": float(np.std(result.returns)),
           "summary_final_eval_return": summary_return, "firing_rate": result.firing_rate,
           "spikes_per_decision": result.spikes_per_decision, "mac_per_decision": report.total_mac,
           "ac_per_decision": report.total_ac, "energy_pj": report.energy_pj(),
           "energy_pj_dense_inputs": result.dense_inputs_report.energy_pj(), "energy_ratio_to_gru": float("nan"),
           "agent_file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)}
    layers = [{"task": task, "agent": label, "algo": algo, "layer": r.layer, "mac_per_decision": r.mac,
               "ac_per_decision": r.ac, "energy_pj": r.energy_pj(), "note": r.note} for r in report.rows]
    return row, layers


def headline(table: pd.DataFrame) -> str:
    """RESULTS.md's markdown table: GRU and both GRSNs on each task, return and energy per decision."""
    episodes = int(table["episodes"].iloc[0]) if len(table) else 0
    lines = [f"| task | agent | greedy return (mean of {episodes} evaluation episodes) | energy per decision (pJ) | "
             "energy / GRU's |", "|---|---|---:|---:|---:|"]
    rows = table[table["agent"].isin(["gru", "grsn", "grsn-eq17", "grsn-first-release"])]
    for _, r in rows.iterrows():
        task = r.task if r.algo == "ppo" else f"{r.task} ({r.algo.upper()})"
        lines.append(f"| {task} | {r.agent} | {r.return_mean:.1f} | {r.energy_pj:,.0f} | "
                     f"{r.energy_ratio_to_gru:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Measure every agent file, write ``per_agent.csv`` and ``per_layer.csv``, print the headline table."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    files = [(p, "cartpole") for p in sorted(args.cartpole_agents.glob("*.pt"))]
    files += [(p, "marl") for p in sorted(args.marl_agents.glob("*.pt"))]
    agents, layers = [], []
    start = time.perf_counter()
    for i, (path, family) in enumerate(files):
        row, rows = measure(path, family, args.episodes, args.eval_seed)
        agents.append(row)
        layers += rows
        print(f"[{i + 1}/{len(files)}] {path.name}: {row['energy_pj'] / 1000:.2f} nJ per decision, "
              f"greedy return {row['return_mean']:.2f}", file=sys.stderr)
    table = pd.DataFrame(agents, columns=AGENT_COLUMNS)
    for _, group in table.groupby(["task", "algo"]):
        gru = group.loc[group["agent"] == "gru", "energy_pj"]
        if len(gru):
            table.loc[group.index, "energy_ratio_to_gru"] = group["energy_pj"] / float(gru.iloc[0])
    order = {"task": {t: i for i, t in enumerate(TASK_ORDER)}, "agent": {a: i for i, a in enumerate(AGENT_ORDER)}}
    table = table.sort_values(["task", "algo", "agent"],
                              key=lambda c: c.map(order[c.name]).fillna(99) if c.name in order else c)
    table = table.reset_index(drop=True)
    layer_table = pd.DataFrame(layers, columns=LAYER_COLUMNS)
    write_csv(args.out / "per_agent.csv", table)
    write_csv(args.out / "per_layer.csv", layer_table)
    off = table[(table["summary_final_eval_return"].notna())
                & ((table["return_mean"] - table["summary_final_eval_return"]).abs() > 1e-6)]
    if len(off):
        print(f"note: {len(off)} agent(s) returned differently from their final evaluation in summary.csv:\n"
              f"{off[['task', 'agent', 'algo', 'return_mean', 'summary_final_eval_return']].to_string(index=False)}",
              file=sys.stderr)
    print(f"measured {len(table)} agents in {time.perf_counter() - start:.0f} s; wrote {args.out}/per_agent.csv "
          f"and per_layer.csv\n", file=sys.stderr)
    print(headline(table))
    print(f"\n(made by `{COMMAND}`; return: the greedy evaluation mean over the same episodes whose operations were "
          "counted, the `final_eval_return` of data/cartpole/summary.csv or data/marl/summary.csv for the agent's "
          "training seed; energy: 45 nm MAC/AC estimate, data/energy/README.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
