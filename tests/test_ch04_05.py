"""Notebooks 04 and 05: exercise checks (pass on the solutions, fail on wrong answers) and the RL figures."""

import inspect

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from grsn_edu import count_core_ops, make_core
from grsn_edu.course.checks import ch04 as checks04
from grsn_edu.course.checks import ch05 as checks05
from grsn_edu.course.plots import rl
from grsn_edu.course.recordings import record_episode
from grsn_edu.course.solutions import ch04 as sol04
from grsn_edu.course.solutions import ch05 as sol05
from grsn_edu.rl.agents import RecurrentActorCritic


# -- chapter 04 --------------------------------------------------------------------------------------------------
def test_gate_acs_solution_by_hand():
    assert sol04.gate_acs([0], 4) == 8  # bias only: 2H
    assert sol04.gate_acs([3], 4) == 3 * 8 + 8
    assert sol04.gate_acs([1, 2, 0, 5], 16) == 32 * (8 + 4)


def test_check_gate_acs(check_contract):
    check_contract(checks04.check_gate_acs, sol04.gate_acs, {
        "bias": lambda c, H: 2 * H * sum(c),
        "2H targets": lambda c, H: H * (sum(c) + len(c)),
        "every spiking update": lambda c, H: 2 * H * (sum(c) + 1),
        "dense": lambda c, H: 2 * H * H * len(c) + 2 * H * len(c),
    })


def test_measured_gate_acs_is_count_core_ops():
    counts, acs = checks04.measured_gate_acs(16, 4, seed=3)
    assert len(counts) == 4 and acs == sol04.gate_acs(counts, 16)


def test_check_memory_left(check_contract):
    check_contract(checks04.check_memory_left, sol04.memory_left, {
        "TAP answer": lambda b, k, s: b**k,
        "count the updates": lambda b, k, s: b ** (k * s - 1),
        "multiplies the membrane by beta": lambda b, k, s: b ** (k / s),
    })


def test_measured_memory_left_is_beta_to_the_updates():
    assert checks04.measured_memory_left(0.9, 5, 4) == pytest.approx(0.9**20, rel=1e-5)
    assert checks04.measured_memory_left(0.5, 2, 1) == pytest.approx(0.25, rel=1e-5)


# -- chapter 05 --------------------------------------------------------------------------------------------------
class _NoSpace(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    def __init__(self, env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)

    def observation(self, observation):
        return observation[2:3]


class _WrongIndex(sol05.AngleOnly):
    def observation(self, observation):
        return observation[3:4]


class _WrongBounds(sol05.AngleOnly):
    def __init__(self, env):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)


class _Stub(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):  # as notebook 05 hands it out
    def __init__(self, env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        raise NotImplementedError("a Box of shape (1,)")

    def observation(self, observation):
        raise NotImplementedError("entry 2 of the observation")


class _HalfDone(sol05.AngleOnly):  # the space is set, the observation is still the stub's
    def observation(self, observation):
        raise NotImplementedError("entry 2 of the observation")


class _Mine(sol05.AngleOnly):  # a reader's right answer (defined here, so that check_env can rebuild it)
    pass


def test_check_angle_only(check_contract):
    check_contract(checks05.check_angle_only, sol05.AngleOnly, stub=_Stub, mine=_Mine,
                   wrong={"shape": _NoSpace, "true pole angle": _WrongIndex, "bounds": _WrongBounds})


def test_check_angle_only_counts_a_half_written_wrapper_as_the_stub(capsys):
    assert checks05.check_angle_only(_HalfDone) is sol05.AngleOnly
    assert "still the stub" in capsys.readouterr().out


def test_check_velocity_from_positions(check_contract):
    check_contract(checks05.check_velocity_from_positions, sol05.velocity_from_positions, {
        "divide by tau": lambda a, b: np.asarray(b) - np.asarray(a),
        "sign": lambda a, b: (np.asarray(a, float) - np.asarray(b, float)) / 0.02,
    })


def test_check_angle_from_velocities(check_contract):
    check_contract(checks05.check_angle_from_velocities, sol05.angle_from_velocities, {
        "off by one": lambda v, a0: a0 + 0.02 * np.cumsum(v),
        "initial angle": lambda v, a0: 0.02 * np.concatenate([[0.0], np.cumsum(v)[:-1]]),
    })


def test_solutions_agree_with_cartpole_physics():
    obs, states = checks05.true_episode("CartPole-P", seed=4)
    assert np.allclose(sol05.velocity_from_positions(obs[:-1], obs[1:]), states[:-1][:, [1, 3]], atol=1e-4)
    obs, states = checks05.true_episode("CartPole-V", seed=4)
    assert np.allclose(sol05.angle_from_velocities(obs[:, 1], states[0, 2]), states[:, 2], atol=1e-4)
    tau = gym.make("CartPole-v1").unwrapped.tau
    for fn in (sol05.velocity_from_positions, sol05.angle_from_velocities):  # their default time step is CartPole's
        assert inspect.signature(fn).parameters["tau"].default == tau


# -- figures -----------------------------------------------------------------------------------------------------
def _assert_labelled(fig):
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), "the figure needs a title"
    data_axes = [ax for ax in fig.axes if ax.has_data()]
    assert data_axes, "the figure draws nothing"
    for ax in data_axes:
        if ax.images:  # a picture (a rendered frame) has no y axis to label
            continue
        assert ax.get_ylabel() or ax.get_yticklabels(), "every panel needs a y label"
    assert any(ax.get_xlabel() for ax in fig.axes), "the figure needs an x label"


