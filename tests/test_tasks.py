"""The cue-recall memory task, its training function, the sweep script and the memory figures."""

import importlib.util
import math
import os
from pathlib import Path

import pytest
import torch
from matplotlib.figure import Figure

from grsn_edu.experiments.memory import RESULT_DTYPES, TEST_SEED, MemoryRun, format_options, load_memory_results, summarize_accuracy, train_memory_task
from grsn_edu.envs.cue_recall import CueRecallTask

ROOT = Path(__file__).resolve().parents[1]


def load_sweep_script():
    spec = importlib.util.spec_from_file_location("memory_sweep", ROOT / "scripts" / "memory_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the task -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_cues,delay", [(2, 0), (4, 1), (4, 10), (7, 3)])
def test_shapes_dtypes_and_layout(n_cues, delay):
    task = CueRecallTask(n_cues=n_cues, delay=delay, noise=0.5)
    x, labels = task.sample(32, torch.Generator().manual_seed(0))
    assert x.shape == (delay + 1, 32, n_cues + 1) == (task.seq_len, 32, task.input_size)
    assert x.dtype == torch.float32 and labels.dtype == torch.int64 and labels.shape == (32,)
    assert labels.min() >= 0 and labels.max() < n_cues
    # the go channel is 1 exactly at the decision step
    go = x[:, :, -1]
    assert torch.equal(go[task.decision_step], torch.ones(32))
    assert go.sum() == 32
    assert task.chance == pytest.approx(1 / n_cues)


def test_label_is_recoverable_from_the_cue_and_only_from_it():
    task = CueRecallTask(n_cues=5, delay=6, noise=0.8, cue_strength=2.0)
    x, labels = task.sample(500, torch.Generator().manual_seed(1))
    cue = x[0, :, :5]
    assert torch.equal(cue.argmax(-1), labels)
    assert torch.equal(cue.sum(-1), torch.full((500,), 2.0))  # clean one-hot of height cue_strength
    # the decision step alone says nothing about the label: its cue channels are pure noise
    decision = x[task.decision_step, :, :5]
    assert (decision.argmax(-1) == labels).float().mean() < 0.3


def test_distractors_have_the_requested_noise_and_none_without_noise():
    x, _ = CueRecallTask(n_cues=4, delay=30, noise=0.5).sample(400, torch.Generator().manual_seed(2))
    assert x[1:, :, :4].std().item() == pytest.approx(0.5, rel=0.03)
    assert x[1:, :, :4].mean().abs().item() < 0.01
    x0, _ = CueRecallTask(n_cues=4, delay=30, noise=0.0).sample(8, torch.Generator().manual_seed(2))
    assert torch.count_nonzero(x0[1:, :, :4]) == 0


def test_same_generator_seed_same_batch():
    task = CueRecallTask()
    a = task.sample(16, torch.Generator().manual_seed(3))
    b = task.sample(16, torch.Generator().manual_seed(3))
    c = task.sample(16, torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n_cues=1), "n_cues"),
        (dict(n_cues=2.5), "n_cues"),
        (dict(delay=-1), "delay"),
        (dict(delay=True), "delay"),
        (dict(noise=-0.1), "noise"),
        (dict(noise=float("nan")), "noise"),
        (dict(noise="high"), "noise"),
        (dict(cue_strength=0.0), "cue_strength"),
    ],
)
def test_bad_task_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CueRecallTask(**kwargs)


def test_bad_sample_arguments():
    task = CueRecallTask()
    with pytest.raises(ValueError, match="batch_size"):
        task.sample(0)
    with pytest.raises(ValueError, match="generator"):
        task.sample(4, generator=0)


# -- training -----------------------------------------------------------------------------------------------------

TINY = dict(hidden_size=8, steps=6, batch_size=16, test_size=64)


@pytest.mark.parametrize("core", ["gru", "lif", "grsn"])
def test_training_is_deterministic_by_seed(core):
    a = train_memory_task(core, delay=3, seed=5, **TINY)
    b = train_memory_task(core, delay=3, seed=5, **TINY)
    c = train_memory_task(core, delay=3, seed=6, **TINY)
    assert a.losses == b.losses and a.accuracy == b.accuracy and a.test_loss == b.test_loss
    assert a.losses != c.losses


def test_run_record_is_complete():
    run = train_memory_task("grsn", delay=2, seed=0, readout="membrane", forget_bias=2.0, **TINY)
    assert isinstance(run, MemoryRun)
    assert len(run.losses) == 6 and all(math.isfinite(v) for v in run.losses)
    assert 0.0 <= run.accuracy <= 1.0 and run.wall_time_s > 0
    assert run.final_loss == pytest.approx(run.losses[-1])  # last 10 % of 6 steps: the last step
    assert run.options == {"readout": "membrane", "forget_bias": 2.0}
    assert run.chance == 0.25 and run.n_params > 0
    row = run.as_row()
    assert "losses" not in row
    assert row["options"] == "forget_bias=2.0;readout=membrane"
    assert list(row) + ["threads"] == list(RESULT_DTYPES)


