"""The chapter on teams of spiking agents: recording a team episode, the figures of the teams and their learning,
and the exercise checks (pass on the solutions, fail with a hint on wrong answers)."""

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from grsn_edu.course.checks import spiking_teams as checks
from grsn_edu.course.plots import marl as plots
from grsn_edu.course.recordings import record_team_episode
from grsn_edu.course.solutions import spiking_teams as sol
from grsn_edu.envs.spread import make_marl_env
from grsn_edu.rl.team import AgentNetwork, run_episode

torch.set_num_threads(1)


# -- recording a team episode --------------------------------------------------------------------------------------
def test_record_team_episode_matches_run_episode_and_records_spikes():
    torch.manual_seed(0)
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="grsn", hidden_size=8, readout="both")
    ep = record_team_episode(net, "spread_memory", seed=3, render=5)
    env = make_marl_env("spread_memory")
    ref = run_episode(env, net, env.possible_agents, 0.0, 3, np.random.default_rng(0), 25)
    assert ep.length == 25 and ep.actions.shape == (25, 3) and ep.rewards.shape == (25, 3)
    np.testing.assert_array_equal(ep.actions, ref["actions"].numpy())
    assert ep.team_return == pytest.approx(ref["return"], abs=1e-3)
    assert ep.spikes.shape == (25, 3, 8) and set(np.unique(ep.spikes)) <= {0.0, 1.0}
    np.testing.assert_allclose(ep.spikes_per_decision(), ep.spikes.sum((0, 2)) / 25)
    np.testing.assert_allclose(ep.firing_rate(), ep.spikes_per_decision() / 8)
    assert ep.frames.shape[0] == len(ep.frame_steps) and list(ep.frame_steps) == [0, 5, 10, 15, 20, 25]
    assert ep.agent_pos.shape == (26, 3, 2) and ep.landmark_pos.shape == (3, 2)
    # the positions are the true ones: agent 0's own position is entries 2:4 of its first observation
    first, _ = make_marl_env("spread_memory").reset(seed=3)
    np.testing.assert_allclose(ep.agent_pos[0, 0], first["agent_0"][2:4], atol=1e-6)
    np.testing.assert_allclose(ep.landmark_pos[0], first["agent_0"][2:4] + first["agent_0"][4:6], atol=1e-5)


def test_record_team_episode_non_spiking_and_bad_inputs():
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="gru", hidden_size=4)
    ep = record_team_episode(net, "simple_spread", seed=0)
    assert ep.spikes is None and ep.frames is None and np.isnan(ep.spikes_per_decision()).all()
    with pytest.raises(ValueError, match="known tasks"):
        record_team_episode(net, "simple_tag")
    with pytest.raises(ValueError, match="load an agent trained on this task"):
        record_team_episode(AgentNetwork(10, 3, 5, "gru", 4), "simple_spread")
    with pytest.raises(ValueError, match="render"):
        record_team_episode(net, "simple_spread", render=-1)


# -- figures -----------------------------------------------------------------------------------------------------
def _curves():
    rows = []
    for agent in ("gru", "grsn"):
        for seed in (0, 1):
            for ep in (200, 400):
                rows.append({"env": "spread_memory", "agent": agent, "algo": "mappo", "seed": seed, "episode": ep,
                             "env_steps": 25 * ep, "eval_return_mean": -100.0 + ep / 10 + seed})
    return pd.DataFrame(rows)


def _baselines(**values):
    return pd.DataFrame([{"env": "spread_memory", "agent": a, "algo": "none", "seed": 0, "final_eval_return": r}
                         for a, r in values.items()])


