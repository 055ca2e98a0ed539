"""The reinforcement-learning primer: its exercises' solutions against hand computations and the package, its checks'
contract (the solution passes, typical mistakes are told what is wrong, student mode hands nothing on), and its
figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from grsn_edu.course.checks import STUDENT_MODE_VARIABLE
from grsn_edu.course.checks import rl_primer as checks
from grsn_edu.course.exercises import chapter_module
from grsn_edu.course.plots import rl
from grsn_edu.course.plots.ppo_diagnostics import DIAGNOSTIC_LABELS, plot_update_stats
from grsn_edu.course.solutions import rl_primer as sol
from grsn_edu.rl.gae import gae
from grsn_edu.rl.ppo import UPDATE_COLUMNS


def test_the_notebook_finds_its_modules_by_its_slug():
    assert chapter_module("05_rl_primer.ipynb") == "rl_primer"


# -- Exercise 1: discounted returns --------------------------------------------------------------------------------
def test_discounted_returns_by_hand():
    assert sol.discounted_returns([1.0, 1.0, 1.0], [0, 0, 0], 0.5).tolist() == [1.75, 1.5, 1.0]
    # the episode ends at step 1: the return of steps 0-1 knows nothing of the rewards 3 and 4
    assert sol.discounted_returns([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 0], 0.5).tolist() == [2.0, 2.0, 5.0, 4.0]
    assert sol.discounted_returns([1.0, 2.0], [0, 0], 0.0).tolist() == [1.0, 2.0]  # gamma 0: the reward alone
    for rewards, dones, gamma, want in checks.RETURN_CASES:
        assert sol.discounted_returns(rewards, dones, gamma).tolist() == pytest.approx(want)


def test_the_checks_reference_returns_are_the_package_gae_with_zero_values():
    case = checks.rollout_case(7)
    got = sol.discounted_returns(case["rewards"], case["dones"], 0.9).numpy()
    assert np.allclose(checks.package_returns(case["rewards"], case["dones"], 0.9), got)


def _forward(rewards, dones, gamma):  # sums the past instead of the future
    out, acc = [], 0.0
    for r, d in zip(rewards, dones):
        acc = float(r) + gamma * acc
        out.append(acc)
        if d:
            acc = 0.0
    return torch.tensor(out)


def test_check_discounted_returns(check_contract):
    check_contract(checks.check_discounted_returns, sol.discounted_returns, {
        "next episode": lambda r, d, g: sol.discounted_returns(r, torch.zeros(len(r)), g),
        "gamma times less": lambda r, d, g: sol.discounted_returns(r, d, 1.0),
        r"counts in full \(gamma\^0 = 1\)": lambda r, d, g: g * sol.discounted_returns(r, d, g),
        "includes the reward of step t": lambda r, d, g: sol.discounted_returns(r, d, g) - torch.as_tensor(r),
        "backwards": _forward,
        r"one number per step, shape \(3,\)": lambda r, d, g: sol.discounted_returns(r, d, g)[:-1],
        "tensor or array": lambda r, d, g: "returns",
    })


def test_an_unrecognised_wrong_return_gets_the_formula_only_in_the_instructors_copy(monkeypatch, capsys):
    def wrong(r, d, g):
        return sol.discounted_returns(r, d, g) + 0.1

    with pytest.raises(AssertionError, match=r"G_t = r_t \+ gamma"):
        checks.check_discounted_returns(wrong)
    monkeypatch.setenv(STUDENT_MODE_VARIABLE, "1")
    with pytest.raises(AssertionError, match="its reward plus the discounted return") as err:
        checks.check_discounted_returns(wrong)
    assert "G_t = r_t + gamma" not in str(err.value)


# -- Exercise 2: GAE -----------------------------------------------------------------------------------------------
def test_gae_advantages_by_hand():
    case = checks.GAE_HAND_CASE
    args = (case["rewards"], case["values"], case["dones"], case["next_value"])
    # lambda = 0: the TD errors r_t + gamma (1 - d_t) V_{t+1} - V_t, computed by hand
    assert sol.gae_advantages(*args, 0.9, 0.0).tolist() == pytest.approx([1 + 0.9 * 1 - 2, 1 - 1, 1 + 0.9 * 2 - 3,
                                                                          1 + 0.9 * 4 - 2])
    # lambda = 1: the discounted return (bootstrapped with next_value) minus the value
    g3 = 1 + 0.9 * 4
    g2 = 1 + 0.9 * g3
    assert sol.gae_advantages(*args, 0.9, 1.0).tolist() == pytest.approx([1 + 0.9 * 1 - 2, 1 - 1, g2 - 3, g3 - 2])


@pytest.mark.parametrize("seed, gamma, lam", [(0, 0.99, 0.95), (1, 0.5, 0.0), (2, 0.9, 1.0)])
def test_gae_advantages_is_the_package_gae_of_one_environment(seed, gamma, lam):
    case = checks.rollout_case(seed)
    want, _ = gae(case["rewards"][:, None], case["values"][:, None], case["dones"][:, None],
                  torch.tensor([case["next_value"]], dtype=torch.float64), gamma, lam)
    got = sol.gae_advantages(case["rewards"], case["values"], case["dones"], case["next_value"], gamma, lam)
    assert torch.allclose(got, want[:, 0])


def test_check_gae_advantages(check_contract):
    def plus_values(r, v, d, nv, g, l):
        return sol.gae_advantages(r, v, d, nv, g, l) + torch.as_tensor(v, dtype=torch.float64)

    check_contract(checks.check_gae_advantages, sol.gae_advantages, {
        "value target": plus_values,
        "episode end is ignored": lambda r, v, d, nv, g, l: sol.gae_advantages(r, v, torch.zeros(len(r)), nv, g, l),
        "next value is next_value": lambda r, v, d, nv, g, l: sol.gae_advantages(r, v, d, 0.0, g, l),
        "sign is flipped": lambda r, v, d, nv, g, l: -sol.gae_advantages(r, v, d, nv, g, l),
        r"shape \(4,\)": lambda r, v, d, nv, g, l: sol.gae_advantages(r, v, d, nv, g, l)[None],
    })


def test_gae_without_gamma_in_the_trace_gets_a_hint_in_either_mode(monkeypatch):
    def lambda_only(r, v, d, nv, g, l):
        return sol.gae_advantages(r, v, d, nv, g, l / g if g else l)  # weighs later TD errors by lambda alone

    with pytest.raises(AssertionError, match=r"A_t = delta_t \+ gamma lambda"):
        checks.check_gae_advantages(lambda_only)
    monkeypatch.setenv(STUDENT_MODE_VARIABLE, "1")
    with pytest.raises(AssertionError, match=r"\(gamma lambda\)\^k"):
        checks.check_gae_advantages(lambda_only)


# -- Exercise 3: the clipped objective -----------------------------------------------------------------------------
def test_clipped_objective_by_hand():
    for ratio, advantage, eps, want in checks.CLIP_CASES:
        assert sol.clipped_objective(ratio, advantage, eps) == pytest.approx(want)
    assert sol.clipped_objective(3.0, 1.0, 0.2) == pytest.approx(1.2)  # beyond the grid the checks use, too
    assert sol.clipped_objective(0.1, -2.0, 0.2) == pytest.approx(-1.6)


def test_check_clipped_objective(check_contract):
    def clip(r, eps):
        return min(max(r, 1 - eps), 1 + eps)

    check_contract(checks.check_clipped_objective, sol.clipped_objective, {
        "smaller": lambda r, a, eps: max(r * a, clip(r, eps) * a),
        "clipped term alone": lambda r, a, eps: clip(r, eps) * a,
        "unclipped term r A alone": lambda r, a, eps: r * a,
        "order flips": lambda r, a, eps: min(r, clip(r, eps)) * a,
        "one number": lambda r, a, eps: (r * a, clip(r, eps) * a),
    })


# -- figures -------------------------------------------------------------------------------------------------------
def _assert_labelled(fig):
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), "the figure needs a title"
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), "every panel needs both axis labels"
    assert fig.legends, "the legend sits outside the panels"


def test_episode_returns_histogram():
    fig = rl.plot_episode_returns({"random": [10.0, 20.0, 30.0], "trained": [500.0, 500.0]}, title="returns")
    _assert_labelled(fig)
    (ax,) = fig.axes
    assert len(ax.containers) == 2
    assert sum(p.get_height() for p in ax.containers[0]) == 3 and sum(p.get_height() for p in ax.containers[1]) == 2
    assert ax.containers[1][-1].get_height() == 2  # a return of 500 lands in the last bar
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["random: 3 episodes, mean 20.0", "trained: 2 episodes, mean 500.0"]
    with pytest.raises(ValueError, match="empty"):
        rl.plot_episode_returns({})
    with pytest.raises(ValueError, match="'random'"):
        rl.plot_episode_returns({"random": []})


def test_discount_weights_figure():
    fig = rl.plot_discount_weights(gammas=(0.5, 0.9), steps=20)
    _assert_labelled(fig)
    ax_w, ax_g = fig.axes
    k = np.arange(21)
    assert np.allclose(ax_w.lines[0].get_ydata(), 0.5**k) and np.allclose(ax_w.lines[2].get_ydata(), 0.9**k)
    assert np.allclose(ax_g.lines[0].get_ydata(), [sum(0.5**j for j in range(n)) for n in k])
    assert list(ax_w.lines[1].get_xdata()) == pytest.approx([2.0, 2.0])  # the horizon 1 / (1 - 0.5), dotted
    assert [t.get_text() for t in fig.legends[0].get_texts()][1].endswith("horizon 1 / (1 - gamma) = 10 steps")
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        rl.plot_discount_weights(gammas=(1.0,))


def test_run_against_seeds_figure():
    seeds = pd.DataFrame({"seed": [0, 0, 1, 1], "global_step": [10, 20, 10, 20], "eval_return_mean": [1, 2, 3, 4.0]})
    run = pd.DataFrame({"global_step": [5, 10, 15], "eval_return_mean": [7.0, 8.0, 9.0]})
    fig = rl.plot_run_against_seeds(run, seeds, run_label="live", seeds_label="saved")
    _assert_labelled(fig)
    (ax,) = fig.axes
    assert [list(line.get_ydata()) for line in ax.lines[:3]] == [[1, 2], [3, 4], [7, 8, 9]]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["saved (2 seeds)", "live", "solved (475)"]
    with pytest.raises(ValueError, match="seeds lacks column"):
        rl.plot_run_against_seeds(run, seeds.drop(columns="seed"))
    with pytest.raises(ValueError, match="at least one row"):
        rl.plot_run_against_seeds(run.iloc[:0], seeds)


def test_update_stats_label_the_entropy_panel():
    rows = pd.DataFrame({column: np.linspace(0.1, 0.5, 4) for column in UPDATE_COLUMNS})
    rows = rows.assign(global_step=[1024, 2048, 3072, 4096], variant="mlp", env="CartPole-v1", seed=0)
    fig = plot_update_stats(rows, [("mlp", "CartPole-v1", 0)], columns=["approx_kl", "entropy"])
    assert [ax.get_title() for ax in fig.axes] == [DIAGNOSTIC_LABELS["approx_kl"][0], DIAGNOSTIC_LABELS["entropy"][0]]
    assert fig.axes[1].get_ylabel() == "entropy (nats)"
