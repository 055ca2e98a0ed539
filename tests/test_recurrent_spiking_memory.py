"""The chapter on recurrent spiking memory: its exercise checks (pass on the solutions, fail on wrong answers) and its
saved data."""

import itertools
import math
from pathlib import Path

import pytest
import torch

from grsn_edu.course.checks import recurrent_spiking_memory as checks
from grsn_edu.course.solutions import recurrent_spiking_memory as solutions
from grsn_edu.envs.cue_recall import CueRecallTask
from grsn_edu.experiments.memory import RESULT_DTYPES, load_memory_results

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "memory_task"

#: The grid of data/memory_task/results.csv, as stated in data/memory_task/README.md.
CORES = ["mlp", "gru", "lif", "grsn", "rleaky", "slstm"]
DELAYS = [1, 2, 5, 10, 20, 40]
SEEDS = [0, 1, 2]


def stub(*args, **kwargs):
    raise NotImplementedError("the hint of the exercise")


# -- exercise 1: steps_to_forget ----------------------------------------------------------------------------------


def test_steps_to_forget_solution_values():
    assert solutions.steps_to_forget(0.9, 0.1) == 22  # 0.9**22 = 0.098, 0.9**21 = 0.109
    assert solutions.steps_to_forget(0.5, 0.25) == 2  # exactly on the boundary: 0.5**2 == 0.25
    assert solutions.steps_to_forget(0.0, 0.1) == 1
    assert solutions.steps_to_forget(1.0, 0.1) == math.inf
    for beta, fraction in [(0.5, 0.1), (0.93, 0.3), (0.99, 0.01)]:
        t = solutions.steps_to_forget(beta, fraction)
        assert beta**t <= fraction < beta ** (t - 1)
    with pytest.raises(ValueError):
        solutions.steps_to_forget(0.9, 1.5)
    with pytest.raises(ValueError):
        solutions.steps_to_forget(1.2, 0.1)


def test_steps_to_forget_agrees_with_a_simulated_lif_membrane():
    from grsn_edu.snn.neurons import leaky_step

    for beta in (0.5, 0.8, 0.9, 0.95):
        mem, t = torch.tensor([[0.5]]), 0  # the membrane right after a 0.5 pulse (below threshold: no spike)
        while mem.item() > 0.1 * 0.5:
            _, mem = leaky_step(torch.zeros(1, 1), mem, torch.tensor(beta), 1.0)
            t += 1
        assert t == solutions.steps_to_forget(beta, 0.1)


def test_check_steps_to_forget_keeps_the_contract(check_contract):
    check_contract(checks.check_steps_to_forget, solutions.steps_to_forget, {})


@pytest.mark.parametrize(
    "wrong",
    [
        lambda beta, fraction=0.1: math.log(fraction) / math.log(beta),  # not a whole number of steps
        lambda beta, fraction=0.1: math.floor(math.log(fraction) / math.log(beta)) if beta < 1 else math.inf,
        lambda beta, fraction=0.1: math.ceil(math.log(fraction) / math.log(beta)) + 1 if beta < 1 else math.inf,
        lambda beta, fraction=0.1: math.ceil(math.log(fraction) / math.log(beta)) if beta < 1 else 10**9,
        # ignores fraction:
        lambda beta, fraction=0.1: math.ceil(math.log(0.1) / math.log(beta)) if beta < 1 else math.inf,
    ],
    ids=["real-valued", "floor", "one-too-many", "finite-for-beta-1", "ignores-fraction"],
)
def test_check_steps_to_forget_fails_on_wrong_answers(wrong):
    with pytest.raises(AssertionError, match="steps_to_forget"):
        checks.check_steps_to_forget(wrong)


# -- exercise 2: leaky_integrator_decision ------------------------------------------------------------------------


def test_check_leaky_integrator_keeps_the_contract(check_contract):
    check_contract(checks.check_leaky_integrator_decision, solutions.leaky_integrator_decision, {})


def _no_decay(x, beta, n_cues):
    return x[:, :, :n_cues].sum(0).argmax(-1)


def _with_go_channel(x, beta, n_cues):
    m = torch.zeros(x.shape[1], x.shape[2])
    for x_t in x:
        m = beta * m + x_t
    return m.argmax(-1)


def _decay_after_adding_twice(x, beta, n_cues):
    m = torch.zeros(x.shape[1], n_cues)
    for x_t in x:
        m = beta * (beta * m + x_t[:, :n_cues])
    return m.argmax(-1)


def _last_step_only(x, beta, n_cues):
    return x[-1, :, :n_cues].argmax(-1)


def _wrong_shape(x, beta, n_cues):
    return solutions.leaky_integrator_decision(x, beta, n_cues)[:, None]


