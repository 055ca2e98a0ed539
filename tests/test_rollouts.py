"""grsn_edu.course.recordings: recorded episodes have the documented shapes and match the environment step by step."""

import numpy as np
import pytest
import torch

from grsn_edu.course.recordings import STATE_NAMES, aliased_pair, balancing_action, record_episode, scripted_episode
from grsn_edu.envs.gym_tasks import make_env
from grsn_edu.rl.agents import RecurrentActorCritic


def _agent(core="grsn", obs_size=2, **options):
    torch.manual_seed(0)
    return RecurrentActorCritic(obs_size, 2, core=core, hidden_size=8, **options)


@pytest.mark.parametrize("env_id,angle_col", [("CartPole-P", "obs_1"), ("CartPole-F", "obs_2")])
def test_recorded_angle_is_the_environments(env_id, angle_col):
    agent = _agent(obs_size=2 if env_id == "CartPole-P" else 4)
    episode = record_episode(agent, env_id, seed=3, max_steps=60)
    steps = episode.steps
    # the observation the agent saw at step t shows the true angle recorded at step t
    assert np.allclose(steps[angle_col], steps["pole_angle"], atol=1e-6)
    # replaying the recorded actions in a fresh environment gives the recorded states
    env = make_env(env_id)
    env.reset(seed=3)
    for _, row in steps.iterrows():
        assert np.allclose(env.unwrapped.state, row[list(STATE_NAMES)].to_numpy(dtype=float))
        env.step(int(row["action"]))
    assert episode.episode_return == len(steps) == episode.length


def test_shapes_under_tap_and_substeps():
    for substeps in (1, 3):
        agent = _agent(substeps=substeps, readout="both")
        ep = record_episode(agent, "CartPole-V", seed=0, max_steps=25)
        T, H = ep.length, 8
        assert ep.substeps == substeps and ep.threshold == 1.0
        for name in ("spk", "mem", "forget", "cur", "spk_prev"):
            assert ep.internals[name].shape == (T * substeps, H), name
        assert ep.internals["x"].shape == (T * substeps, 2)
        assert ep.per_decision("mem").shape == (T, substeps, H)
        assert set(np.unique(ep.internals["spk"])) <= {0.0, 1.0}
        assert 0.0 <= ep.firing_rate() <= 1.0
        assert ep.frames is None and ep.frame_steps is None
        assert list(ep.steps.columns) == ["t", *STATE_NAMES, "obs_0", "obs_1", "action", "p_right", "value", "reward"]
        assert ep.steps["p_right"].between(0, 1).all() and ep.steps["action"].isin([0, 1]).all()


def test_greedy_action_is_the_argmax_and_sampling_is_seeded():
    agent = _agent()
    ep = record_episode(agent, "CartPole-V", seed=1, max_steps=40)
    assert ((ep.steps["p_right"] > 0.5) == (ep.steps["action"] == 1)).all()
    a = record_episode(agent, "CartPole-V", seed=1, max_steps=40, greedy=False)
    b = record_episode(agent, "CartPole-V", seed=1, max_steps=40, greedy=False)
    assert a.steps["action"].tolist() == b.steps["action"].tolist()


def test_frames_every_k_steps():
    ep = record_episode(_agent(), "CartPole-V", seed=0, render=4, max_steps=30)
    assert ep.frames.dtype == np.uint8 and ep.frames.shape[1:] == (400, 600, 3)
    assert ep.frame_steps.tolist() == list(range(0, ep.length, 4))
    assert len(ep.frames) == len(ep.frame_steps)


def test_non_spiking_agent_and_bad_arguments():
    ep = record_episode(_agent("gru"), "CartPole-P", seed=0, max_steps=10)
    assert "spk" not in ep.internals and np.isnan(ep.threshold) and np.isnan(ep.firing_rate())
    assert ep.internals["h"].shape == (ep.length, 8)
    with pytest.raises(ValueError, match="observation features"):
        record_episode(_agent(), "CartPole-F", seed=0)
    with pytest.raises(ValueError, match="max_steps"):
        record_episode(_agent(), "CartPole-V", max_steps=0)
    with pytest.raises(ValueError, match="render"):
        record_episode(_agent(), "CartPole-V", render=-2)


def test_scripted_episodes():
    obs, states, actions = scripted_episode("CartPole-V", seed=0, policy="balance", max_steps=300)
    assert obs.shape == (300, 2) and states.shape == (300, 4) and actions.shape == (300,)
    assert np.allclose(obs, states[:, [1, 3]], atol=1e-6)  # V observes the velocities
    assert actions.tolist() == [balancing_action(s) for s in states]
    obs, states, actions = scripted_episode("CartPole-P", seed=0, policy="random")
    assert len(obs) < 100 and np.allclose(obs, states[:, [0, 2]], atol=1e-6)
    with pytest.raises(ValueError):
        scripted_episode("CartPole-P", policy="clever")


def test_aliased_pair_finds_same_observation_opposite_action():
    obs, states, actions = scripted_episode("CartPole-F", seed=0, policy="balance", max_steps=500)
    i, j = aliased_pair(states, observed=[1, 3], actions=actions)
    scale = states.std(0)
    assert np.linalg.norm((states[i, [1, 3]] - states[j, [1, 3]]) / scale[[1, 3]]) < 0.02
    assert actions[i] != actions[j]
    assert aliased_pair(states, observed=[1, 3], actions=np.zeros(len(states), int)) is None  # no action differs
    with pytest.raises(ValueError, match="nothing is hidden"):
        aliased_pair(states, observed=[0, 1, 2, 3], actions=actions)


def test_episode_as_trace_gives_the_same_operation_counts():
    from grsn_edu.snn.energy import ops_from_trace
    from grsn_edu.snn.trace import Trace

    agent = _agent(substeps=2)
    ep = record_episode(agent, "CartPole-V", seed=0, max_steps=30)
    trace = Trace()
    with torch.no_grad():  # replay the recorded (normalised) inputs through the policy core
        agent.core(torch.as_tensor(ep.internals["x"][:: ep.substeps])[:, None], trace=trace)
    direct = ops_from_trace(agent.core, trace, decisions=ep.length)
    recorded = ops_from_trace(agent.core, ep.as_trace(), decisions=ep.length)
    assert recorded.total_ac == pytest.approx(direct.total_ac) and recorded.total_mac == direct.total_mac
    assert ep.as_trace()["spk"].shape == (ep.length * 2, 1, 8)


@pytest.mark.parametrize("core,options", [("gru", {}), ("grsn", {"substeps": 2})])
def test_recorded_greedy_episode_is_the_evaluation_episode(core, options):
    """record_episode and ppo.evaluate play the same loop: with the same reset seed, the same episode."""
    from grsn_edu.rl.ppo import evaluate

    agent = _agent(core, **options)
    for seed in (0, 5, 9):
        ep = record_episode(agent, "CartPole-V", seed=seed)
        returns, _ = evaluate(agent, "CartPole-V", episodes=1, seed=seed)
        assert ep.episode_return == returns[0]
        assert ep.terminated == (ep.length < 500)


def test_max_steps_cuts_the_episode_and_it_did_not_terminate():
    ep = record_episode(_agent(), "CartPole-V", seed=0, max_steps=5, render=2)
    assert ep.length == 5 and not ep.terminated and ep.steps["t"].tolist() == [0, 1, 2, 3, 4]
    assert ep.frame_steps.tolist() == [0, 2, 4]