def test_plot_marl_curves():
    summary = _baselines(random=-81.0, formation=-66.7, memoryless=-65.8, memory=-23.4, scripted=-23.0)
    fig = plots.plot_marl_curves(_curves(), summary, "spread_memory", references={"my policy": -30.0})
    assert isinstance(fig, Figure) and fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
    assert "MAPPO" in fig.axes[0].get_title() and fig.legends  # one legend for the figure, below the panels
    handles, labels = fig.axes[0].get_legend_handles_labels()
    assert f"seeds: GRU 2, {plots.agent_label('grsn')} 2" in fig.axes[0].get_title()
    assert any("random" in lab for lab in labels)
    assert any("full-state controller" in lab for lab in labels) and any("my policy" in lab for lab in labels)
    assert "landmark-blind formation (-66.7)" in labels
    assert "own-observation team, no memory (-65.8)" in labels and "own-observation team, memory (-23.4)" in labels
    # every horizontal line (five baselines, one reference) looks different from the others
    agents = {plots.agent_label(a) for a in ("gru", "grsn")}
    lines = [h for h, lab in zip(handles, labels) if lab not in agents]
    assert len(lines) == 6
    assert len({(h.get_color(), str(h.get_linestyle())) for h in lines}) == 6
    # baselines that score the same are one line with both names; a chosen subset draws only those
    tied = plots.plot_marl_curves(_curves(), _baselines(memory=-23.0, scripted=-23.01, random=-81.0), "spread_memory")
    tied_labels = [lab for lab in tied.axes[0].get_legend_handles_labels()[1] if lab not in agents]
    assert tied_labels == ["random actions (-81.0)", "own-observation team, memory = full-state controller (-23.0)"]
    some = plots.plot_marl_curves(_curves(), summary, "spread_memory", baselines=["formation"])
    assert [lab for lab in some.axes[0].get_legend_handles_labels()[1] if lab not in agents] == \
        ["landmark-blind formation (-66.7)"]
    two = plots.plot_marl_curves(pd.concat([_curves(), _curves().assign(algo="qmix")]), None, "spread_memory")
    assert [ax.get_title().split(":")[0] for ax in two.axes] == ["MAPPO (centralised critic)", "QMIX (monotonic mixer)"]
    # panels with different seed counts: one legend entry per agent, the counts in each panel's title
    one_seed = _curves().query("seed == 0").assign(algo="qmix")
    mixed = plots.plot_marl_curves(pd.concat([_curves(), one_seed]), None, "spread_memory")
    assert [t.get_text() for t in mixed.legends[0].get_texts()] == [plots.agent_label(a) for a in ("gru", "grsn")]
    assert "GRU 1" in mixed.axes[1].get_title() and "GRU 2" in mixed.axes[0].get_title()
    # a run that collapsed cuts its band at the axis instead of stretching it, and the panel says how low it went
    collapsed = _curves()
    collapsed.loc[(collapsed["agent"] == "gru") & (collapsed["seed"] == 1), "eval_return_mean"] = -400.0
    cut = plots.plot_marl_curves(collapsed, summary, "spread_memory")
    assert cut.axes[0].get_ylim()[0] > -120
    assert any("lowest run: -400.0" in t.get_text() for t in cut.axes[0].texts)
    # three algorithms: two panels a row (readable at a page's width), the legend in the fourth place, off the data
    three = plots.plot_marl_curves(pd.concat([_curves(), _curves().assign(algo="qmix"), _curves().assign(algo="vdn")]),
                                   summary, "spread_memory")
    assert three.get_size_inches()[0] <= 12 and len(three.axes) == 4 and not three.legends
    assert not three.axes[3].axison and three.axes[3].get_legend() is not None
    assert three.axes[2].get_ylabel() and not three.axes[1].get_ylabel()
    with pytest.raises(ValueError, match="no evaluation curves"):
        plots.plot_marl_curves(_curves(), None, "simple_spread")
    with pytest.raises(ValueError, match="x must be one of"):
        plots.plot_marl_curves(_curves(), None, "spread_memory", x="time")
    with pytest.raises(ValueError, match="eval_return_mean"):
        plots.plot_marl_curves(_curves().drop(columns="eval_return_mean"), None, "spread_memory")
    with pytest.raises(ValueError, match="'algo'"):
        plots.plot_marl_curves(_curves().rename(columns={"algo": "mixer"}), None, "spread_memory")
    with pytest.raises(ValueError, match="none of the algorithms"):
        plots.plot_marl_curves(_curves(), None, "spread_memory", algos=["vdn"])
    with pytest.raises(ValueError, match="summary needs"):
        plots.plot_marl_curves(_curves(), summary.drop(columns="algo"), "spread_memory")


