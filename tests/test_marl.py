"""Cooperative multi-agent RL: the memory task, the mixers, QMIX/VDN on tiny budgets, the command line."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from pettingzoo.test import parallel_api_test

import grsn_edu.rl.team as team
from grsn_edu.envs.spread import MARL_IDS, MAX_CYCLES, SpreadMemoryEnv, make_marl_env
from grsn_edu.envs.team_envs import make_team_envs
from grsn_edu.experiments.cli import main
from grsn_edu.rl.mappo import MAPPOConfig
from grsn_edu.rl.marl import load_marl_agent, marl_config, train_team
from grsn_edu.rl.mixers import QMixer, VDNMixer
from grsn_edu.rl.qmix import MARL_EVAL_COLUMNS, MARL_TRAIN_COLUMNS, MARLConfig, train_marl
from grsn_edu.rl.team import AgentNetwork, env_sizes, evaluate_marl, evaluate_team
from grsn_edu.rl.training import finished_summary
from grsn_edu.util.files import load_checkpoint

_SHARED = dict(episodes=12, num_envs=4, eval_interval=8, eval_episodes=2, hidden_size=8)
TINY = {"qmix": dict(_SHARED, batch_size=4, buffer_episodes=20, epsilon_anneal_episodes=10, target_update_interval=4),
        "mappo": dict(_SHARED, num_minibatches=2, update_epochs=2)}
TINY["vdn"] = TINY["qmix"]


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


def test_agent_network_encoder_feeds_the_core_its_relu_features():
    torch.manual_seed(0)
    net = AgentNetwork(obs_size=2, n_agents=3, n_actions=4, core="grsn", hidden_size=5, encoder_size=7)
    assert net.core.input_size == 7 and net.encoder.in_features == 2 + 3 + 4
    x = torch.randn(3, 6, 9)
    seen = []
    net.core.register_forward_hook(lambda module, args, kwargs, out: seen.append(args[0]), with_kwargs=True)
    out, _ = net(x, net.initial_state(2))
    assert out.shape == (3, 6, 4)
    assert torch.equal(seen[0], torch.relu(net.encoder(x)))  # the same computation: bit-equal
    assert AgentNetwork(2, 3, 4, "gru", 5).encoder is None  # without encoder_size the core reads the input


def test_encoder_size_is_saved_and_a_config_without_it_has_none(tmp_path):
    cfg = marl_config("mappo", env_id="simple_spread", agent="gru", encoder_size=8, **TINY["mappo"])
    train_team(cfg, tmp_path, progress=False)
    net, loaded = load_marl_agent(tmp_path / "checkpoint.pt")
    assert loaded.encoder_size == 8 and net.encoder.out_features == 8
    assert MAPPOConfig.from_dict({"agent": "gru"}).encoder_size is None
    with pytest.raises(ValueError, match="encoder_size must be an integer >= 1"):
        MAPPOConfig(encoder_size=0).validate()
    with pytest.raises(SystemExit, match="encoder_size must be an integer >= 1"):
        main(["train-marl", "--encoder", "0", "--out", str(tmp_path / "bad")])


@pytest.mark.parametrize("core,algo", [("grsn", "qmix"), ("gru", "vdn"), ("mlp", "qmix"), ("grsn", "mappo"),
                                       ("lif", "mappo")])
def test_train_tiny(tmp_path, core, algo):
    cfg = marl_config(algo, env_id="spread_memory", agent=core, **TINY[algo])
    summary = train_team(cfg, tmp_path, progress=False)
    tr, ev = pd.read_csv(tmp_path / "train_curve.csv"), pd.read_csv(tmp_path / "eval_curve.csv")
    assert list(tr.columns) == MARL_TRAIN_COLUMNS and list(ev.columns) == MARL_EVAL_COLUMNS
    assert tr["episode"].tolist() == [4, 8, 12] and (tr["env_steps"] == 25 * tr["episode"]).all()
    if algo == "mappo":
        assert tr["loss"].notna().all() and len(pd.read_csv(tmp_path / "update_stats.csv")) == 3
    else:  # learning starts once the buffer holds batch_size (4) episodes
        assert tr["loss"].notna().all()
    assert ev["episode"].tolist() == [8, 12]
    if core in ("grsn", "lif"):
        assert 0 <= ev["firing_rate"].iloc[-1] <= 1 and ev["spikes_per_decision"].iloc[-1] >= 0
    net, loaded = load_marl_agent(tmp_path / "checkpoint.pt")
    assert loaded.core == core and loaded.algo == algo and not net.training
    # the last evaluation is that of the saved network, on episodes reset with seeds 10_000 + seed + k
    returns, _, spikes = evaluate_team(make_team_envs("spread_memory", cfg.eval_episodes), net, 10_000 + cfg.seed)
    assert ev["eval_return_mean"].iloc[-1] == pytest.approx(returns.mean(), abs=1e-4)
    assert ev["spikes_per_decision"].iloc[-1] == spikes or np.isnan(spikes)
    assert summary["final_eval_return"] == ev["eval_return_mean"].iloc[-1]


def test_batched_greedy_evaluation_is_the_one_at_a_time_evaluation():
    """The same greedy episodes played as one batch (numpy worlds) and one by one (mpe2): the same returns."""
    torch.manual_seed(1)
    net = AgentNetwork(obs_size=18, n_agents=3, n_actions=5, core="grsn", hidden_size=16, readout="spikes")
    batched, rate, spikes = evaluate_team(make_team_envs("simple_spread", 4), net, seed=50)
    env = make_marl_env("simple_spread")
    one_by_one, rate1, spikes1 = evaluate_marl(env, net, env_sizes(env)[0], 4, 50, MAX_CYCLES)
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-5)
    assert rate == pytest.approx(rate1) and spikes == pytest.approx(spikes1)


@pytest.mark.parametrize("algo", ["vdn", "mappo"])
def test_same_seed_same_marl_curve(tmp_path, algo):
    cfg = marl_config(algo, env_id="simple_spread", agent="lif", **TINY[algo])
    train_team(cfg, tmp_path / "a", progress=False)
    train_team(cfg, tmp_path / "b", progress=False)
    for name in ("train_curve.csv", "eval_curve.csv"):
        a, b = pd.read_csv(tmp_path / "a" / name), pd.read_csv(tmp_path / "b" / name)
        pd.testing.assert_frame_equal(a.drop(columns="wall_time_s", errors="ignore"),
                                      b.drop(columns="wall_time_s", errors="ignore"))


def test_a_factory_of_another_pettingzoo_task_trains(tmp_path):
    from mpe2 import simple_reference_v3

    cfg = marl_config("mappo", env_id="simple_spread", agent="gru", **TINY["mappo"])
    train_team(cfg, tmp_path, progress=False, env_fn=lambda: simple_reference_v3.parallel_env(max_cycles=10))
    ev = pd.read_csv(tmp_path / "eval_curve.csv")
    assert (pd.read_csv(tmp_path / "train_curve.csv")["env_steps"] == [40, 80, 120]).all()
    net, _ = load_marl_agent(tmp_path / "checkpoint.pt")
    assert (net.n_agents, net.obs_size, net.n_actions) == (2, 21, 50) and len(ev) == 2


def test_bad_marl_configs_and_cli(tmp_path, capsys):
    with pytest.raises(ValueError, match="known mixers: qmix, vdn"):
        MARLConfig(mixer="qtran").validate()
    with pytest.raises(ValueError, match="known: mappo, qmix, vdn"):
        marl_config("coma")
    with pytest.raises(ValueError, match="known tasks"):
        MARLConfig(env_id="smac").validate()
    with pytest.raises(ValueError, match="episodes must be an integer >= 1, got 0"):
        MARLConfig(episodes=0).validate()
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 3.5"):
        MARLConfig(batch_size=3.5).validate()
    with pytest.raises(ValueError, match=r"episodes \(100\) must be a multiple of num_envs \(128\)"):
        MAPPOConfig(episodes=100).validate()
    with pytest.raises(ValueError, match="choose one"):
        MAPPOConfig(normalize_returns=True).validate()
    with pytest.raises(ValueError, match="huber_delta must be None or > 0"):
        MAPPOConfig(huber_delta=0).validate()
    with pytest.raises(ValueError, match="critic_activation must be one of relu, tanh"):
        MAPPOConfig(critic_activation="gelu").validate()
    with pytest.raises(ValueError, match="critic_init must be one of"):
        MAPPOConfig(critic_init="xavier").validate()
    with pytest.raises(ValueError, match="head_gain must be None or > 0"):
        MAPPOConfig(head_gain=-1.0).validate()
    with pytest.raises(ValueError, match="divisible by num_minibatches"):
        MAPPOConfig(num_envs=8, num_minibatches=3, episodes=8, eval_interval=8).validate()
    with pytest.raises(SystemExit):
        main(["train-marl", "--algo", "qtran"])
    with pytest.raises(SystemExit, match="unknown multi-agent task"):
        main(["train-marl", "--env", "smac", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="--resume needs --out"):
        main(["train-marl", "--resume"])
    with pytest.raises(SystemExit, match="multiple of num_envs"):
        main(["train-marl", "--episodes", "10", "--out", str(tmp_path / "y")])
    run = tmp_path / "cli"
    assert main(["train-marl", "--env", "simple_spread", "--agent", "mlp", "--algo", "vdn", "--episodes", "4",
                 "--num-envs", "2", "--eval-interval", "2", "--hidden", "8", "--out", str(run), "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["run"] == str(run)
    assert main(["evaluate", str(run), "--episodes", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["algo"] == "vdn" and report["episodes"] == 3 and report["trained_episodes"] == 4
    assert report["greedy_team_return_mean"] < 0


def test_reproduce_marl_tiny_grid(tmp_path, monkeypatch, capsys):
    import grsn_edu.experiments.baselines as baselines
    import grsn_edu.experiments.grids as rep
    from grsn_edu.experiments.runner import collect

    scores = {"random": -100.0, "formation": -60.0, "memoryless": -59.0, "memory": -21.0, "scripted": -20.0}
    computed = []
    monkeypatch.setattr(baselines, "baseline_team_returns",
                        lambda env_id, name, episodes: computed.append(name) or np.array([scores[name]]))
    rep.reproduce_marl(["spread_memory"], ["mlp"], ["vdn", "mappo"], [0], 12, tmp_path / "runs", tmp_path / "data",
                       {"num_envs": 4, "eval_interval": 8, "eval_episodes": 2, "hidden_size": 8})
    assert json.loads((tmp_path / "runs" / "spread_memory-mlp-vdn-s0" / "config.json").read_text())["num_envs"] == 4
    summary = pd.read_csv(tmp_path / "data" / "summary.csv")
    assert list(summary.columns) == rep.MARL_SUMMARY_COLUMNS
    assert sorted(summary["agent"]) == sorted(["mlp", "mlp", *scores])
    assert sorted(summary.loc[summary.agent == "mlp", "algo"]) == ["mappo", "vdn"]
    assert summary.loc[summary.agent == "memory", "final_eval_return"].item() == -21.0
    assert sorted(computed) == sorted(scores)  # each baseline played once, at the first merge, not after every run
    for algo in ("vdn", "mappo"):
        assert load_marl_agent(tmp_path / "data" / "agents" / f"spread_memory-mlp-{algo}.pt")[1].algo == algo
    # the same cell started again elsewhere and not finished: its half-trained weights never replace the agent file
    import shutil

    agent_file = tmp_path / "data" / "agents" / "spread_memory-mlp-mappo.pt"
    saved = agent_file.read_bytes()
    again = tmp_path / "again" / "spread_memory-mlp-mappo-s0"
    shutil.copytree(tmp_path / "runs" / "spread_memory-mlp-mappo-s0", again)
    ev = pd.read_csv(again / "eval_curve.csv")
    ev.iloc[:1].to_csv(again / "eval_curve.csv", index=False)
    (again / "finished.json").unlink()
    ckpt = load_checkpoint(again / "checkpoint.pt")
    torch.save({**ckpt, "model": {k: torch.zeros_like(v) for k, v in ckpt["model"].items()}}, again / "checkpoint.pt")
    collect(rep.MARL, tmp_path / "again", tmp_path / "data")
    assert agent_file.read_bytes() == saved
    with pytest.raises(SystemExit):
        main(["reproduce", "marl", "--agents", "lstm", "--runs-dir", str(tmp_path / "r"), "--data-dir",
              str(tmp_path / "d")])
    assert "invalid choice: 'lstm'" in capsys.readouterr().err


@pytest.mark.parametrize("env_id", MARL_IDS)
def test_scripted_controller_is_far_above_random(env_id):
    from grsn_edu.experiments.baselines import formation_team_returns, random_team_returns, scripted_team_returns

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
    cfg = MARLConfig(env_id="simple_spread", agent="mlp", mixer="qmix", obs_clip=3.0, **TINY["qmix"])
    train_marl(cfg, tmp_path, progress=False)
    loaded, loaded_cfg = load_marl_agent(tmp_path / "checkpoint.pt")
    assert loaded.obs_clip == 3.0 and loaded_cfg.obs_clip == 3.0


@pytest.mark.parametrize("algo", ["qmix", "mappo"])
def test_resume_after_a_crash_gives_a_finished_run(tmp_path, monkeypatch, capsys, algo):
    cfg = marl_config(algo, env_id="simple_spread", agent="gru", **TINY[algo])
    real, calls = team.eval_row, []  # both trainers evaluate and checkpoint through team.evaluate_and_save

    def crashing_eval(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(team, "eval_row", crashing_eval)
    with pytest.raises(KeyboardInterrupt):
        train_team(cfg, tmp_path, progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["episode"] == 8 and finished_summary(tmp_path) is None
    monkeypatch.setattr(team, "eval_row", real)
    other = marl_config(algo, env_id="simple_spread", agent="gru", **{**TINY[algo], "seed": 1})
    with pytest.raises(ValueError, match="settings differ"):
        train_team(other, tmp_path, resume=True, progress=False)
    # through the command line, as a user would continue it
    assert main(["train-marl", "--out", str(tmp_path), "--resume", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["run"] == str(tmp_path)
    assert finished_summary(tmp_path) is not None
    ev, tr = pd.read_csv(tmp_path / "eval_curve.csv"), pd.read_csv(tmp_path / "train_curve.csv")
    assert ev["episode"].tolist() == [8, 12] and tr["episode"].tolist() == [4, 8, 12]
    if algo == "mappo":  # nothing is lost with the process: the resumed run is the uninterrupted one
        train_team(cfg, tmp_path / "whole", progress=False)
        whole = pd.read_csv(tmp_path / "whole" / "train_curve.csv")
        pd.testing.assert_frame_equal(tr.reset_index(drop=True), whole)
