"""data/marl_input_ablation: schema, every team and hidden input once, and a row recomputed from its agent file."""

import pandas as pd
import pytest
from conftest import ROOT, import_file

from grsn_edu.util.files import read_csv

DATA = ROOT / "data" / "marl_input_ablation"


@pytest.fixture(scope="module")
def script():
    return import_file("scripts", "marl_input_ablation")


def test_schema_and_one_row_per_team_and_hidden_input(script):
    frame = read_csv(DATA / "summary.csv", script.COLUMNS)
    assert list(frame.columns) == script.COLUMNS
    assert sorted(zip(frame["agent"], frame["hidden"])) == sorted((a, h) for a in script.AGENTS for h in script.HIDDEN)
    assert (frame["episodes"] == 100).all() and frame["team_return_mean"].between(-300, 0).all()


def test_the_full_input_row_is_the_saved_team_and_a_row_recomputes_exactly(script):
    frame = read_csv(DATA / "summary.csv", script.COLUMNS).set_index(["agent", "hidden"])
    row = pd.DataFrame(script.ablation_rows(ROOT / "data" / "marl" / "agents", 100)).set_index(["agent", "hidden"])
    pd.testing.assert_frame_equal(row.loc[frame.index], frame, check_exact=False, rtol=1e-6)


def test_hide_inputs_rejects_an_unknown_input(script):
    with pytest.raises(ValueError, match="hidden must be one of"):
        script.hide_inputs(object(), "landmarks")
