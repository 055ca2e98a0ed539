"""Cooperative multi-agent RL: the memory task, the mixers, QMIX/VDN on tiny budgets, the command line."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from pettingzoo.test import parallel_api_test

import grsn_edu.rl.qmix as qmix
from grsn_edu.envs.spread import MARL_IDS, MAX_CYCLES, SpreadMemoryEnv, make_marl_env
from grsn_edu.experiments.cli import main
from grsn_edu.experiments.grids import read_finished_marl_run
from grsn_edu.rl.mixers import QMixer, VDNMixer
from grsn_edu.rl.qmix import (
    MARL_EVAL_COLUMNS,
    MARL_TRAIN_COLUMNS,
    AgentNetwork,
    MARLConfig,
    env_sizes,
    evaluate_marl,
    load_marl_agent,
    train_marl,
)
from grsn_edu.util.files import load_checkpoint

TINY = dict(episodes=12, batch_size=4, buffer_episodes=20, eval_interval=6, eval_episodes=2, hidden_size=8,
            epsilon_anneal_episodes=10, target_update_interval=5)


@pytest.mark.parametrize("env_id", ["simple_spread", "spread_memory"])
def test_tasks_pass_the_parallel_api_test(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the api test warns about optional attributes mpe2 does not define
        parallel_api_test(make_marl_env(env_id), num_cycles=60)


def test_spread_memory_hides_landmarks_after_the_first_step_only():
    mem, full = SpreadMemoryEnv(N=3), make_marl_env("simple_spread")
    o_mem, _ = mem.reset(seed=4)
    o_full, _ = full.reset(seed=4)
    for a in mem.agents:
        np.testing.assert_array_equal(o_mem[a], o_full[a])  # step 0: everything visible
    actions = {a: 3 for a in mem.agents}
    o_mem, r_mem, *_ = mem.step(actions)
    o_full, r_full, *_ = full.step(actions)
    for a in mem.agents:
        assert not o_mem[a][4:10].any() and o_full[a][4:10].any()  # landmarks hidden
        np.testing.assert_array_equal(np.delete(o_mem[a], range(4, 10)), np.delete(o_full[a], range(4, 10)))
        assert r_mem[a] == r_full[a]  # same world, same reward
    np.testing.assert_array_equal(mem.state(), full.state())  # the mixer sees the full state
    with pytest.raises(ValueError, match="known tasks: simple_spread, spread_memory"):
        make_marl_env("simple_tag")


def test_qmix_is_monotonic_and_vdn_sums():
    torch.manual_seed(0)
    mixer = QMixer(n_agents=3, state_size=6)
    q = torch.randn(50, 3, requires_grad=True)
    grad = torch.autograd.grad(mixer(q, torch.randn(50, 6)).sum(), q)[0]
    assert (grad >= 0).all()
    assert torch.equal(VDNMixer()(q, None), q.sum(-1))


def test_agent_network_inputs_carry_id_and_previous_action():
    net = AgentNetwork(obs_size=2, n_agents=3, n_actions=4, core="gru", hidden_size=5)
    obs = torch.zeros(2, 1, 3, 2)
    prev = torch.tensor([[[-1, -1, -1]], [[0, 3, 1]]])
    x = net.build_inputs(obs, prev).view(2, 3, 2 + 3 + 4)
    assert torch.equal(x[0, :, 2:5], torch.eye(3)) and not x[0, :, 5:].any()  # no previous action at t=0
    assert x[1, 1, 5:].tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("core,mixer", [("grsn", "qmix"), ("gru", "vdn"), ("mlp", "qmix")])
def test_train_marl_tiny(tmp_path, core, mixer):
    cfg = MARLConfig(env_id="spread_memory", core=core, mixer=mixer, **TINY)
    summary = train_marl(cfg, tmp_path, progress=False)
    tr, ev = pd.read_csv(tmp_path / "train_curve.csv"), pd.read_csv(tmp_path / "eval_curve.csv")
    assert list(tr.columns) == MARL_TRAIN_COLUMNS and list(ev.columns) == MARL_EVAL_COLUMNS
    assert tr["episode"].tolist() == list(range(1, 13)) and (tr["env_steps"] == 25 * tr["episode"]).all()
    assert tr["loss"].iloc[:3].isna().all() and tr["loss"].iloc[4:].notna().all()  # learning starts at batch_size
    assert ev["episode"].tolist() == [6, 12]
    assert tr["epsilon"].iloc[0] == 1.0 and tr["epsilon"].iloc[-1] == pytest.approx(0.05)  # annealed over 10
    if core == "grsn":
        assert 0 <= ev["firing_rate"].iloc[-1] <= 1 and ev["spikes_per_decision"].iloc[-1] >= 0
    net, loaded = load_marl_agent(tmp_path / "checkpoint.pt")
    assert loaded.core == core and not net.training
    # the last evaluation is that of the saved network, on the episodes reset with seeds 10_000 + seed + k
    env = make_marl_env("spread_memory")
    returns, _, spikes = evaluate_marl(env, net, env_sizes(env)[0], cfg.eval_episodes, 10_000 + cfg.seed, MAX_CYCLES)
    assert ev["eval_return_mean"].iloc[-1] == returns.mean() and ev["eval_return_std"].iloc[-1] == returns.std()
    assert ev["spikes_per_decision"].iloc[-1] == spikes or np.isnan(spikes)
    assert summary["final_eval_return"] == ev["eval_return_mean"].iloc[-1]


def test_same_seed_same_marl_curve(tmp_path):
    cfg = MARLConfig(env_id="simple_spread", core="lif", mixer="vdn", **TINY)
    train_marl(cfg, tmp_path / "a", progress=False)
    train_marl(cfg, tmp_path / "b", progress=False)
    a, b = pd.read_csv(tmp_path / "a" / "train_curve.csv"), pd.read_csv(tmp_path / "b" / "train_curve.csv")
    pd.testing.assert_frame_equal(a, b)


def test_bad_marl_configs_and_cli(tmp_path, capsys):
    with pytest.raises(ValueError, match="known mixers: qmix, vdn"):
        MARLConfig(mixer="qtran").validate()
    with pytest.raises(ValueError, match="known tasks"):
        MARLConfig(env_id="smac").validate()
    with pytest.raises(ValueError, match="episodes must be an integer >= 1, got 0"):
        MARLConfig(episodes=0).validate()
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 3.5"):
        MARLConfig(batch_size=3.5).validate()
    with pytest.raises(SystemExit):
        main(["train-marl", "--mixer", "qtran"])
    with pytest.raises(SystemExit, match="unknown multi-agent task"):
        main(["train-marl", "--env", "smac", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="--resume needs --out"):
        main(["train-marl", "--resume"])
    run = tmp_path / "cli"
    assert main(["train-marl", "--env", "simple_spread", "--core", "mlp", "--mixer", "vdn", "--episodes", "2",
                 "--hidden", "8", "--out", str(run), "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["run"] == str(run)


def test_reproduce_marl_tiny_grid(tmp_path, monkeypatch):
    import grsn_edu.experiments.grids as rep

    monkeypatch.setattr(rep, "random_team_returns", lambda env_id: np.array([-100.0, -120.0]))
    monkeypatch.setattr(rep, "scripted_team_returns", lambda env_id: np.array([-20.0]))
    monkeypatch.setattr(rep, "formation_team_returns", lambda env_id: np.array([-60.0]))
    small = {k: v for k, v in TINY.items() if k != "episodes"}
    rep.reproduce_marl(["spread_memory"], ["mlp"], ["vdn"], [0], 6, tmp_path / "runs", tmp_path / "data", small)
    assert json.loads((tmp_path / "runs" / "spread_memory-mlp-vdn-s0" / "config.json").read_text())["batch_size"] == 4
    summary = pd.read_csv(tmp_path / "data" / "summary.csv")
    assert list(summary.columns) == rep.MARL_SUMMARY_COLUMNS
    assert sorted(summary["agent"]) == ["formation", "mlp", "random", "scripted"]
    assert summary.loc[summary.agent == "random", "final_eval_return"].item() == -110.0
    assert summary.loc[summary.agent == "scripted", "final_eval_return"].item() == -20.0
    assert (tmp_path / "data" / "agents" / "spread_memory-mlp-vdn.pt").is_file()
    with pytest.raises(SystemExit, match="unknown agent 'lstm'"):
        main(["reproduce", "marl", "--agents", "lstm", "--runs-dir", str(tmp_path / "r"), "--data-dir",
              str(tmp_path / "d")])


@pytest.mark.parametrize("env_id", MARL_IDS)
def test_scripted_controller_is_far_above_random(env_id):
    from grsn_edu.experiments.grids import formation_team_returns, random_team_returns, scripted_team_returns

    scripted, rand = scripted_team_returns(env_id, episodes=10), random_team_returns(env_id, episodes=10)
    formation = formation_team_returns(env_id, episodes=10)
    assert scripted.shape == rand.shape == formation.shape == (10,)
    # measured over 100 episodes: scripted about -23, landmark-blind formation about -67, random about -82
    assert scripted.mean() > formation.mean() + 20 and formation.mean() > rand.mean()


def test_spread_controller_covers_every_landmark():
    from grsn_edu.envs.spread import spread_controller_actions, spread_world

    env = make_marl_env("spread_memory")
    env.reset(seed=3)
    while env.agents:
        env.step(spread_controller_actions(env))
    world = spread_world(env)
    pos = np.array([a.state.p_pos for a in world.agents])
    for landmark in world.landmarks:
        assert np.linalg.norm(pos - landmark.state.p_pos, axis=1).min() < 0.2
    with pytest.raises(TypeError, match="make_marl_env"):
        spread_world(gym.make("CartPole-v1"))


def test_obs_clip_bounds_what_the_agents_and_the_mixer_see(tmp_path):
    net = AgentNetwork(obs_size=2, n_agents=3, n_actions=4, core="gru", hidden_size=5, obs_clip=3.0)
    obs = torch.tensor([100.0, -0.5]).expand(1, 1, 3, 2)
    inputs = net.build_inputs(obs, torch.full((1, 1, 3), -1))
    assert inputs[..., :2].tolist() == [[[3.0, -0.5]] * 3]
    with pytest.raises(ValueError, match="obs_clip"):
        MARLConfig(obs_clip=0.0).validate()
    cfg = MARLConfig(env_id="simple_spread", core="mlp", mixer="qmix", obs_clip=3.0, **TINY)
    train_marl(cfg, tmp_path, progress=False)
    loaded, loaded_cfg = load_marl_agent(tmp_path / "checkpoint.pt")
    assert loaded.obs_clip == 3.0 and loaded_cfg.obs_clip == 3.0


def test_resume_after_a_crash_gives_a_finished_run(tmp_path, monkeypatch, capsys):
    cfg = MARLConfig(env_id="simple_spread", core="gru", mixer="qmix", **TINY)
    real, calls = qmix.evaluate_marl, []

    def crashing_evaluate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(qmix, "evaluate_marl", crashing_evaluate)
    with pytest.raises(KeyboardInterrupt):
        train_marl(cfg, tmp_path, progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["episode"] == 6 and read_finished_marl_run(tmp_path) is None
    monkeypatch.setattr(qmix, "evaluate_marl", real)
    with pytest.raises(ValueError, match="settings differ"):
        train_marl(MARLConfig(env_id="simple_spread", core="gru", mixer="vdn", **TINY), tmp_path, resume=True,
                   progress=False)
    # through the command line, as a user would continue it
    assert main(["train-marl", "--out", str(tmp_path), "--resume", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["run"] == str(tmp_path)
    finished = read_finished_marl_run(tmp_path)
    assert finished is not None
    _, ev, tr = finished
    assert ev["episode"].tolist() == [6, 12] and tr["episode"].tolist() == list(range(1, 13))
    assert (tr["env_steps"] == 25 * tr["episode"]).all()
    # the buffer is not saved: learning waits until the resumed run has stored batch_size episodes again
    assert tr["loss"].iloc[6:9].isna().all() and tr["loss"].iloc[9:].notna().all()
