"""Any Gymnasium task as the trainer takes it: flattened observations, the previous action, POPGym's ids, and a
short training run on a task with discrete observations."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from grsn_edu.course.recordings import record_episode
from grsn_edu.envs.gym_tasks import PreviousAction, flat_observation_space, make_env, make_vector_env
from grsn_edu.experiments import cli
from grsn_edu.rl.agent_energy import ppo_agent_energy
from grsn_edu.rl.ppo import PPOConfig, agent_for_task, check_env_for_ppo, evaluate, load_agent, train

#: POPGym tasks with each kind of observation space the trainer must read: (id, raw space, flat size)
POPGYM_SPACES = [
    ("popgym-RepeatPreviousEasy-v0", gym.spaces.Discrete, 4),       # a card's suit
    ("popgym-CountRecallEasy-v0", gym.spaces.MultiDiscrete, 4),     # two values of two each
    ("popgym-AutoencodeEasy-v0", gym.spaces.Tuple, 6),              # (a flag of 2, a suit of 4)
    ("popgym-PositionOnlyCartPoleEasy-v0", gym.spaces.Box, 2),      # already real
]


def _check(env):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version.*")
        warnings.filterwarnings("ignore", message=".*Box observation space (minimum|maximum) value is.*")
        check_env(env, skip_render_check=True)


@pytest.mark.parametrize("env_id, raw_space, size", POPGYM_SPACES)
def test_popgym_tasks_are_made_without_render_mode_and_read_as_flat_float_vectors(env_id, raw_space, size):
    env = make_env(env_id)
    assert isinstance(env.unwrapped.observation_space, raw_space)
    assert env.observation_space == gym.spaces.Box(env.observation_space.low, env.observation_space.high,
                                                   (size,), np.float32)
    _check(env)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (size,) and env.observation_space.contains(obs)


def test_a_discrete_observation_is_the_one_hot_of_the_value_the_task_returned():
    env = make_env("popgym-RepeatPreviousEasy-v0")
    raw = env.unwrapped
    obs, _ = env.reset(seed=3)
    for _ in range(5):
        card = raw.deck.show("player", ["suits_idx"])[0, -1]  # the suit just dealt, as the task encodes it
        assert obs.tolist() == np.eye(4, dtype=np.float32)[card].tolist()
        obs, *_ = env.step(0)


def test_previous_action_is_zero_at_the_start_then_the_one_hot_of_the_last_action():
    env = make_env("popgym-CountRecallEasy-v0", previous_action=True)
    n = env.action_space.n
    assert env.observation_space.shape == (4 + n,)
    _check(env)
    obs, _ = env.reset(seed=0)
    assert not obs[4:].any()
    for action in (5, 0, n - 1):
        obs, *_ = env.step(action)
        assert obs[4:].tolist() == np.eye(n, dtype=np.float32)[action].tolist()
    obs, _ = env.reset(seed=1)
    assert not obs[4:].any()


def test_previous_action_refuses_what_it_cannot_encode():
    with pytest.raises(ValueError, match="one discrete action space"):
        PreviousAction(gym.make("Pendulum-v1"))
    with pytest.raises(ValueError, match="flatten them first"):
        PreviousAction(gym.make("popgym-RepeatPreviousEasy-v0"))


def test_unknown_ids_say_what_works_and_suggest_the_spelling_that_exists():
    with pytest.raises(ValueError, match="did you mean 'popgym-VelocityOnlyCartpoleEasy-v0'"):
        make_env("popgym-VelocityOnlyCartPoleEasy-v0")
    with pytest.raises(ValueError, match="POPGym's ids"):
        make_env("CartPole-Q")


def test_spaces_that_cannot_be_flattened_to_a_fixed_size_are_refused_with_the_spaces_that_can():
    with pytest.raises(ValueError, match="fixed-size vector"):
        flat_observation_space(gym.spaces.Sequence(gym.spaces.Discrete(3)))


def test_the_trainer_refuses_continuous_actions_and_says_what_to_do():
    with pytest.raises(ValueError, match="one discrete action space.*discretised by a wrapper"):
        check_env_for_ppo("popgym-PositionOnlyPendulumEasy-v0")


def test_previous_action_needs_the_sync_backend():
    with pytest.raises(ValueError, match="backend='sync'"):
        make_vector_env("CartPole-P", 2, seed=0, backend="numpy", previous_action=True)
    envs = make_vector_env("CartPole-P", 2, seed=0, backend="auto", previous_action=True)
    assert envs.single_observation_space.shape == (4,)
    envs.close()


def test_a_gru_agent_trains_on_a_popgym_task_with_the_previous_action_and_reloads_as_it_was_trained(tmp_path):
    cfg = PPOConfig(env_id="popgym-RepeatPreviousEasy-v0", agent="gru", hidden_size=8, num_envs=4, num_steps=16,
                    num_minibatches=2, update_epochs=1, total_steps=128, eval_interval=128, eval_episodes=2,
                    previous_action=True)
    summary = train(cfg, tmp_path, progress=False)
    # POPGym's returns lie in [-1, 1]
    assert -1.0 <= summary["final_eval_return"] <= 1.0
    assert json.loads((tmp_path / "config.json").read_text())["previous_action"] is True
    agent, loaded = load_agent(tmp_path / "checkpoint.pt")
    assert loaded.previous_action and agent.core.input_size == 4 + 4
    returns, _ = evaluate(agent, loaded.env_id, episodes=2, seed=10_000 + loaded.seed,
                          previous_action=loaded.previous_action)
    # the run's last evaluation, replayed with the same seeds on the reloaded agent
    assert returns.mean() == pytest.approx(summary["final_eval_return"], abs=1e-9)
    # energy and recordings play the task as the agent was trained, and refuse it otherwise with what to pass
    energy = ppo_agent_energy(agent, loaded.env_id, episodes=2, seed=10_000 + loaded.seed, previous_action=True)
    assert energy.returns.mean() == pytest.approx(summary["final_eval_return"], abs=1e-9)
    with pytest.raises(ValueError, match="previous_action as its config has it"):
        ppo_agent_energy(agent, loaded.env_id, episodes=2)


def test_a_cartpole_recording_plays_the_task_as_the_agent_was_trained():
    agent = agent_for_task(PPOConfig(env_id="CartPole-P", agent="gru", hidden_size=8, previous_action=True))
    episode = record_episode(agent, "CartPole-P", previous_action=True, max_steps=5)
    assert len(episode.steps) == 5
    with pytest.raises(ValueError, match="previous_action as its config has it"):
        record_episode(agent, "CartPole-P", max_steps=5)


def test_the_command_line_sets_the_sequence_length_and_the_previous_action():
    args = cli.build_parser().parse_args(["train", "--env", "popgym-RepeatFirstEasy-v0", "--num-steps", "64",
                                          "--previous-action"])
    cfg = cli.train_config(args)
    assert (cfg.env_id, cfg.num_steps, cfg.previous_action) == ("popgym-RepeatFirstEasy-v0", 64, True)
    assert cli.train_config(cli.build_parser().parse_args(["train"])).previous_action is False