def _curves():
    rows, trains = [], []
    for agent, level in (("grsn", 300.0), ("mlp", 30.0)):
        for seed in (0, 1, 2):
            for i, step in enumerate((10240, 20224, 30208)):
                rows.append({"env": "CartPole-V", "agent": agent, "seed": seed, "global_step": step,
                             "eval_return_mean": level * (i + 1) / 3 + seed})
            for step in range(100, 30000, 400 + 50 * seed):
                trains.append({"env": "CartPole-V", "agent": agent, "seed": seed, "global_step": step,
                               "return_ma20": level * step / 30000})
    return pd.DataFrame(rows), pd.DataFrame(trains)


def test_seed_spread():
    evals, trains = _curves()
    band = rl.seed_spread(evals, "eval_return_mean")
    grsn = band[band.agent == "grsn"]
    assert grsn["global_step"].tolist() == [10240, 20224, 30208]
    assert grsn["median"].tolist() == [101.0, 201.0, 301.0]
    assert grsn["min"].tolist() == [100.0, 200.0, 300.0] and grsn["max"].tolist() == [102.0, 202.0, 302.0]
    assert (grsn["seeds"] == 3).all() and (band["env"] == "CartPole-V").all()
    band = rl.seed_spread(trains, "return_ma20", grid=10)
    assert len(band) == 20 and (band["min"] <= band["median"]).all() and (band["median"] <= band["max"]).all()
    with pytest.raises(ValueError, match="seed"):
        rl.seed_spread(evals.drop(columns="seed"), "eval_return_mean")


def test_learning_curve_figure():
    evals, trains = _curves()
    fig = rl.plot_learning_curves(evals, trains, "CartPole-V")
    _assert_labelled(fig)
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "GRSN (TAP) (3 seeds)" in labels and "MLP (no memory) (3 seeds)" in labels
    assert len(rl.plot_learning_curves(evals, None, "CartPole-V").axes) == 1
    with pytest.raises(ValueError, match="no curves"):
        rl.plot_learning_curves(evals, None, "CartPole-P")


def test_time_axes_cost_and_dependence_figures():
    fig = rl.plot_time_axes(substeps=4, env_steps=3)
    _assert_labelled(fig)
    rows = [ax for ax in fig.axes if ax.collections]
    assert [len(ax.collections[0].get_offsets()) for ax in rows] == [3, 12]  # TAP first: one dot per update
    fig = rl.plot_time_axes(env_steps=3, schemes=[("a", 1, False), ("b", 2, True)])
    rows = [ax for ax in fig.axes if ax.collections]
    assert [len(ax.lines) for ax in rows] == [0, 2]  # a reset bar between environment steps, only where reset
    x = torch.randn(20, 1, 2)
    torch.manual_seed(0)
    core = make_core("grsn", 2, 16)
    reports = {"TAP": count_core_ops(core, x), "S=4": count_core_ops(make_core("grsn", 2, 16, substeps=4), x)}
    _assert_labelled(rl.plot_decision_costs(reports, {"TAP": [100.0, 120.0, 110.0], "S=4": [400.0, 420.0, 390.0]}))
    _assert_labelled(rl.plot_output_dependence({"a": [1.0, 0.5, 0.2], "b": [1.0, 0.0, 0.0]}))


def test_episode_figures_and_animation():
    torch.manual_seed(0)
    agent = RecurrentActorCritic(2, 2, core="grsn", hidden_size=8, readout="both")
    ep = record_episode(agent, "CartPole-V", seed=2, render=3, max_steps=12)
    fig = rl.plot_episode_internals(ep, start=2, stop=10, raster_units=6, trace_units=2)
    _assert_labelled(fig)
    assert len(fig.axes) == 6 and "not observed" in fig.axes[0].get_legend().get_texts()[0].get_text()
    notap = RecurrentActorCritic(2, 2, core="lif", hidden_size=8, substeps=2)
    assert len(rl.plot_episode_internals(record_episode(notap, "CartPole-P", seed=2, max_steps=12)).axes) == 4
    with pytest.raises(ValueError, match="spiking"):
        rl.plot_episode_internals(record_episode(RecurrentActorCritic(2, 2, "gru", 8), "CartPole-V", max_steps=5))
    _assert_labelled(rl.plot_frame_strip(ep, n=3))
    anim = rl.episode_animation(ep)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == len(ep.frames)
    _assert_labelled(rl.plot_state_reconstruction(ep.steps, ep.steps["pole_velocity"], ep.steps["pole_angle"]))
