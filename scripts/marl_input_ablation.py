"""What the saved spread_memory teams remember with: their greedy team return with one input hidden at evaluation.

The command that made ``data/marl_input_ablation/`` (from the project root; about ten seconds):

    .venv/bin/python scripts/marl_input_ablation.py

On ``spread_memory`` the landmarks are seen at the first step only, yet the memoryless MLP team ends as high as the
teams with a recurrent core. Besides the observation an agent's input holds two things that can carry the first
step's information forward without a memory of its own: its previous action (one-hot) and, inside the
observation, its own velocity (the world keeps a damped momentum, so a velocity holds where the agent was pushing).
Each saved MAPPO agent (``data/marl/agents/spread_memory-AGENT-mappo.pt``, the lowest seed of its group) plays
``--episodes`` greedy episodes (reset seeds ``10_000 + k``, all teams the same worlds) four times: with its full
input, with the previous action hidden (as at the first step: no action yet), with its own velocity zeroed, and with
both hidden. Hiding an input the network was trained with also takes it off the inputs it was trained on, so a fall
says the team used that input, not that it used it only as memory.

Writes ``data/marl_input_ablation/summary.csv`` atomically (columns: ``agent``, ``hidden``, ``episodes``,
``team_return_mean``, ``team_return_std``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch

from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.rl.marl import load_marl_agent
from grsn_edu.rl.team import evaluate_team
from grsn_edu.util.files import write_csv
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]
TASK = "spread_memory"
AGENTS = ("mlp", "gru", "lif", "grsn")
HIDDEN = ("none", "previous action", "own velocity", "both")
#: The first two entries of an agent's observation in simple_spread and spread_memory: its own velocity (x, y).
VELOCITY = slice(0, 2)
COLUMNS = ["agent", "hidden", "episodes", "team_return_mean", "team_return_std"]


def hide_inputs(net, hidden: str) -> None:
    """Make ``net`` (an AgentNetwork) see no previous action and/or a zero velocity, from now on."""
    if hidden not in HIDDEN:
        raise ValueError(f"hidden must be one of {HIDDEN}, got {hidden!r}")
    build = type(net).build_inputs.__get__(net)

    def build_inputs(obs, prev_actions):
        if hidden in ("previous action", "both"):
            prev_actions = torch.full_like(prev_actions, -1)
        if hidden in ("own velocity", "both"):
            obs = obs.clone()
            obs[..., VELOCITY] = 0.0
        return build(obs, prev_actions)

    net.build_inputs = build_inputs


def ablation_rows(agents_dir: Path, episodes: int) -> list[dict]:
    rows = []
    for agent in AGENTS:
        path = agents_dir / f"{TASK}-{agent}-mappo.pt"
        for hidden in HIDDEN:
            net, _ = load_marl_agent(path)
            hide_inputs(net, hidden)
            envs = make_team_envs(TASK, episodes)
            returns, _, _ = evaluate_team(envs, net, 10_000)
            envs.close()
            rows.append({"agent": agent, "hidden": hidden, "episodes": episodes,
                         "team_return_mean": float(returns.mean()), "team_return_std": float(returns.std())})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100, help="greedy episodes per agent and input (default 100)")
    parser.add_argument("--agents-dir", type=Path, default=ROOT / "data" / "marl" / "agents")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "marl_input_ablation")
    args = parser.parse_args(argv)
    check_int_arguments(parser, args, {"episodes": 1})
    torch.set_num_threads(1)
    missing = [a for a in AGENTS if not (args.agents_dir / f"{TASK}-{a}-mappo.pt").is_file()]
    if missing:
        parser.error(f"no saved {TASK} MAPPO agent for {missing} in {args.agents_dir}; "
                     "data/marl/README.md gives the command that trains them")
    frame = pd.DataFrame(ablation_rows(args.agents_dir, args.episodes), columns=COLUMNS)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "summary.csv", frame)
    table = frame.pivot(index="agent", columns="hidden", values="team_return_mean").loc[list(AGENTS), list(HIDDEN)]
    print(table.round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
