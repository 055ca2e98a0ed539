"""A grid's runs as Ray tasks: ``grsn-edu reproduce cartpole|marl --ray [ADDRESS]``.

Each pending :class:`~grsn_edu.experiments.grids.GridCell` becomes one Ray task of one CPU, run wherever the
cluster has a free CPU. A task trains its run into its own run folder (checkpoints written atomically, as every
run does) and resumes from the folder's checkpoint when it starts again, so Ray's retry of a task whose worker
died finishes the run instead of starting it over. The driver merges each finished run into ``data/`` with the
grid's own merge, as the local grid does after each run, so both write the same files for the same seeds.

Run folders must be visible to every node under the same path (one machine, or a shared file system).
Ray is imported only here, and only when a grid is run with ``--ray``.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

__all__ = ["ray_runner", "RETRIES"]

#: How many times Ray starts a task again after its worker died (each restart resumes from the checkpoint).
RETRIES = 3


def _train_cell(cell, threads: int):
    import torch

    torch.set_num_threads(threads)
    return str(cell.train(progress=False))


def ray_runner(address: str | None = None, num_cpus: int | None = None, threads: int = 1):
    """A ``runner(cells, after_each)`` for the grids that runs each cell as a Ray task.

    Args:
        address: an existing cluster (``"auto"`` or ``"HOST:PORT"``, as ``ray start --head`` prints); None starts
            a local Ray for the call, with ``num_cpus`` CPUs (default: all of this machine's).
        num_cpus: CPUs of the local Ray (ignored with an ``address``).
        threads: torch threads inside each task (one CPU per task).
    """
    try:
        import ray
    except ImportError as err:
        raise SystemExit("--ray needs Ray: pip install -e '.[ray]' (constraints.txt has the version tested)") from err

    def run(cells, after_each) -> None:
        if not cells:
            return
        started_here = not ray.is_initialized()
        if started_here:
            context = ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=None,
                               log_to_driver=False)
            url = getattr(context, "dashboard_url", None)
            if url:
                print(f"Ray dashboard: http://{url}", file=sys.stderr)
        task = ray.remote(num_cpus=1, max_retries=RETRIES, retry_exceptions=False)(_train_cell)
        futures = {task.remote(cell, threads): cell for cell in cells}
        try:
            with tqdm(total=len(futures), unit="run", desc="grid on Ray", file=sys.stderr) as bar:
                waiting = list(futures)
                while waiting:
                    done, waiting = ray.wait(waiting, num_returns=1)
                    for ref in done:
                        ray.get(ref)  # a run that failed for good raises here, with its error
                        bar.set_postfix_str(futures[ref].label)
                        bar.update(1)
                        after_each()
        finally:
            if started_here:
                ray.shutdown()

    return run
