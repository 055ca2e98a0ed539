"""Environment steps per second of multi-agent training, one episode at a time (before) and batched (after).

    .venv/bin/python benchmarks/bench_marl.py                  # simple_spread, 1 thread, GRU and GRSN agents
    .venv/bin/python benchmarks/bench_marl.py --episodes 400 --threads 2

Cases, each on ``simple_spread`` with the grid's agent network (hidden 64) and the trainers' own functions:

* ``one-at-a-time``: what QMIX did before batching. One episode of mpe2's PettingZoo env, the agent network
  called with a batch of N=3 agents at every step (:func:`grsn_edu.rl.team.run_episode`), then one QMIX update
  (batch 32 episodes) per episode.
* ``batched qmix``: ``num_envs=8`` copies of the numpy world stepped together, one network call per step for
  all 24 agents (:func:`grsn_edu.rl.team.play_team_episodes`), then 8 updates: the same updates per environment
  step as before.
* ``batched mappo``: 32 episodes per rollout, then MAPPO's update (10 epochs of 2 minibatches).
* ``acting only``: the two ways of playing episodes without learning, to show what batching itself buys.

Each case plays ``--episodes`` episodes after an untimed warm-up (the replay buffer is first filled with 32
episodes, so every timed episode is followed by its updates); the table gives environment steps per second of
wall time and of the process's own CPU time, and the minutes 1M steps would take at each. With one thread and
other jobs on the machine, the CPU-time figure is what the case costs on a core of its own; the wall-time
figure is what it took beside them. ``torch.set_num_threads`` is set explicitly.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import torch

from grsn_edu.envs.spread import MAX_CYCLES, make_marl_env
from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.experiments.grids import MARL_AGENTS
from grsn_edu.rl.episode_buffer import EpisodeBuffer
from grsn_edu.rl.mappo import MAPPOConfig, TeamCritic, mappo_advantages, mappo_update, sampler
from grsn_edu.rl.qmix import MARLConfig, _mixer, qmix_update
from grsn_edu.rl.team import agent_network, env_sizes, epsilon_greedy, play_team_episodes, run_episode
from grsn_edu.util.validation import check_int_arguments


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=256, help="timed episodes per case (default 256)")
    p.add_argument("--cores", nargs="+", default=["gru", "grsn"], choices=list(MARL_AGENTS))
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    check_int_arguments(p, args, {"episodes": 32, "threads": 1, "seed": 0})
    if args.episodes % 32:
        p.error(f"--episodes must be a multiple of 32 (a MAPPO rollout), got {args.episodes}")
    return args


def _qmix_parts(agent: str, seed: int):
    torch.manual_seed(seed)
    cfg = MARLConfig(agent=agent).validate()
    net, mixer = agent_network(cfg, 18, 3, 5), _mixer(cfg, 3, 54)
    target_net, target_mixer = agent_network(cfg, 18, 3, 5), _mixer(cfg, 3, 54)
    params = list(net.parameters()) + list(mixer.parameters())
    return cfg, net, mixer, target_net, target_mixer, params, torch.optim.Adam(params, lr=cfg.lr)


def one_at_a_time(agent: str, episodes: int, seed: int, learn: bool = True) -> float:
    """Steps per second of the loop before batching: one mpe2 episode, then one QMIX update."""
    cfg, net, mixer, target_net, target_mixer, params, opt = _qmix_parts(agent, seed)
    env = make_marl_env("simple_spread")
    agents = env_sizes(env)[0]
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    buffer = EpisodeBuffer(cfg.buffer_episodes, MAX_CYCLES, 3, 18, 54)
    for k in range(cfg.batch_size):  # untimed: fill the buffer
        buffer.add(run_episode(env, net, agents, 0.5, k, rng, MAX_CYCLES))
    steps, t0 = 0, _clock()
    for k in range(episodes):
        ep = run_episode(env, net, agents, 0.5, 1000 + k, rng, MAX_CYCLES)
        buffer.add(ep)
        steps += ep["steps"]
        if learn:
            qmix_update(net, mixer, target_net, target_mixer, opt, params, buffer.sample(cfg.batch_size, gen), cfg)
    return _rates(steps, t0)


def batched_qmix(agent: str, episodes: int, seed: int, learn: bool = True) -> float:
    """Steps per second of the batched loop: 8 episodes together, then 8 updates."""
    cfg, net, mixer, target_net, target_mixer, params, opt = _qmix_parts(agent, seed)
    B = cfg.num_envs
    envs = make_team_envs("simple_spread", B)
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    buffer = EpisodeBuffer(cfg.buffer_episodes, MAX_CYCLES, 3, 18, 54)
    for k in range(0, cfg.batch_size, B):
        buffer.add_batch(play_team_episodes(envs, net, range(k, k + B), epsilon_greedy(0.5, rng)))
    steps, t0 = 0, _clock()
    for k in range(0, episodes, B):
        ep = play_team_episodes(envs, net, range(1000 + k, 1000 + k + B), epsilon_greedy(0.5, rng))
        buffer.add_batch(ep)
        steps += int(ep["steps"].sum())
        for _ in range(B if learn else 0):
            qmix_update(net, mixer, target_net, target_mixer, opt, params, buffer.sample(cfg.batch_size, gen), cfg)
    return _rates(steps, t0)


def batched_mappo(agent: str, episodes: int, seed: int) -> float:
    """Steps per second of MAPPO's loop: a rollout of 32 episodes, then its update."""
    torch.manual_seed(seed)
    cfg = MAPPOConfig(agent=agent).validate()
    net, critic = agent_network(cfg, 18, 3, 5), TeamCritic(54, cfg.critic_hidden)
    opt = torch.optim.Adam(list(net.parameters()) + list(critic.parameters()), lr=cfg.lr)
    envs = make_team_envs("simple_spread", cfg.num_envs)
    steps, t0 = 0, _clock()
    for k in range(0, episodes, cfg.num_envs):
        logprobs = []
        ep = play_team_episodes(envs, net, range(k, k + cfg.num_envs), sampler(logprobs))
        adv, ret, values = mappo_advantages(critic, ep, ep["reward"], cfg.gamma, cfg.gae_lambda)
        mappo_update(net, critic, opt, ep, torch.stack(logprobs), adv, ret, values, cfg)
        steps += int(ep["steps"].sum())
    return _rates(steps, t0)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _rates(steps: int, start: tuple[float, float]) -> tuple[float, float]:
    """Environment steps per second of wall time and of this process's CPU time since ``start``."""
    wall, cpu = _clock()
    return steps / (wall - start[0]), steps / (cpu - start[1])


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"# simple_spread, {args.episodes} timed episodes per case, torch threads {args.threads}, "
          f"torch {torch.__version__}, {platform.processor() or platform.machine()}")
    rows = []
    for agent in args.cores:
        n, seed = args.episodes, args.seed
        cases = [("one-at-a-time qmix (before)", one_at_a_time, {}), ("batched qmix (after)", batched_qmix, {}),
                 ("batched mappo", batched_mappo, {}), ("acting only, one at a time", one_at_a_time, {"learn": False}),
                 ("acting only, batched (8)", batched_qmix, {"learn": False})]
        for name, case, options in cases:
            wall, cpu = case(agent, n, seed, **options)
            rows.append((agent, name, wall, cpu))
            print(f"{agent:5s} {name:30s} {wall:7.0f} steps/s wall ({1e6 / wall / 60:5.1f} min per 1M), "
                  f"{cpu:7.0f} per CPU second ({1e6 / cpu / 60:5.1f} CPU min per 1M)", flush=True)
    print()
    print("| agent | case | env steps/s (wall) | min per 1M steps (wall) | env steps per CPU s "
          "| CPU min per 1M steps |")
    print("|---|---|---:|---:|---:|---:|")
    for agent, name, wall, cpu in rows:
        print(f"| {agent} | {name} | {wall:.0f} | {1e6 / wall / 60:.1f} | {cpu:.0f} | {1e6 / cpu / 60:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
