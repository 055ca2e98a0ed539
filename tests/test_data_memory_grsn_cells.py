"""data/memory_task/first_release.csv and eq17.csv: the authors' first released GRSN cell on the cue-recall sweep, in
both membrane conventions, and the cell of the paper's Eq. 17 as the authors later wrote it.

``tests/test_packaging.py`` checks that the README's commands make exactly these rows; here, that the rows follow
their own protocol, share the grid and protocol of ``results.csv`` (so they compare one to one with the other
cores), and show what the README says about the two conventions.
"""

from pathlib import Path

import pytest
from torch import nn

from grsn_edu import make_core
from grsn_edu.experiments.memory import RESULT_DTYPES, RUN_KEY_COLUMNS, load_memory_results

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "memory_task"
#: the two conventions: the core's default (membrane zeroed at every call) and the membrane carried (TAP)
OPTIONS = ["", "reset_membrane_each_call=False"]
PROTOCOL = ["steps", "batch_size", "lr", "hidden_size", "n_cues", "noise", "test_size", "threads"]


@pytest.fixture(scope="module")
def authors():
    return load_memory_results(DATA / "first_release.csv")


@pytest.fixture(scope="module")
def eq17():
    return load_memory_results(DATA / "eq17.csv")


@pytest.fixture(scope="module")
def main_sweep():
    return load_memory_results(DATA / "results.csv")


def test_rows_follow_their_own_protocol(authors):
    assert {c: str(t) for c, t in authors.dtypes.items()} == RESULT_DTYPES
    assert (authors["core"] == "grsn-first-release").all()
    assert not authors.duplicated(RUN_KEY_COLUMNS).any()
    correct = authors["accuracy"] * authors["test_size"]
    assert (correct - correct.round()).abs().max() < 1e-6  # a count of correct test sequences over test_size
    assert (authors["chance"] == 1 / authors["n_cues"]).all() and (authors["wall_time_s"] > 0).all()
    for options, rows in authors.groupby("options"):
        flag = options != "reset_membrane_each_call=False"
        net = make_core("grsn-first-release", int(rows["n_cues"].iloc[0]) + 1, int(rows["hidden_size"].iloc[0]),
                        reset_membrane_each_call=flag)
        readout = nn.Linear(net.output_size, int(rows["n_cues"].iloc[0]))
        n_params = sum(p.numel() for p in [*net.parameters(), *readout.parameters()])
        assert (rows["n_params"] == n_params).all(), options


def test_grid_and_protocol_are_those_of_the_main_sweep(authors, main_sweep):
    assert sorted(authors["options"].unique()) == OPTIONS
    grid = set(zip(main_sweep["delay"], main_sweep["seed"]))
    for options, rows in authors.groupby("options"):
        cells = list(zip(rows["delay"], rows["seed"]))
        assert set(cells) == grid and len(cells) == len(grid), f"{options!r}: not the grid of results.csv"
    for column in PROTOCOL:
        assert set(authors[column]) == set(main_sweep[column]) and main_sweep[column].nunique() == 1, column


def test_the_two_conventions_train_and_test_alike(authors):
    # one call per sequence from the initial state: zeroing the membrane at the call's start changes nothing
    default, carried = (authors[authors["options"] == o].set_index(["delay", "seed"]).sort_index() for o in OPTIONS)
    for column in ("accuracy", "test_loss", "final_loss"):
        assert (default[column] == carried[column]).all(), column


def test_the_cell_learns_short_delays_and_not_long_ones(authors, main_sweep):
    mean = authors.groupby("delay")["accuracy"].mean()
    assert mean[1] > 0.95  # it learns the task
    assert mean[40] < 0.3  # and keeps no cue over 40 steps: chance is 0.25
    grsn = main_sweep[main_sweep["core"] == "grsn"].groupby("delay")["accuracy"].mean()
    assert (grsn[40] - mean[40]) > 0.5


def test_the_eq17_cell_follows_the_main_sweep_s_grid_and_protocol(eq17, main_sweep):
    assert {c: str(t) for c, t in eq17.dtypes.items()} == RESULT_DTYPES
    assert (eq17["core"] == "grsn-eq17").all() and not eq17.duplicated(RUN_KEY_COLUMNS).any()
    assert sorted(zip(eq17["delay"], eq17["seed"])) == sorted(set(zip(main_sweep["delay"], main_sweep["seed"])))
    for column in PROTOCOL:
        assert set(eq17[column]) == set(main_sweep[column]), column
    net = make_core("grsn-eq17", int(eq17["n_cues"].iloc[0]) + 1, int(eq17["hidden_size"].iloc[0]))
    readout = nn.Linear(net.output_size, int(eq17["n_cues"].iloc[0]))
    assert (eq17["n_params"] == sum(p.numel() for p in [*net.parameters(), *readout.parameters()])).all()