def _recipe_curves():
    rows = []
    for variant, slope in (("reference", -0.05), ("readout=spikes", 0.01), ("lr=2e-4", -0.04)):
        for ep in (200, 400, 600):
            rows.append({"variant": variant, "env": "simple_spread", "agent": "grsn", "mixer": "qmix", "seed": 0,
                         "episode": ep, "env_steps": 25 * ep, "eval_return_mean": -90.0 + slope * ep})
    rows.append({**rows[-1], "variant": "reference", "env": "spread_memory", "agent": "gru"})
    return pd.DataFrame(rows)


def _panel_curves(ax):
    """The final value of every curve drawn in a panel (baselines are flat lines across it, and are left out)."""
    return sorted(round(float(line.get_ydata()[-1]), 1) for line in ax.get_lines() if len(line.get_xdata()) > 2)


def test_plot_recipe_curves():
    curves = _recipe_curves()
    fig = plots.plot_recipe_curves(curves, "simple_spread", "grsn", baselines={"random actions": -81.6})
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert isinstance(fig, Figure) and len(shown) == 2  # one panel per variant that changed a setting
    assert _panel_curves(shown[0]) == [-120.0, -84.0]  # the reference and readout=spikes, at their last episode
    assert _panel_curves(shown[1]) == [-120.0, -114.0]  # the reference and lr=2e-4
    assert all(any(np.allclose(line.get_ydata(), -81.6) for line in ax.get_lines()) for ax in shown)  # the baseline
    assert fig.get_supylabel() and shown[-1].get_xlabel()
    picked = plots.plot_recipe_curves(curves, "simple_spread", "grsn", variants=["lr=2e-4"])
    assert [_panel_curves(ax) for ax in picked.axes if ax.get_visible()] == [[-120.0, -114.0]]
    alone = plots.plot_recipe_curves(curves, "spread_memory", "gru")  # only the reference: one panel, one curve
    assert [len(ax.get_lines()) for ax in alone.axes if ax.get_visible()] == [1]
    with pytest.raises(ValueError, match="no curves for"):
        plots.plot_recipe_curves(curves, "spread_memory", "grsn")
    with pytest.raises(ValueError, match="no 'reference' curve"):
        plots.plot_recipe_curves(curves[curves["variant"] != "reference"], "simple_spread", "grsn")
    with pytest.raises(ValueError, match=r"variants \['gamma=0.95'\]"):
        plots.plot_recipe_curves(curves, "simple_spread", "grsn", variants=["gamma=0.95"])
    with pytest.raises(ValueError, match="variant"):
        plots.plot_recipe_curves(curves.drop(columns="variant"), "simple_spread", "grsn")


def test_episode_figures():
    torch.manual_seed(0)
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="lif", hidden_size=6)
    ep = record_team_episode(net, "simple_spread", seed=1, render=12)
    assert isinstance(plots.plot_team_frames(ep, n=3), Figure)
    anim = plots.team_episode_animation(ep)
    assert isinstance(anim, FuncAnimation)
    anim.to_jshtml()  # renders every frame
    assert isinstance(plots.plot_team_trajectories(ep), Figure)
    fig = plots.plot_team_spikes(ep, agent=1)
    assert all(ax.get_xlabel() or ax.get_ylabel() for ax in fig.axes)
    with pytest.raises(ValueError, match="agent must be in"):
        plots.plot_team_spikes(ep, agent=3)
    quiet = record_team_episode(AgentNetwork(18, 3, 5, "gru", 4), "simple_spread")
    with pytest.raises(ValueError, match="no frames"):
        plots.plot_team_frames(quiet)
    with pytest.raises(ValueError, match="no spikes"):
        plots.plot_team_spikes(quiet)