def test_gru_learns_delay_one_quickly():
    torch.set_num_threads(1)
    run = train_memory_task("gru", delay=1, seed=0, hidden_size=16, steps=120, batch_size=32, test_size=512)
    assert run.accuracy > 0.9, f"GRU at delay 1 reached only {run.accuracy:.2f} (chance 0.25)"
    assert sum(run.losses[-10:]) / 10 < 0.5 * sum(run.losses[:10]) / 10


def test_mlp_cannot_beat_chance_with_a_delay():
    run = train_memory_task("mlp", delay=2, seed=0, hidden_size=16, steps=100, batch_size=32, test_size=1024)
    assert abs(run.accuracy - 0.25) < 0.06


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(core_name="transformer"), "unknown core"),
        (dict(steps=0), "steps"),
        (dict(lr=0.0), "lr"),
        (dict(seed=-1), "seed"),
        (dict(delay=-2), "delay"),
        (dict(grad_clip=0), "grad_clip"),
        (dict(not_an_option=1), "bad option"),
    ],
)
def test_bad_training_arguments(kwargs, match):
    args = dict(core_name="gru", delay=1, seed=0, **TINY)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        train_memory_task(**args)


def test_test_set_is_fixed_across_seeds_and_cores():
    task = CueRecallTask(n_cues=4, delay=5)
    a = task.sample(32, torch.Generator().manual_seed(TEST_SEED))
    b = task.sample(32, torch.Generator().manual_seed(TEST_SEED))
    assert torch.equal(a[0], b[0])


def test_format_options_is_sorted_and_empty_for_defaults():
    assert format_options({}) == ""
    assert format_options({"readout": "membrane", "beta": 0.5}) == "beta=0.5;readout=membrane"


# -- the sweep script ---------------------------------------------------------------------------------------------


def test_sweep_writes_resumes_and_extends(tmp_path, capsys):
    sweep = load_sweep_script()
    out = tmp_path / "sweep.csv"
    base = ["--cores", "mlp", "gru", "--delays", "0", "2", "--seeds", "0", "--steps", "3", "--batch-size", "8",
            "--hidden-size", "4", "--test-size", "16", "--quiet", "--out", str(out)]
    assert sweep.main(base) == 0
    df = load_memory_results(out)
    assert len(df) == 4 and set(df["core"]) == {"mlp", "gru"} and set(df["delay"]) == {0, 2}
    first = df.copy()

    capsys.readouterr()
    sweep.main(base)  # everything done: nothing runs, nothing changes
    assert "4 of 4 runs already done, 0 to do" in capsys.readouterr().out
    assert load_memory_results(out).equals(first)

    sweep.main(base + ["--seeds", "0", "1"])  # a later --seeds replaces the earlier one: one more seed
    df = load_memory_results(out)
    assert len(df) == 8 and sorted(df["seed"].unique()) == [0, 1]
    assert df.drop(columns="wall_time_s").iloc[:4].equals(first.drop(columns="wall_time_s"))
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file's mode, not mkstemp's private 0600


def test_sweep_resumes_after_an_interruption(tmp_path, monkeypatch):
    sweep = load_sweep_script()
    out = tmp_path / "sweep.csv"
    args = ["--cores", "mlp", "--delays", "1", "--seeds", "0", "1", "2", "--steps", "2", "--batch-size", "4",
            "--hidden-size", "4", "--test-size", "8", "--quiet", "--out", str(out)]
    real = sweep.train_memory_task
    calls = []

    def interrupted_after_two(**kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(kwargs["seed"])
        return real(**kwargs)

    monkeypatch.setattr(sweep, "train_memory_task", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        sweep.main(args)
    assert sorted(load_memory_results(out)["seed"]) == [0, 1]  # the two finished runs were saved
    monkeypatch.setattr(sweep, "train_memory_task", real)
    sweep.main(args)
    assert sorted(load_memory_results(out)["seed"]) == [0, 1, 2]


def test_sweep_options_are_recorded_and_distinguish_runs(tmp_path):
    sweep = load_sweep_script()
    out = tmp_path / "s.csv"
    common = ["--cores", "lif", "--delays", "1", "--seeds", "0", "--steps", "2", "--batch-size", "4",
              "--hidden-size", "4", "--test-size", "8", "--quiet", "--out", str(out)]
    sweep.main(common)
    sweep.main(common + ["--option", "lif:readout=membrane", "--option", "lif:beta=0.5"])
    df = load_memory_results(out)
    assert list(df["options"]) == ["", "beta=0.5;readout=membrane"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--cores", "lstm"], "unknown core"),
        (["--cores", "gru", "gru"], "twice"),
        (["--delays", "-1"], "--delays"),
        (["--seeds", "-3"], "--seeds"),
        (["--lrs", "0"], "--lrs"),
        (["--steps", "0"], "--steps"),
        (["--n-cues", "1"], "--n-cues"),
        (["--noise", "-1"], "--noise"),
        (["--option", "grsn"], "CORE:KEY=VALUE"),
        (["--cores", "gru", "--option", "grsn:beta=0.5"], "not in --cores"),
        (["--out", "results.txt"], ".csv"),
    ],
)
def test_sweep_bad_arguments(argv, message, capsys):
    sweep = load_sweep_script()
    with pytest.raises(SystemExit):
        sweep.parse_args(argv)
    assert message in capsys.readouterr().err


def test_sweep_refuses_a_csv_with_other_columns(tmp_path):
    sweep = load_sweep_script()
    out = tmp_path / "other.csv"
    out.write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit, match="columns"):
        sweep.main(["--cores", "mlp", "--delays", "1", "--seeds", "0", "--quiet", "--out", str(out)])


