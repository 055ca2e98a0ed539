"""The cue-recall memory task, its training function, the sweep script and the memory figures."""

import dataclasses
import importlib.util
import math
import os
from pathlib import Path

import pytest
import torch
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from torch import nn

from grsn_edu.envs.cue_recall import CueRecallTask
from grsn_edu.experiments.memory import (
    RESULT_DTYPES,
    TEST_SEED,
    MemoryRun,
    evaluate_accuracy,
    format_options,
    load_memory_results,
    summarize_accuracy,
    train_memory_network,
    train_memory_task,
)
from grsn_edu.snn.cores import make_core

ROOT = Path(__file__).resolve().parents[1]


def load_sweep_script(name="memory_sweep"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
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


@pytest.mark.parametrize("n_cues", [2, 4, 7])
def test_cues_are_equally_likely_so_guessing_scores_chance(n_cues):
    task = CueRecallTask(n_cues=n_cues, delay=1)
    _, labels = task.sample(20_000, torch.Generator().manual_seed(5))
    frequency = torch.bincount(labels, minlength=n_cues).float() / len(labels)
    # the best constant guess (the most frequent cue) is right about 1 / n_cues of the time
    assert frequency.max().item() == pytest.approx(task.chance, abs=0.015)
    assert frequency.min().item() == pytest.approx(task.chance, abs=0.015)


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
    run = train_memory_task("grsn", delay=2, seed=0, readout="membrane", forget_bias=2.0,
                            **dict(TINY, steps=20))
    assert len(run.losses) == 20 and all(math.isfinite(v) for v in run.losses)
    assert run.final_loss == pytest.approx((run.losses[-1] + run.losses[-2]) / 2)  # last 10 % of 20 steps
    assert run.options == {"readout": "membrane", "forget_bias": 2.0}
    core = make_core("grsn", 5, 8, readout="membrane", forget_bias=2.0)  # I = 4 cues + go
    readout = nn.Linear(core.output_size, 4)
    assert run.n_params == sum(p.numel() for p in [*core.parameters(), *readout.parameters()])
    row = run.as_row()
    assert "losses" not in row
    assert row["options"] == "forget_bias=2.0;readout=membrane"
    assert list(row) + ["threads"] == list(RESULT_DTYPES)
    assert {k: v for k, v in row.items() if k != "options"} == {
        k: v for k, v in dataclasses.asdict(run).items() if k not in ("losses", "options")}


@pytest.mark.parametrize("core_name,seed", [("gru", 0), ("gru", 1), ("lif", 0)])
def test_accuracy_is_measured_on_the_fixed_held_out_set(core_name, seed):
    trained = train_memory_network(core_name, delay=3, seed=seed, **TINY)
    run, core, readout, task = trained  # unpacks like a tuple
    assert trained.run is run and isinstance(run, MemoryRun) and task.delay == 3
    x, labels = task.sample(TINY["test_size"], torch.Generator().manual_seed(TEST_SEED))
    assert evaluate_accuracy(core, readout, x, labels) == (run.accuracy, run.test_loss)
    # the check is sensitive: other test sequences give another loss
    x, labels = task.sample(TINY["test_size"], torch.Generator().manual_seed(TEST_SEED + 1))
    assert evaluate_accuracy(core, readout, x, labels)[1] != run.test_loss


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
    assert "4 of 4 runs done, 0 to do" in capsys.readouterr().out
    assert load_memory_results(out).equals(first)

    sweep.main(base + ["--seeds", "0", "1"])  # a later --seeds replaces the earlier one: one more seed
    df = load_memory_results(out)
    assert len(df) == 8 and sorted(df["seed"].unique()) == [0, 1]
    assert df.drop(columns="wall_time_s").iloc[:4].equals(first.drop(columns="wall_time_s"))
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file's mode, not mkstemp's private 0600


def test_sweep_keeps_the_finished_runs_when_a_run_fails(tmp_path, capsys):
    sweep = load_sweep_script()
    out = tmp_path / "sweep.csv"
    args = ["--cores", "mlp", "gru", "--delays", "1", "--seeds", "0", "1", "--steps", "2", "--batch-size", "4",
            "--hidden-size", "4", "--test-size", "8", "--quiet", "--out", str(out)]
    # runs go mlp seed 0, gru seed 0, ...: the gru run stops the sweep with an error after one finished run
    with pytest.raises(ValueError, match="bad option"):
        sweep.main(args + ["--option", "gru:not_an_option=1"])
    saved = load_memory_results(out)
    assert list(zip(saved["core"], saved["seed"])) == [("mlp", 0)]
    capsys.readouterr()
    sweep.main(args)  # started again: the finished run is kept as it was, the others run
    assert "1 of 4 runs done, 3 to do" in capsys.readouterr().out
    df = load_memory_results(out)
    assert list(zip(df["core"], df["seed"])) == [("mlp", 0), ("gru", 0), ("mlp", 1), ("gru", 1)]
    assert df.iloc[:1].equals(saved)  # not re-run: even its wall time is the one first written
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]