def test_plot_task_view():
    frame = np.zeros((40, 40, 3), dtype=np.uint8)
    fig = plots.plot_task_view(frame, {"step 0": np.arange(18.0), "step 1": np.zeros(18)})
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="18 numbers"):
        plots.plot_task_view(frame, {"bad": np.zeros(5)})

# -- exercise check ------------------------------------------------------------------------------------------------
def test_solution_by_hand():
    spk = np.zeros((4, 2, 3))
    spk[:, 0, 0] = 1  # agent 0: one spike per update
    spk[0, 1, :] = 1  # agent 1: three spikes once
    np.testing.assert_allclose(sol.spikes_per_decision(spk, 2), [2.0, 1.5])  # 2 decisions of 2 sub-steps


def test_check_spikes_per_decision(check_contract):
    check_contract(checks.check_spikes_per_decision, sol.spikes_per_decision, {
        "firing rate": lambda spk, T: np.asarray(spk).mean(axis=(0, 2)) * len(spk) / T,
        "not by the T \\* S": lambda spk, T: np.asarray(spk).sum(axis=(0, 2)) / len(spk),
        "one number per agent": lambda spk, T: np.asarray(spk).sum() / T,
    })


def test_assign_landmarks_solution_by_hand():
    agents = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    landmarks = np.array([[2.1, 0.0], [0.1, 0.0], [1.1, 0.0]])
    np.testing.assert_array_equal(sol.assign_landmarks(agents, landmarks), [1, 2, 0])
    # each agent's nearest landmark is landmark 0 for agents 0 and 1; the least total swaps agent 0 to 1
    agents = np.array([[0.0, 0.0], [0.5, 0.0], [5.0, 5.0]])
    landmarks = np.array([[0.2, 0.0], [-0.6, 0.0], [5.0, 4.0]])
    np.testing.assert_array_equal(sol.assign_landmarks(agents, landmarks), [1, 0, 2])


def _greedy_assignment(agents, landmarks):
    distance = np.linalg.norm(agents[:, None] - landmarks[None], axis=-1)
    taken = []
    for i in range(len(agents)):
        taken.append(next(int(j) for j in np.argsort(distance[i]) if j not in taken))
    return np.array(taken)


def test_check_assign_landmarks(check_contract):
    check_contract(checks.check_assign_landmarks, sol.assign_landmarks, {
        "two agents": lambda a, lm: np.linalg.norm(a[:, None] - lm[None], axis=-1).argmin(1),
        "one agent at a": _greedy_assignment,
        "inverse permutation": lambda a, lm: np.argsort(sol.assign_landmarks(a, lm)),
        "one per agent": lambda a, lm: sol.assign_landmarks(a, lm)[:2],
    })


def test_example_worlds_are_the_tasks_starting_worlds():
    agents, landmarks = checks.example_worlds(4)
    env = make_marl_env("simple_spread")
    first, _ = env.reset(seed=2)
    np.testing.assert_allclose(agents[2], np.stack([first[a][2:4] for a in env.possible_agents]), atol=1e-6)
    np.testing.assert_allclose(landmarks[2, 1], first["agent_1"][2:4] + first["agent_1"][6:8], atol=1e-5)


def test_example_team_spikes_fire():
    ep = checks.example_team_spikes(substeps=1)
    assert ep.spikes.sum() > 0 and ep.spikes.shape == (25, 3, 32)


def test_the_assignments_stored_in_the_check_are_the_solutions():
    agents, landmarks = checks.example_worlds()
    stored = checks._LEAST_DISTANCE_ASSIGNMENTS.split()
    assert len(stored) == len(agents)
    for b, (a, lm) in enumerate(zip(agents, landmarks)):
        assert [int(i) for i in stored[b]] == sol.assign_landmarks(a, lm).tolist(), f"world {b}"
