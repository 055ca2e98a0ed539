"""Environment steps per second of single-agent recurrent PPO: the trainer's default rollout shape and wider ones,
side by side, on any task the trainer takes (POPGym's by default).

    .venv/bin/python benchmarks/bench_ppo.py                     # popgym-RepeatPreviousEasy-v0, GRU and GRSN
    .venv/bin/python benchmarks/bench_ppo.py --env CartPole-P --agents mlp gru lif grsn --steps 65536

Every case is the trainer a user runs (``grsn_edu.rl.ppo.train``) with the agent of ``grsn_edu.rl.presets.AGENTS``,
the previous action in the input on POPGym's tasks (``--previous-action`` says otherwise), timed from start to
finish (building the networks, acting, updating, one greedy evaluation of 20 episodes and one checkpoint at the
end). The shapes
(:data:`SHAPES`) differ only in how many environments a rollout holds, how many minibatches it is split into and
how many epochs each is learned from; the sequence length is ``num_steps`` = 32 in each. ``acting only`` is the
widest rollout without learning (what the updates cost is the rest).

The table gives environment steps per second of wall time and of the process's own CPU time, gradient steps per
1,000 environment steps, and the minutes 1M steps take. With one thread and other jobs on the machine, the
CPU-time figure is what the case costs on a core of its own. ``torch.set_num_threads`` is set explicitly.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time

import torch

from grsn_edu.envs.gym_tasks import make_vector_env
from grsn_edu.rl.agents import ReturnNormalizer
from grsn_edu.rl.ppo import Acting, PPOConfig, agent_for_task, collect_rollout, train
from grsn_edu.rl.presets import AGENT_NAMES
from grsn_edu.rl.training import seed_run
from grsn_edu.util.validation import check_int_arguments

#: name -> (environments per rollout, minibatches, epochs); the first is PPOConfig's default.
SHAPES = {
    "default: 32 envs, 4 minibatches, 10 epochs": (32, 4, 10),
    "128 envs, 2 minibatches, 4 epochs": (128, 2, 4),
    "256 envs, 1 minibatch, 4 epochs": (256, 1, 4),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="popgym-RepeatPreviousEasy-v0", help="task id (default %(default)s)")
    p.add_argument("--steps", type=int, default=32_768,
                   help="environment steps per case, a multiple of 8192 (default %(default)s)")
    p.add_argument("--agents", nargs="+", default=["gru", "grsn"], choices=AGENT_NAMES, metavar="AGENT")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--previous-action", choices=["auto", "on", "off"], default="auto",
                   help="append the previous action to the input: on, off, or auto (default: on for POPGym's tasks, "
                        "whose baselines give it to every model, off for the others, as the CartPole grid trains)")
    args = p.parse_args(argv)
    check_int_arguments(p, args, {"steps": 8192, "threads": 1, "seed": 0})
    if args.steps % 8192:
        p.error(f"--steps must be a multiple of 8192 (the widest rollout), got {args.steps}")
    return args


def _config(args, agent: str, shape: tuple[int, int, int]) -> PPOConfig:
    envs, minibatches, epochs = shape
    return PPOConfig(env_id=args.env, agent=agent, seed=args.seed, total_steps=args.steps, num_envs=envs,
                     num_minibatches=minibatches, update_epochs=epochs, eval_interval=args.steps,
                     previous_action=_previous_action(args), threads=args.threads)


def _previous_action(args) -> bool:
    return args.env.startswith("popgym-") if args.previous_action == "auto" else args.previous_action == "on"


def _timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _acting_only(cfg: PPOConfig) -> None:
    """The rollouts of ``train(cfg)`` without its updates: seeded as a run is, returns scaled as a run scales them."""
    seed_run(cfg)
    agent = agent_for_task(cfg)
    envs = make_vector_env(cfg.env_id, cfg.num_envs, cfg.seed, cfg.vector_backend, cfg.previous_action)
    acting = Acting.start_fresh(agent, envs, cfg.seed)
    normalizer = ReturnNormalizer(cfg.num_envs, cfg.gamma) if cfg.normalize_returns else None
    with torch.no_grad():
        for _ in range(cfg.total_steps // (cfg.num_envs * cfg.num_steps)):
            collect_rollout(agent, acting, cfg.num_steps, cfg.gamma, normalizer)
    envs.close()


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"# recurrent PPO on {args.env}, {args.steps:,} steps per case; torch {torch.__version__}, "
          f"{args.threads} thread(s), {platform.processor() or platform.machine()}")
    print("| agent | case | gradient steps per 1k env steps | env steps/s (wall) | env steps/s (CPU) | "
          "min per 1M (CPU) |")
    print("|---|---|---|---|---|---|")
    widest = max(SHAPES.values())
    for agent in args.agents:
        cases = [(name, _config(args, agent, shape)) for name, shape in SHAPES.items()]
        for name, cfg in cases:
            with tempfile.TemporaryDirectory() as out:
                wall, cpu = _timed(lambda cfg=cfg, out=out: train(cfg, out, progress=False))
            grads = cfg.update_epochs * cfg.num_minibatches * 1000 / (cfg.num_envs * cfg.num_steps)
            print(f"| {agent} | {name} | {grads:.1f} | {args.steps / wall:,.0f} | {args.steps / cpu:,.0f} | "
                  f"{1e6 / (args.steps / cpu) / 60:.1f} |", flush=True)
        cfg = _config(args, agent, widest)
        wall, cpu = _timed(lambda cfg=cfg: _acting_only(cfg))
        print(f"| {agent} | acting only, {cfg.num_envs} envs | 0 | {args.steps / wall:,.0f} | "
              f"{args.steps / cpu:,.0f} | {1e6 / (args.steps / cpu) / 60:.1f} |", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