@pytest.mark.parametrize("wrong",
                         [_no_decay, _with_go_channel, _decay_after_adding_twice, _last_step_only, _wrong_shape])
def test_check_leaky_integrator_fails_on_wrong_answers(wrong):
    with pytest.raises(AssertionError):
        checks.check_leaky_integrator_decision(wrong)


def test_leaky_integrator_with_beta_one_is_a_sum():
    task = CueRecallTask(n_cues=4, delay=6)
    x, _ = task.sample(64, torch.Generator().manual_seed(0))
    assert torch.equal(solutions.leaky_integrator_decision(x, 1.0, 4), _no_decay(x, 1.0, 4))


# -- exercise 3: forget_schedule ----------------------------------------------------------------------------------


def test_check_forget_schedule_keeps_the_contract(check_contract):
    check_contract(checks.check_forget_schedule, solutions.forget_schedule, {})


def test_check_forget_schedule_accepts_other_right_answers(capsys):
    def soft(T):  # nearly open at the cue, nearly shut afterwards: also remembers
        s = torch.full((T,), 0.9999)
        s[0] = 0.01
        return s

    checks.check_forget_schedule(soft)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong",
    [
        lambda T: torch.full((T,), 0.9),  # a constant gate is a leaky integrator
        lambda T: torch.ones(T),  # never lets the cue in
        lambda T: torch.zeros(T),  # never holds: c is the last input
        lambda T: torch.cat([torch.ones(T - 1), torch.zeros(1)]),  # opens at the decision step instead
        lambda T: torch.ones(T + 1),  # wrong length
        lambda T: torch.full((T,), 2.0),  # not a fraction
    ],
    ids=["constant", "never-open", "never-shut", "open-at-the-end", "wrong-length", "out-of-range"],
)
def test_check_forget_schedule_fails_on_wrong_answers(wrong):
    with pytest.raises(AssertionError):
        checks.check_forget_schedule(wrong)


# -- a stub is reported, and the reference solution is handed on -----------------------------------------------------


@pytest.mark.parametrize(
    "check,name",
    [
        (checks.check_steps_to_forget, "steps_to_forget"),
        (checks.check_leaky_integrator_decision, "leaky_integrator_decision"),
        (checks.check_forget_schedule, "forget_schedule"),
    ],
)
def test_a_stub_is_named_and_the_reference_handed_on(check, name, capsys):
    assert check(stub) is getattr(solutions, name)
    out = capsys.readouterr().out
    assert f"`{name}` is still the stub" in out and "Correct" not in out


def test_a_check_refuses_a_non_function():
    with pytest.raises(AssertionError, match="pass your function"):
        checks.check_steps_to_forget(22)


# -- the saved data ---------------------------------------------------------------------------------------------------


def test_results_csv_matches_its_schema_and_grid():
    df = load_memory_results(DATA / "results.csv")
    assert list(df.columns) == list(RESULT_DTYPES)
    assert {c: str(t) for c, t in df.dtypes.items()} == RESULT_DTYPES
    grid = set(itertools.product(CORES, DELAYS, SEEDS))
    present = list(zip(df["core"], df["delay"], df["seed"]))
    assert set(present) == grid, f"missing runs: {sorted(grid - set(present))}"
    assert len(present) == len(grid), "a (core, delay, seed) appears twice"
    # one protocol for every core: same budget, optimiser settings, task and defaults
    for column in ("steps", "batch_size", "lr", "hidden_size", "n_cues", "noise", "test_size", "threads"):
        assert df[column].nunique() == 1, f"{column} differs between runs"
    assert (df["options"] == "").all()
    assert df["accuracy"].between(0, 1).all() and (df["wall_time_s"] > 0).all()
    assert (df["chance"] == 0.25).all()


def test_results_show_what_the_notebook_says():
    df = load_memory_results(DATA / "results.csv")
    mean = df.groupby(["core", "delay"])["accuracy"].mean()
    # no memory: chance at every delay (test set of 1024: chance +- 0.05)
    assert (mean["mlp"] - 0.25).abs().max() < 0.05
    # GRSN recalls the cue at every delay of the sweep
    assert mean["grsn"].min() > 0.95
    # a LIF layer never does better than the ideal fixed-decay integrator bound at D = 1 (0.82) by much
    assert mean["lif"].max() < 0.9


@pytest.mark.parametrize("name", ["lr_pilot.csv", "variants.csv"])
def test_side_experiments_load(name):
    df = load_memory_results(DATA / name)
    assert len(df) > 0 and df["accuracy"].between(0, 1).all()


def test_data_readme_documents_the_commands_and_columns():
    readme = (DATA / "README.md").read_text()
    assert "scripts/memory_sweep.py" in readme
    for column in RESULT_DTYPES:
        assert f"`{column}`" in readme, f"README does not explain column {column}"
