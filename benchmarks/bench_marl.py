"""Environment steps per second of multi-agent training: MAPPO at its first settings and at the reference code's,
side by side, and QMIX.

    .venv/bin/python benchmarks/bench_marl.py                  # simple_spread, 1 thread, GRU and GRSN agents
    .venv/bin/python benchmarks/bench_marl.py --agents mlp gru lif grsn --episodes 5120

Every case is the trainer a user runs (``grsn_edu.rl.mappo.train_mappo``, ``grsn_edu.rl.qmix.train_marl``) on
``simple_spread`` with the agent of ``grsn_edu.rl.presets.AGENTS``, timed from start to finish (building the
networks, acting, updating, one greedy evaluation of 20 episodes and one checkpoint at the end):

* ``mappo, first settings``: :data:`grsn_edu.rl.mappo.FIRST_MAPPO_SETTINGS`, rollouts of 32 episodes and 10
  epochs of 2 minibatches (20 gradient steps per 800 environment steps), a tanh critic of 128 units;
* ``mappo, reference settings``: the defaults, rollouts of 128 episodes and 10 epochs of one minibatch (10
  gradient steps per 3,200 environment steps), a ReLU critic of 64 units;
* ``qmix``: the defaults, 8 episodes played together then 8 updates of 32 episodes from the replay;
* ``acting only, 128 episodes``: the reference rollouts without learning (what the updates cost is the rest).

The table gives environment steps per second of wall time and of the process's own CPU time, and the minutes 1M
and 20M steps take at that rate. With one thread and other jobs on the machine, the CPU-time figure is what the
case costs on a core of its own. ``torch.set_num_threads`` is set explicitly.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import tempfile
import time

import torch

from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.rl.mappo import FIRST_MAPPO_SETTINGS, MAPPOConfig, sampler, train_mappo
from grsn_edu.rl.presets import AGENT_NAMES
from grsn_edu.rl.qmix import MARLConfig, train_marl
from grsn_edu.rl.team import agent_network, play_team_episodes
from grsn_edu.util.validation import check_int_arguments

#: What every case leaves out of the trainers' defaults: its budget, and a single evaluation at the end.
QMIX_EPISODES = 256


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=2560,
                   help="episodes per MAPPO case, a multiple of 128 (default 2560: 64,000 steps); QMIX plays "
                        f"{QMIX_EPISODES}")
    p.add_argument("--agents", nargs="+", default=["gru", "grsn"], choices=AGENT_NAMES, metavar="AGENT")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-qmix", action="store_true", help="leave QMIX out (it is the slowest case)")
    args = p.parse_args(argv)
    check_int_arguments(p, args, {"episodes": 128, "threads": 1, "seed": 0})
    if args.episodes % 128:
        p.error(f"--episodes must be a multiple of 128 (a rollout at the reference settings), got {args.episodes}")
    return args


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _timed(train, cfg) -> tuple[float, float]:
    """Environment steps per second (wall, CPU) of one whole training run of ``cfg``."""
    with tempfile.TemporaryDirectory() as folder:
        start = _clock()
        train(cfg, folder, progress=False)
        wall, cpu = _clock()
    steps = cfg.episodes * 25  # the spread tasks' episodes all last 25 steps
    return steps / (wall - start[0]), steps / (cpu - start[1])


def mappo_case(agent: str, episodes: int, seed: int, first: bool) -> tuple[float, float]:
    cfg = MAPPOConfig(agent=agent, seed=seed)
    if first:
        cfg = dataclasses.replace(cfg, **FIRST_MAPPO_SETTINGS)
    cfg = dataclasses.replace(cfg, episodes=episodes, eval_interval=episodes).validate()
    return _timed(train_mappo, cfg)


def qmix_case(agent: str, episodes: int, seed: int) -> tuple[float, float]:
    cfg = MARLConfig(agent=agent, seed=seed, episodes=QMIX_EPISODES, eval_interval=QMIX_EPISODES).validate()
    return _timed(train_marl, cfg)


def acting_case(agent: str, episodes: int, seed: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    cfg = MAPPOConfig(agent=agent, seed=seed).validate()
    net, envs = agent_network(cfg, 18, 3, 5), make_team_envs("simple_spread", cfg.num_envs)
    steps, start = 0, _clock()
    for k in range(0, episodes, cfg.num_envs):
        steps += int(play_team_episodes(envs, net, range(k, k + cfg.num_envs), sampler([]))["steps"].sum())
    wall, cpu = _clock()
    return steps / (wall - start[0]), steps / (cpu - start[1])


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"# simple_spread, {args.episodes} episodes per MAPPO case, torch threads {args.threads}, "
          f"torch {torch.__version__}, {platform.processor() or platform.machine()}")
    cases = [("mappo, first settings (32 x 2)", lambda a: mappo_case(a, args.episodes, args.seed, True)),
             ("mappo, reference settings (128 x 1)", lambda a: mappo_case(a, args.episodes, args.seed, False)),
             ("acting only, 128 episodes", lambda a: acting_case(a, args.episodes, args.seed))]
    if not args.no_qmix:
        cases.append(("qmix (8 episodes, 8 updates)", lambda a: qmix_case(a, args.episodes, args.seed)))
    rows = []
    for agent in args.agents:
        for name, case in cases:
            wall, cpu = case(agent)
            rows.append((agent, name, wall, cpu))
            print(f"{agent:5s} {name:36s} {wall:7.0f} steps/s wall, {cpu:7.0f} per CPU second "
                  f"({1e6 / cpu / 60:5.1f} CPU min per 1M steps)", flush=True)
    print()
    print("| agent | case | env steps/s (wall) | env steps per CPU s | CPU min per 1M steps | CPU min per 20M steps |")
    print("|---|---|---:|---:|---:|---:|")
    for agent, name, wall, cpu in rows:
        print(f"| {agent} | {name} | {wall:.0f} | {cpu:.0f} | {1e6 / cpu / 60:.1f} | {20e6 / cpu / 60:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
