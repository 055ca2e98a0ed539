"""Environment steps per second of the two vector-env backends, alone and under a real agent, as one table.

    .venv/bin/python benchmarks/bench_envs.py                 # CartPole-P, 1 thread, 5 repeats of >= 0.5 s
    .venv/bin/python benchmarks/bench_envs.py --env-id CartPole-VF --threads 2 --repeats 7

Two workloads, each with ``make_vector_env(..., backend="sync")`` and ``backend="numpy"``:

* random actions (drawn beforehand, so only the environment is timed) at 8, 32, 64 and 256 copies;
* the acting loop of training: a :class:`~grsn_edu.rl.agents.RecurrentActorCritic` (policy and value cores, hidden
  128) runs one batched T=1 forward per step and samples its actions, as ``collect_rollout`` does, without
  learning; a GRU and a GRSN core, at 8 and 64 copies.

A steps/s figure counts environment steps (copies x vector steps). Repeats are interleaved across cases
(round-robin), so a slow spell of the machine hits all of them alike; each repeat runs at least
``--seconds`` after one untimed warm-up, and the table reports the median. The number of threads is always set
explicitly (``torch.set_num_threads``), so runs on one machine compare.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from grsn_edu.envs.cartpole import POMDP_IDS, VECTOR_BACKENDS
from grsn_edu.envs.gym_tasks import make_vector_env
from grsn_edu.rl.agents import RecurrentActorCritic
from grsn_edu.util.validation import check_int_arguments

RANDOM_ENVS = (8, 32, 64, 256)
AGENT_ENVS = (8, 64)
AGENT_CORES = ("gru", "grsn")
HIDDEN = 128


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-id", default="CartPole-P", choices=list(POMDP_IDS))
    p.add_argument("--repeats", type=int, default=5, help="timed repeats per case (default 5)")
    p.add_argument("--seconds", type=float, default=0.5, help="minimum wall time of one repeat (default 0.5)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    check_int_arguments(p, args, {"repeats": 1, "threads": 1, "seed": 0})
    if not args.seconds > 0:
        p.error(f"--seconds must be > 0, got {args.seconds}")
    return args


class RandomActions:
    """Steps a vector env with pre-drawn random actions: only the environment's step is timed."""

    def __init__(self, envs, seed: int):
        self.envs = envs
        self.actions = np.random.default_rng(seed).integers(0, 2, size=(4096, envs.num_envs))
        self.t = 0

    def step(self):
        self.envs.step(self.actions[self.t % len(self.actions)])
        self.t += 1


class AgentActing:
    """One step of training's acting loop: normalise, one T=1 forward of policy and value, sample, step."""

    def __init__(self, envs, core: str, seed: int):
        torch.manual_seed(seed)
        self.envs = envs
        self.agent = RecurrentActorCritic(envs.single_observation_space.shape[0], 2, core=core, hidden_size=HIDDEN)
        obs, _ = envs.reset(seed=seed)
        self.obs = torch.as_tensor(obs)
        self.start = torch.ones(envs.num_envs, dtype=torch.bool)
        self.state = self.agent.initial_state(envs.num_envs)

    @torch.no_grad()
    def step(self):
        self.agent.normalizer.update(self.obs)
        logits, _, self.state = self.agent(self.agent.normalizer(self.obs)[None], self.state,
                                           episode_start=self.start[None], normalized=True)
        action = torch.distributions.Categorical(logits=logits[0]).sample()
        obs, _, terminated, truncated, _ = self.envs.step(action.numpy())
        self.obs, self.start = torch.as_tensor(obs), torch.as_tensor(terminated | truncated)


def timed_repeat(case, seconds: float) -> float:
    """Vector steps per second over at least ``seconds`` of stepping."""
    steps, t0 = 0, time.perf_counter()
    while True:
        for _ in range(10):
            case.step()
        steps += 10
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return steps / elapsed


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cases = {}  # (workload, envs, backend) -> case
    for num_envs in RANDOM_ENVS:
        for backend in VECTOR_BACKENDS:
            cases["random actions", num_envs, backend] = RandomActions(
                make_vector_env(args.env_id, num_envs, args.seed, backend=backend), args.seed)
    for core in AGENT_CORES:
        for num_envs in AGENT_ENVS:
            for backend in VECTOR_BACKENDS:
                cases[f"{core} agent (H={HIDDEN}) acting", num_envs, backend] = AgentActing(
                    make_vector_env(args.env_id, num_envs, args.seed, backend=backend), core, args.seed)
    for case in cases.values():
        timed_repeat(case, min(0.1, args.seconds))  # warm-up
    rates = {key: [] for key in cases}
    for _ in tqdm(range(args.repeats), desc="repeats (all cases each)", file=sys.stderr):
        for key, case in cases.items():
            rates[key].append(timed_repeat(case, args.seconds))

    print(f"{args.env_id}, torch {torch.__version__}, numpy {np.__version__}, {args.threads} torch thread(s), "
          f"median of {args.repeats} repeats of >= {args.seconds} s, {platform.processor() or platform.machine()}")
    print()
    print("| workload | envs | sync: env steps/s | numpy: env steps/s | sync: ms/step | numpy: ms/step | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for workload, num_envs in dict.fromkeys((w, n) for w, n, _ in cases):
        sync, fast = (statistics.median(rates[workload, num_envs, b]) for b in VECTOR_BACKENDS)
        print(f"| {workload} | {num_envs} | {sync * num_envs:,.0f} | {fast * num_envs:,.0f} | "
              f"{1e3 / sync:.2f} | {1e3 / fast:.2f} | {fast / sync:.1f}x |")


if __name__ == "__main__":
    main()