def test_option_values_are_parsed():
    sweep = load_sweep_script()
    assert sweep.parse_value("true") is True and sweep.parse_value("False") is False
    assert sweep.parse_value("2") == 2 and sweep.parse_value("0.5") == 0.5
    assert sweep.parse_value("membrane") == "membrane"


# -- results loading and figures ------------------------------------------------------------------------------------


def test_load_memory_results_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="memory_sweep.py"):
        load_memory_results(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("core,delay\ngru,1\n")
    with pytest.raises(ValueError, match="columns"):
        load_memory_results(bad)


def _fake_results():
    import pandas as pd

    rows = []
    for core in ("mlp", "gru"):
        for delay in (1, 5):
            for seed in (0, 1):
                rows.append(dict(core=core, delay=delay, seed=seed, accuracy=0.25 if core == "mlp" else 0.9 + 0.05 * seed))
    return pd.DataFrame(rows)


def test_summarize_accuracy():
    summary = summarize_accuracy(_fake_results())
    assert summary.loc[("gru", 5), "mean"] == pytest.approx(0.925)
    assert summary.loc[("gru", 5), "min"] == pytest.approx(0.9) and summary.loc[("mlp", 1), "seeds"] == 2


def _assert_readable(fig):
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_figures_are_labelled():
    from grsn_edu.course.plots import memory as plots

    _assert_readable(plots.plot_pulse_decay({0.5: [0.5, 0.25, 0.125], 0.9: [0.5, 0.45, 0.405]}, 0.5, threshold=1.0))
    x, labels = CueRecallTask(delay=6).sample(1, torch.Generator().manual_seed(0))
    _assert_readable(plots.plot_task_example(x[:, 0], int(labels[0]), 4))
    fig = plots.plot_accuracy_vs_delay(_fake_results(), chance=0.25)
    _assert_readable(fig)
    assert len(fig.axes[0].get_legend().get_texts()) == 3  # two cores and chance
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_accuracy_vs_delay(_fake_results(), cores=["grsn"])
    run = train_memory_task("mlp", delay=1, seed=0, **TINY)
    _assert_readable(plots.plot_loss_curves([run], chance_loss=math.log(4), smooth=2))
    _assert_readable(plots.plot_gate_memory(beta=0.9, forget_bias=2.0))
    fig = plots.plot_integrator_accuracy([0.0, 0.5, 1.0], {1: [0.25, 0.5, 0.8], 5: [0.25, 0.3, 0.5]}, chance=0.25, noise=0.5)
    _assert_readable(fig)
    assert "best 80% at beta = 1" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0]
    variants = _fake_results()
    variants["label"] = variants["core"] + ": defaults"
    fig = plots.plot_variants(variants, ["gru: defaults", "mlp: defaults"], chance=0.25)
    _assert_readable(fig)
    assert len(fig.axes[0].patches) == 4  # 2 variants x 2 delays
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_variants(variants, ["grsn: defaults"])


def test_live_figure_displays_the_default_figure_once(monkeypatch):
    from grsn_edu.course.plots import memory as plots

    ipywidgets = pytest.importorskip("ipywidgets")
    shown, calls = [], []
    import IPython.display

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=None):
        shown.append(("display", obj))
        return Handle() if display_id else None

    monkeypatch.setattr(IPython.display, "display", fake_display)

    def draw(beta):
        calls.append(beta)
        return plots.plot_gate_memory(beta=beta, forget_bias=1.0)

    slider = ipywidgets.FloatSlider(value=0.8, min=0.1, max=1.0)
    plots.live_figure(draw, beta=slider)
    assert calls == [0.8] and isinstance(shown[0][1], Figure)
    slider.value = 0.95  # a reader moves the slider: the figure is redrawn in place
    assert calls == [0.8, 0.95] and shown[-1][0] == "update"
