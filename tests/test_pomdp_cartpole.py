"""The chapter on partially observable CartPole: the exercise checks (pass on the solutions, fail on wrong answers)
and the RL figures."""

import inspect

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_labelled

from grsn_edu.course.checks import pomdp_cartpole as checks
from grsn_edu.course.plots import rl
from grsn_edu.course.recordings import record_episode
from grsn_edu.course.solutions import pomdp_cartpole as sol
from grsn_edu.rl.agents import RecurrentActorCritic


# -- exercises ---------------------------------------------------------------------------------------------------
class _NoSpace(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    def __init__(self, env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)

    def observation(self, observation):
        return observation[2:3]


class _WrongIndex(sol.AngleOnly):
    def observation(self, observation):
        return observation[3:4]


class _WrongBounds(sol.AngleOnly):
    def __init__(self, env):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)


class _Stub(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):  # as the notebook hands it out
    def __init__(self, env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        raise NotImplementedError("a Box of shape (1,)")

    def observation(self, observation):
        raise NotImplementedError("entry 2 of the observation")


class _HalfDone(sol.AngleOnly):  # the space is set, the observation is still the stub's
    def observation(self, observation):
        raise NotImplementedError("entry 2 of the observation")


class _Mine(sol.AngleOnly):  # a reader's right answer (defined here, so that check_env can rebuild it)
    pass


def test_check_angle_only(check_contract):
    check_contract(checks.check_angle_only, sol.AngleOnly, stub=_Stub, mine=_Mine,
                   wrong={"shape": _NoSpace, "true pole angle": _WrongIndex, "bounds": _WrongBounds})


def test_check_angle_only_counts_a_half_written_wrapper_as_the_stub(capsys):
    assert checks.check_angle_only(_HalfDone) is sol.AngleOnly
    assert "still the stub" in capsys.readouterr().out


def test_check_velocity_from_positions(check_contract):
    check_contract(checks.check_velocity_from_positions, sol.velocity_from_positions, {
        "divide by tau": lambda a, b: np.asarray(b) - np.asarray(a),
        "sign": lambda a, b: (np.asarray(a, float) - np.asarray(b, float)) / 0.02,
    })


def test_check_angle_from_velocities(check_contract):
    check_contract(checks.check_angle_from_velocities, sol.angle_from_velocities, {
        "off by one": lambda v, a0: a0 + 0.02 * np.cumsum(v),
        "initial angle": lambda v, a0: 0.02 * np.concatenate([[0.0], np.cumsum(v)[:-1]]),
    })


def test_solutions_agree_with_cartpole_physics():
    obs, states = checks.true_episode("CartPole-P", seed=4)
    assert np.allclose(sol.velocity_from_positions(obs[:-1], obs[1:]), states[:-1][:, [1, 3]], atol=1e-4)
    obs, states = checks.true_episode("CartPole-V", seed=4)
    assert np.allclose(sol.angle_from_velocities(obs[:, 1], states[0, 2]), states[:, 2], atol=1e-4)
    tau = gym.make("CartPole-v1").unwrapped.tau
    for fn in (sol.velocity_from_positions, sol.angle_from_velocities):  # their default time step is CartPole's
        assert inspect.signature(fn).parameters["tau"].default == tau



# -- figures -----------------------------------------------------------------------------------------------------
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
    assert_labelled(fig)
    assert len(fig.axes) == 2
    # one legend below both panels, none on a panel, where it could cover data
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "GRSN (TAP) (3 seeds)" in labels and "MLP (no memory) (3 seeds)" in labels
    # the spread is bars, not shaded bands that blend into each other
    assert not [c for ax in fig.axes for c in ax.collections
                if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    greedy = fig.axes[1]
    bars = {}  # x of each bar -> its (low, high)
    for collection in greedy.collections:
        for segment in collection.get_segments():
            if len(segment) == 2 and segment[0][0] == segment[1][0]:  # a vertical bar
                bars[round(float(segment[0][0]))] = tuple(sorted((float(segment[0][1]), float(segment[1][1]))))
    spread = rl.seed_spread(evals, "eval_return_mean")
    for agent in ("grsn", "mlp"):
        rows = spread[spread.agent == agent]
        line = next(ln for ln in greedy.lines if ln.get_label().startswith(rl.agent_label(agent)))
        assert line.get_ydata().tolist() == rows["median"].tolist()
        for x, low, high in zip(line.get_xdata(), rows["min"], rows["max"]):
            assert bars[round(float(x))] == pytest.approx((low, high))  # each point has its min-max bar
    # the agents' points at one step sit side by side, near the step
    xs = [ln.get_xdata()[0] for ln in greedy.lines if "seeds" in ln.get_label()]
    assert len(xs) == 2
    assert xs[0] != xs[1] and all(abs(x - 10240) < 0.5 * (20224 - 10240) for x in xs)
    training = fig.axes[0]
    assert sum(len(c.get_segments()) for c in training.collections) > 0  # bars on the training panel too
    assert len(rl.plot_learning_curves(evals, None, "CartPole-V").axes) == 1
    with pytest.raises(ValueError, match="no curves"):
        rl.plot_learning_curves(evals, None, "CartPole-P")


def test_episode_figures_and_animation():
    torch.manual_seed(0)
    agent = RecurrentActorCritic(2, 2, core="grsn", hidden_size=8, readout="both")
    ep = record_episode(agent, "CartPole-V", seed=2, render=3, max_steps=12)
    fig = rl.plot_episode_internals(ep, start=2, stop=10, raster_units=6, trace_units=2)
    assert_labelled(fig)
    assert len(fig.axes) == 6 and "not observed" in fig.axes[0].get_legend().get_texts()[0].get_text()
    notap = RecurrentActorCritic(2, 2, core="lif", hidden_size=8, substeps=2)
    assert len(rl.plot_episode_internals(record_episode(notap, "CartPole-P", seed=2, max_steps=12)).axes) == 4
    with pytest.raises(ValueError, match="spiking"):
        rl.plot_episode_internals(record_episode(RecurrentActorCritic(2, 2, "gru", 8), "CartPole-V", max_steps=5))
    assert_labelled(rl.plot_frame_strip(ep, n=3))
    anim = rl.episode_animation(ep)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == len(ep.frames)
    assert_labelled(rl.plot_state_reconstruction(ep.steps, ep.steps["pole_velocity"], ep.steps["pole_angle"]))
