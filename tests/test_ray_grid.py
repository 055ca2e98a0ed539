"""Grids on Ray (a local Ray of 2 CPUs): the same data files as without Ray, and a worker killed mid-run loses no
finished run and leaves nothing half-written."""

import os
import signal
import sys

import pandas as pd
import pytest

ray = pytest.importorskip("ray")  # the `ray` extra, which make test installs

from grsn_edu.experiments.grids import reproduce_marl  # noqa: E402
from grsn_edu.experiments.ray_grid import ray_runner  # noqa: E402
from grsn_edu.experiments.runner import GridCell  # noqa: E402

#: A tiny grid: two agents, two seeds, 64 episodes each (two greedy evaluations and checkpoints per run).
GRID = dict(envs=["simple_spread"], agents=["mlp", "gru"], algos=["mappo"], seeds=[0, 1], episodes=64,
            options={"num_envs": 8, "eval_interval": 32, "eval_episodes": 4})
FILES = ("summary.csv", "eval_curves.csv", "train_curves.csv")


@pytest.fixture(scope="module")
def local_grid(tmp_path_factory):
    root = tmp_path_factory.mktemp("local")
    reproduce_marl(runs_dir=root / "runs", data_dir=root / "data", **GRID)
    return root / "data"


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def assert_same_files(a, b):
    for name in FILES:
        x, y = pd.read_csv(a / name), pd.read_csv(b / name)
        wall = [c for c in x.columns if "wall_time" in c]
        pd.testing.assert_frame_equal(x.drop(columns=wall), y.drop(columns=wall), obj=name)
    assert sorted(p.name for p in (a / "agents").iterdir()) == sorted(p.name for p in (b / "agents").iterdir())


def test_a_grid_on_ray_writes_the_files_of_the_same_grid_run_here(local_grid, local_ray, tmp_path):
    reproduce_marl(runs_dir=tmp_path / "runs", data_dir=tmp_path / "data", runner=ray_runner(), **GRID)
    assert_same_files(local_grid, tmp_path / "data")


class DyingCell(GridCell):
    """A cell whose worker process is killed (SIGKILL, as a node that goes away) at its second evaluation, before
    that checkpoint is written, the first time it runs; Ray then starts the task again on a new worker."""

    def train(self, progress: bool = True):
        marker = self.run.parent / f"{self.run.name}.killed-once"
        if not marker.exists():
            import grsn_edu.rl.team as team

            real, calls = team.eval_row, []

            def dying_eval(*args, **kwargs):
                calls.append(1)
                if len(calls) == 2:
                    marker.touch()
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(*args, **kwargs)

            team.eval_row = dying_eval
        return super().train(progress)


def test_a_killed_worker_loses_no_run_and_the_grid_finishes(local_grid, local_ray, tmp_path):
    from ray import cloudpickle  # Ray pickles tasks with its own copy

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    inner = ray_runner()

    def dying_runner(cells, after_each):
        inner([DyingCell(c.key, c.run, c.config) for c in cells], after_each)

    reproduce_marl(runs_dir=tmp_path / "runs", data_dir=tmp_path / "data", runner=dying_runner, **GRID)
    killed = sorted(p.name for p in (tmp_path / "runs").glob("*.killed-once"))
    assert len(killed) == 4, killed  # every run lost its worker once, after its first checkpoint
    assert_same_files(local_grid, tmp_path / "data")  # and was finished from that checkpoint, as if never killed
    leftovers = [p for p in (tmp_path / "runs").rglob("*") if p.suffix in (".tmp", ".partial")]
    assert not leftovers, leftovers


def test_without_ray_nothing_imports_it():
    import subprocess

    code = ("import sys; import grsn_edu.experiments.cli, grsn_edu.experiments.grids; "
            "sys.exit('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize(("argv", "address"), [([], None), (["--ray"], "local"), (["--ray", "auto"], "auto")])
def test_reproduce_dispatches_to_ray_only_with_the_option(monkeypatch, tmp_path, argv, address):
    import grsn_edu.experiments.grids as grids
    import grsn_edu.experiments.ray_grid as ray_grid
    from grsn_edu.experiments.cli import main

    seen = {}
    monkeypatch.setattr(ray_grid, "ray_runner", lambda a=None: seen.setdefault("runner", ("ray", a)))
    monkeypatch.setattr(grids, "reproduce_marl", lambda *args, runner=None, **kw: seen.setdefault("used", runner))
    assert main(["reproduce", "marl", "--runs-dir", str(tmp_path), "--data-dir", str(tmp_path), *argv]) == 0
    assert seen["used"] == (None if address is None else ("ray", None if address == "local" else address))


@pytest.mark.parametrize("script", ["cartpole_ablation", "ppo_recipe", "marl_recipe", "peer_ppo"])
def test_every_grid_script_runs_its_cells_through_the_one_runner_and_so_on_ray(monkeypatch, tmp_path, script,
                                                                              load_script):
    import grsn_edu.experiments.ray_grid as ray_grid

    module = load_script(script)
    seen = {}
    monkeypatch.setattr(ray_grid, "ray_runner", lambda a=None: lambda cells, after: seen.setdefault("cells", cells))
    args = ["--seeds", "7", "--runs-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "data"), "--ray"]
    if script == "peer_ppo":
        args += ["--agents", "gru", "--envs", "CartPole-P"]
    with pytest.raises((SystemExit, FileNotFoundError)):  # nothing ran, so there is nothing to merge
        module.main(args)
    assert seen["cells"] and all(isinstance(c, GridCell) and c.key["seed"] == 7 for c in seen["cells"])
