"""Forward + backward time of every core on one CPU workload, as a table with each core's ratio to nn.GRU.

    .venv/bin/python benchmarks/bench_cores.py                 # T=64, B=32, H=128, 2 threads, 30 repeats
    .venv/bin/python benchmarks/bench_cores.py --repeats 50 --threads 1

Every core runs the same input (T, B, I=H) through ``core(x, state)`` and back-propagates a sum of its outputs
and final state. Repeats are interleaved across cores (round-robin), so a slow spell of the machine hits all of
them alike; the table reports the median and the inter-quartile range in milliseconds. The speed targets are
printed beside the ratios: GRSN <= 1.5x GRU, LIF <= 1.2x GRU. The number of threads is always set explicitly
(``torch.set_num_threads``), so runs on one machine compare.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import torch
from tqdm import tqdm

from grsn_edu import make_core
from grsn_edu.util.validation import check_int

TARGETS = {"grsn": 1.5, "lif": 1.2}

# (label, core name, options)
CASES = [
    ("gru (torch.nn.GRU)", "gru", {}),
    ("mlp", "mlp", {}),
    ("lif", "lif", {}),
    ("grsn (gate_input=spikes)", "grsn", {"gate_input": "spikes"}),
    ("grsn (gate_input=spikes), step loop", "grsn", {"gate_input": "spikes", "fused": False}),
    ("grsn (gate_input=input)", "grsn", {"gate_input": "input"}),
    ("grsn-first-release (the authors' cell)", "grsn-first-release", {}),
    ("rleaky (snnTorch RLeaky)", "rleaky", {}),
    ("slstm (snnTorch SLSTM)", "slstm", {}),
    ("grsn, no TAP (4 substeps)", "grsn", {"substeps": 4}),
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--T", type=int, default=64, help="sequence length (default 64)")
    p.add_argument("--B", type=int, default=32, help="batch size (default 32)")
    p.add_argument("--H", type=int, default=128, help="hidden size, also the input size (default 128)")
    p.add_argument("--repeats", type=int, default=30, help="timed repeats per core (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed repeats per core first (default 3)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2, this machine's cores)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    minimums = {"T": 1, "B": 1, "H": 1, "repeats": 1, "threads": 1, "warmup": 0}
    for name, minimum in minimums.items():
        try:
            check_int(f"--{name}", getattr(args, name), minimum)
        except ValueError as err:
            p.error(str(err))
    return args


def build(name: str, size: int, options: dict):
    """The core of one case; ``fused`` (GRSN only) is set on the built core: False times its step-by-step loop."""
    options = dict(options)
    fused = options.pop("fused", None)
    core = make_core(name, size, size, **options)
    if fused is not None:
        core.fused = fused
    return core


def one_pass(core, x):
    out, state = core(x, core.initial_state(x.shape[1]))
    loss = out.sum() + sum(v.sum() for v in state.values())
    loss.backward()


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x = torch.randn(args.T, args.B, args.H)
    cores = {label: build(name, args.H, opts) for label, name, opts in CASES}
    times = {label: [] for label in cores}
    for core in cores.values():
        for _ in range(args.warmup):
            one_pass(core, x)
            core.zero_grad(set_to_none=True)
    for _ in tqdm(range(args.repeats), desc="repeats (all cores each)", file=sys.stderr):
        for label, core in cores.items():
            t0 = time.perf_counter()
            one_pass(core, x)
            times[label].append(time.perf_counter() - t0)
            core.zero_grad(set_to_none=True)

    def quartiles(v):
        q = statistics.quantiles(v, n=4)
        return q[0] * 1e3, statistics.median(v) * 1e3, q[2] * 1e3

    gru_median = statistics.median(times[CASES[0][0]])
    print(
        f"forward+backward, T={args.T} B={args.B} H={args.H} (input size {args.H}), CPU, torch {torch.__version__}, "
        f"{args.threads} thread(s), {args.repeats} repeats, {platform.processor() or platform.machine()}"
    )
    print()
    print("| core | median (ms) | IQR (ms) | ratio to GRU | target |")
    print("|---|---:|---:|---:|---|")
    for label, name, opts in CASES:
        q1, med, q3 = quartiles(times[label])
        ratio = statistics.median(times[label]) / gru_median
        tap_default = (not opts.get("substeps") and opts.get("gate_input", "spikes") == "spikes"
                       and opts.get("fused", True))
        target = TARGETS.get(name) if tap_default else None
        verdict = "" if target is None else f"<= {target}x: {'met' if ratio <= target else 'NOT met'}"
        print(f"| {label} | {med:.1f} | {q1:.1f}-{q3:.1f} | {ratio:.2f} | {verdict} |")


if __name__ == "__main__":
    main()