def test_gate_input_sweep_spikes_rows_repeat_the_memory_sweep_grsn_rows(tmp_path):
    gate = load_sweep_script("gate_input_sweep")
    common = ["--delays", "2", "--seeds", "3", "--steps", "4", "--hidden-size", "4", "--test-size", "16", "--quiet"]
    assert gate.main(common + ["--gate-inputs", "spikes", "input", "--out", str(tmp_path / "gate.csv")]) == 0
    gated = load_memory_results(tmp_path / "gate.csv")
    assert list(gated["options"]) == ["gate_input=spikes", "gate_input=input"]
    assert gated.loc[0, "test_loss"] != gated.loc[1, "test_loss"]  # the option reached the core
    load_sweep_script().main(common + ["--cores", "grsn", "--out", str(tmp_path / "memory.csv")])
    plain = load_memory_results(tmp_path / "memory.csv")
    same = ["accuracy", "test_loss", "final_loss", "n_params", "delay", "seed", "steps"]
    assert gated.loc[[0], same].reset_index(drop=True).equals(plain[same])  # spikes is the default


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
    with pytest.raises(ValueError, match="columns"):
        sweep.main(["--cores", "mlp", "--delays", "1", "--seeds", "0", "--quiet", "--out", str(out)])
    assert out.read_text() == "a,b\n1,2\n"  # left as it was


def test_option_values_are_parsed():
    sweep = load_sweep_script()
    assert sweep.parse_value("true") is True and sweep.parse_value("False") is False
    assert sweep.parse_value("2") == 2 and sweep.parse_value("0.5") == 0.5
    assert sweep.parse_value("membrane") == "membrane"


# -- the saved sweeps ---------------------------------------------------------------------------------------------

SWEEP_FILES = ["memory_task/results.csv", "memory_task/lr_pilot.csv", "memory_task/variants.csv",
               "gate_input/results.csv"]


@pytest.mark.parametrize("name", SWEEP_FILES)
def test_saved_sweep_rows_agree_with_their_own_protocol(name):
    """Each row's numbers follow from its protocol columns: a hand-edited or garbled row is caught."""
    from grsn_edu.experiments.memory import RUN_KEY_COLUMNS

    df = load_memory_results(ROOT / "data" / name)
    assert len(df) > 0 and not df.duplicated(RUN_KEY_COLUMNS).any()
    # an accuracy is a count of correct test sequences over test_size
    correct = df["accuracy"] * df["test_size"]
    assert (correct - correct.round()).abs().max() < 1e-6
    assert (df["chance"] == 1 / df["n_cues"]).all()
    assert (df["test_loss"] >= 0).all() and (df["final_loss"] >= 0).all() and (df["threads"] == 1).all()
    parse_value = load_sweep_script().parse_value  # how the sweep reads an option's value from the command line
    for (core, options, hidden, n_cues), rows in df.groupby(["core", "options", "hidden_size", "n_cues"]):
        parsed = {k: parse_value(v) for k, _, v in (o.partition("=") for o in options.split(";") if o)}
        net = make_core(core, n_cues + 1, int(hidden), **parsed)
        readout = nn.Linear(net.output_size, int(n_cues))
        n_params = sum(p.numel() for p in [*net.parameters(), *readout.parameters()])
        assert (rows["n_params"] == n_params).all(), (core, options)


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
                accuracy = 0.25 if core == "mlp" else 0.9 + 0.05 * seed
                rows.append(dict(core=core, delay=delay, seed=seed, accuracy=accuracy))
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
    ax = fig.axes[0]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # no shaded bands that blend
    mlp_mean, gru_mean = [line for line in ax.lines if line.get_marker() == "o"]
    assert mlp_mean.get_xdata()[0] < 1 < gru_mean.get_xdata()[0]  # the cores' lines are set apart sideways
    bars = [seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()]
    gru_bars = [(seg[0][1], seg[1][1]) for seg in bars if seg[0][0] == gru_mean.get_xdata()[0]]
    assert gru_bars == [pytest.approx((0.9, 0.95))]  # from the lowest to the highest seed at D = 1
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_accuracy_vs_delay(_fake_results(), cores=["grsn"])
    run = train_memory_task("mlp", delay=1, seed=0, **TINY)
    _assert_readable(plots.plot_loss_curves([run], chance_loss=math.log(4), smooth=2))
    _assert_readable(plots.plot_gate_memory(beta=0.9, forget_bias=2.0))
    fig = plots.plot_integrator_accuracy([0.0, 0.5, 1.0], {1: [0.25, 0.9, 0.8], 5: [0.25, 0.3, 0.5]}, chance=0.25,
                                         noise=0.5)
    _assert_readable(fig)
    best = [(line.get_xdata()[0], line.get_ydata()[0]) for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert best == [(0.5, 0.9), (1.0, 0.5)]  # each delay's best beta is marked
    variants = _fake_results()
    variants["label"] = variants["core"] + ": defaults"
    fig = plots.plot_variants(variants, ["gru: defaults", "mlp: defaults"], chance=0.25)
    _assert_readable(fig)
    assert len(fig.axes[0].patches) == 4  # 2 variants x 2 delays
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_variants(variants, ["grsn: defaults"])
