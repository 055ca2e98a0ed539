"""Recurrent PPO, the agent, run folders and the command line, on tiny budgets (learning is shown by full runs)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from float_rounding import approx_kl_tolerance, replay_terms, rounding_tolerance

import grsn_edu.rl.ppo as ppo
from grsn_edu.experiments.aggregate import summary_table
from grsn_edu.experiments.cli import main
from grsn_edu.experiments.grids import CARTPOLE, SUMMARY_COLUMNS
from grsn_edu.experiments.runner import GridCell, collect, run_name
from grsn_edu.rl.agents import ObsNormalizer, RecurrentActorCritic
from grsn_edu.rl.ppo import EVAL_COLUMNS, TRAIN_COLUMNS, PPOConfig, load_agent, train
from grsn_edu.util.files import load_checkpoint

TINY = dict(total_steps=256, num_envs=4, num_steps=32, num_minibatches=2, update_epochs=1, eval_interval=128,
            eval_episodes=2, hidden_size=16)


@pytest.mark.parametrize(
    "core,substeps,options",
    [("mlp", 1, {}), ("gru", 1, {}), ("lif", 1, {"readout": "both"}), ("grsn", 1, {}),
     ("grsn", 2, {"readout": "membrane"}), ("grsn-eq17", 1, {}), ("grsn-first-release", 1, {})],
)
def test_every_core_trains_for_a_few_updates(tmp_path, core, substeps, options):
    cfg = PPOConfig(env_id="CartPole-P", agent=core, substeps=substeps, core_options=options, **TINY)
    summary = train(cfg, tmp_path, progress=False)
    ev = pd.read_csv(tmp_path / "eval_curve.csv")
    tr = pd.read_csv(tmp_path / "train_curve.csv")
    assert list(ev.columns) == EVAL_COLUMNS and list(tr.columns) == TRAIN_COLUMNS
    assert ev["global_step"].tolist() == [128, 256]
    # the last evaluation is that of the saved agent, on the episodes reset with seeds 10_000 + seed + i
    agent, _ = load_agent(tmp_path / "checkpoint.pt")
    returns, rate = ppo.evaluate(agent, "CartPole-P", cfg.eval_episodes, seed=10_000 + cfg.seed)
    assert ev["eval_return_mean"].iloc[-1] == returns.mean() and ev["eval_return_min"].iloc[-1] == returns.min()
    assert ev["firing_rate"].iloc[-1] == rate or np.isnan(rate)
    assert len(tr) > 0 and (tr["episode_length"] == tr["episode_return"]).all()  # no bootstrap term in returns
    assert tr["global_step"].is_monotonic_increasing and tr["global_step"].iloc[-1] <= 256
    if core == "mlp" or core == "gru":
        assert np.isnan(ev["firing_rate"]).all()
    else:
        assert ((ev["firing_rate"] >= 0) & (ev["firing_rate"] <= 1)).all()
    assert summary["final_eval_return"] == ev["eval_return_mean"].iloc[-1]
    assert json.loads((tmp_path / "config.json").read_text())["agent"] == core


def test_same_seed_same_curves(tmp_path):
    cfg = PPOConfig(env_id="CartPole-V", agent="grsn", **TINY)
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False)
    for name in ("train_curve.csv", "eval_curve.csv"):
        a, b = pd.read_csv(tmp_path / "a" / name), pd.read_csv(tmp_path / "b" / name)
        pd.testing.assert_frame_equal(a.drop(columns=["wall_time_s"], errors="ignore"),
                                      b.drop(columns=["wall_time_s"], errors="ignore"))
    other = PPOConfig(env_id="CartPole-V", agent="grsn", **{**TINY, "seed": 1})
    train(other, tmp_path / "c", progress=False)
    assert not pd.read_csv(tmp_path / "a" / "train_curve.csv").equals(pd.read_csv(tmp_path / "c" / "train_curve.csv"))


def test_numpy_and_sync_environments_give_the_same_run(tmp_path):
    curves = {}
    for backend in ("sync", "numpy"):
        cfg = PPOConfig(env_id="CartPole-P", agent="gru", vector_backend=backend, **TINY)
        train(cfg, tmp_path / backend, progress=False)
        curves[backend] = [pd.read_csv(tmp_path / backend / name).drop(columns=["wall_time_s"], errors="ignore")
                           for name in ("train_curve.csv", "eval_curve.csv", "update_stats.csv")]
    assert len(curves["sync"][0]) > 0
    for a, b in zip(curves["sync"], curves["numpy"]):
        pd.testing.assert_frame_equal(a, b)


def test_resume_after_a_crash_continues_from_the_checkpoint(tmp_path, monkeypatch):
    cfg = PPOConfig(env_id="CartPole-P", agent="gru", **{**TINY, "total_steps": 512})
    real_evaluate, calls = ppo.evaluate, []

    def crashing_evaluate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated crash")
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(ppo, "evaluate", crashing_evaluate)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path, progress=False)
    # what is on disk after the crash is whole: two evaluations, a readable checkpoint
    assert pd.read_csv(tmp_path / "eval_curve.csv")["global_step"].tolist() == [128, 256]
    assert load_checkpoint(tmp_path / "checkpoint.pt")["global_step"] == 256
    assert not list(tmp_path.glob(".*.tmp"))
    monkeypatch.setattr(ppo, "evaluate", real_evaluate)
    summary = train(cfg, tmp_path, resume=True, progress=False)
    assert pd.read_csv(tmp_path / "eval_curve.csv")["global_step"].tolist() == [128, 256, 384, 512]
    assert load_checkpoint(tmp_path / "checkpoint.pt")["global_step"] == 512
    # the update statistics of the first session were restored with the checkpoint
    assert pd.read_csv(tmp_path / "update_stats.csv")["update"].tolist() == [1, 2, 3, 4]
    # a finished run: its trainer said so (finished.json, the grids' one sign), and resuming it changes nothing
    from grsn_edu.rl.training import finished_summary

    assert json.dumps(finished_summary(tmp_path), sort_keys=True) == json.dumps(summary, sort_keys=True)
    before = {name: (tmp_path / name).read_text() for name in ("train_curve.csv", "eval_curve.csv")}
    assert json.dumps(train(cfg, tmp_path, resume=True, progress=False)) == json.dumps(summary)  # NaN == NaN
    assert {name: (tmp_path / name).read_text() for name in before} == before


def test_cli_resumes_an_interrupted_run_to_the_end(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    real_evaluate, calls = ppo.evaluate, []

    def crashing_evaluate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated crash")
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(ppo, "evaluate", crashing_evaluate)
    args = ["train", "--env", "CartPole-V", "--agent", "mlp", "--steps", "3072", "--hidden", "8", "--eval-interval",
            "1024", "--out", str(run), "--no-progress"]
    with pytest.raises(KeyboardInterrupt):
        main(args)
    assert pd.read_csv(run / "eval_curve.csv")["global_step"].tolist() == [1024]
    monkeypatch.setattr(ppo, "evaluate", real_evaluate)
    with pytest.raises(SystemExit, match="already holds a run; pass --resume"):
        main(args)
    assert main(["train", "--out", str(run), "--resume", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["run"] == str(run)
    assert pd.read_csv(run / "eval_curve.csv")["global_step"].tolist() == [1024, 2048, 3072]
    with pytest.raises(SystemExit, match="not a run folder"):
        main(["train", "--out", str(tmp_path / "nothing"), "--resume"])


def test_resume_refuses_other_settings(tmp_path):
    cfg = PPOConfig(env_id="CartPole-P", agent="mlp", **TINY)
    train(cfg, tmp_path, progress=False)
    changed = PPOConfig(env_id="CartPole-P", agent="mlp", **{**TINY, "hidden_size": 32})
    with pytest.raises(ValueError, match="settings differ"):
        train(changed, tmp_path, resume=True, progress=False)


@pytest.mark.parametrize(
    "change,match",
    [({"agent": "lstm"}, "known agents"), ({"env_id": "CartPole-Q"}, "unknown environment id"),
     ({"num_envs": 6, "num_minibatches": 4}, "divisible"), ({"total_steps": 10}, "less than one rollout"),
     ({"gamma": 1.5}, r"gamma must lie in \[0, 1\]"),
     ({"hidden_size": 0}, "hidden_size must be an integer >= 1, got 0"),
     ({"num_steps": 2.0}, "num_steps must be an integer >= 1, got 2.0"),
     ({"threads": True}, "threads must be an integer"),
     ({"advantage_norm": "rollout"}, "advantage_norm must be one of minibatch, batch, off, got 'rollout'"),
     ({"head_init": "xavier"}, "head_init must be one of orthogonal, default"),
     ({"vector_backend": "jax"}, "vector_backend must be one of sync, numpy, auto, got 'jax'"),
     ({"value_hidden": -1}, "value_hidden must be an integer >= 0, got -1"),
     ({"normalize_returns": "yes"}, "normalize_returns must be True or False"),
     ({"max_grad_norm": 0.0}, "max_grad_norm must be > 0"), ({"ent_coef": -0.01}, "ent_coef must be >= 0"),
     ({"num_envs": 1, "num_minibatches": 1, "num_steps": 1, "total_steps": 1}, "at least 2 steps per minibatch")],
)
def test_bad_configs(change, match):
    with pytest.raises(ValueError, match=match):
        PPOConfig(**{**TINY, **change}).validate()


def test_obs_normalizer_matches_batch_statistics():
    torch.manual_seed(0)
    data = torch.randn(1000, 3) * torch.tensor([0.01, 1.0, 100.0]) + torch.tensor([5.0, 0.0, -3.0])
    norm = ObsNormalizer(3)
    for chunk in data.split(64):
        norm.update(chunk)
    assert torch.allclose(norm.mean, data.mean(0), rtol=1e-4, atol=1e-4)
    assert torch.allclose(norm.var, data.var(0, unbiased=False), rtol=1e-3)
    z = norm(data)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-3) and torch.allclose(z.std(0), torch.ones(3), atol=1e-2)


def test_agent_rejects_mismatched_core_and_bad_actions():
    from grsn_edu import make_core

    with pytest.raises(ValueError, match="core expects 3 inputs but obs_size is 2"):
        RecurrentActorCritic(2, 2, make_core("gru", 3, 8), shared_core=True)
    with pytest.raises(ValueError, match="n_actions must be an int >= 2"):
        RecurrentActorCritic(2, 1, "gru", 8)


def test_cli_train_evaluate_and_errors(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--env", "CartPole-V", "--agent", "mlp", "--steps", "1024", "--hidden", "8",
                 "--out", str(run), "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["run"] == str(run)
    assert main(["evaluate", str(run), "--episodes", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["episodes"] == 3 and report["agent"] == "mlp" and report["trained_steps"] == 1024
    agent, _ = load_agent(run / "checkpoint.pt")
    assert report["greedy_return_mean"] == ppo.evaluate(agent, "CartPole-V", 3, seed=20_000)[0].mean()
    with pytest.raises(SystemExit, match="already holds a run"):
        main(["train", "--agent", "mlp", "--out", str(run), "--steps", "1024"])
    with pytest.raises(SystemExit, match="unknown environment id 'CartPole-Q'"):
        main(["train", "--env", "CartPole-Q", "--out", str(tmp_path / "q"), "--steps", "1024"])
    with pytest.raises(SystemExit, match="not a run folder"):
        main(["evaluate", str(tmp_path / "nothing")])
    with pytest.raises(SystemExit, match="--resume needs --out"):
        main(["train", "--resume"])
    with pytest.raises(SystemExit):  # argparse: invalid choice, exit status 2
        main(["train", "--agent", "lstm"])
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match="unreadable"):
        main(["evaluate", str(run)])


def train_cell(runs_dir, cfg: PPOConfig):
    """Train ``cfg`` as the CartPole grid's cell (env, agent, seed) under ``runs_dir``."""
    key = {"env": cfg.env_id, "agent": cfg.label, "seed": cfg.seed}
    GridCell(key, runs_dir / run_name(key), cfg).train(progress=False)


def test_collect_and_summary_table(tmp_path):
    for core in ("mlp", "gru"):
        train_cell(tmp_path / "runs", PPOConfig(env_id="CartPole-P", agent=core, **TINY))
    train(PPOConfig(env_id="CartPole-P", agent="lif", **TINY), tmp_path / "runs" / "stray", progress=False)
    summary = collect(CARTPOLE, tmp_path / "runs", tmp_path / "data")  # a run folder without its cell: not a cell
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert sorted(summary["agent"]) == ["gru", "mlp"]
    table = summary_table(summary)
    assert set(table["agent"]) == {"gru", "mlp"} and (table["seeds"] == 1).all()
    ev = pd.read_csv(tmp_path / "data" / "eval_curves.csv")
    assert list(ev.columns) == ["env", "agent", "seed"] + EVAL_COLUMNS
    agent, cfg = load_agent(tmp_path / "data" / "agents" / "CartPole-P-gru.pt")
    assert cfg.core == "gru" and not agent.training
    returns, rate = ppo.evaluate(agent, "CartPole-P", episodes=2)
    assert returns.shape == (2,) and np.isnan(rate)


def test_collect_merges_into_existing_data(tmp_path, capsys):
    """Run folders are scratch: a later session's runs are added to data/, earlier rows are kept."""
    small = {**TINY, "total_steps": 1024}  # one rollout of the grid's settings, so reproduce accepts the budget
    train_cell(tmp_path / "a", PPOConfig(env_id="CartPole-P", agent="mlp", **small))
    collect(CARTPOLE, tmp_path / "a", tmp_path / "data")
    before = (tmp_path / "data" / "agents" / "CartPole-P-mlp.pt").read_bytes()
    train_cell(tmp_path / "b", PPOConfig(env_id="CartPole-P", agent="mlp", **{**small, "seed": 1}))
    summary = collect(CARTPOLE, tmp_path / "b", tmp_path / "data")
    assert sorted(summary["seed"]) == [0, 1]
    ev = pd.read_csv(tmp_path / "data" / "eval_curves.csv")
    assert sorted(ev["seed"].unique()) == [0, 1]
    # the agent file of the lowest seed stays although its run folder is not under the new runs folder
    assert (tmp_path / "data" / "agents" / "CartPole-P-mlp.pt").read_bytes() == before
    # collecting the same runs again replaces their rows instead of duplicating them
    assert len(collect(CARTPOLE, tmp_path / "b", tmp_path / "data")) == 2
    assert len(pd.read_csv(tmp_path / "data" / "eval_curves.csv")) == len(ev)
    # reproduce skips a cell that data/ already records at the same budget
    from grsn_edu.experiments.grids import reproduce_cartpole
    reproduce_cartpole(["CartPole-P"], ["mlp"], [0, 1], small["total_steps"], tmp_path / "c", tmp_path / "data")
    assert "2 of 2 cells done, 0 to run" in capsys.readouterr().out and not (tmp_path / "c").exists()


def test_merge_csv_replaces_same_keys_and_keeps_the_rest(tmp_path):
    from grsn_edu.util.files import merge_csv, recorded_keys

    path = tmp_path / "summary.csv"
    cols = ["env", "seed", "steps", "value"]
    merge_csv(path, pd.DataFrame({"env": ["a", "b"], "seed": [0, 0], "steps": [10, 10], "value": [1.0, 2.0]}),
              ["env", "seed"], cols)
    out = merge_csv(path, pd.DataFrame({"env": ["b", "a"], "seed": [0, 1], "steps": [10, 5], "value": [3.0, 4.0]}),
                    ["env", "seed"], cols)
    assert out.values.tolist() == [["a", 0, 10, 1.0], ["a", 1, 5, 4.0], ["b", 0, 10, 3.0]]
    assert pd.read_csv(path).equals(out)
    assert recorded_keys(path, cols, ["env", "seed"], "steps", 10) == {("a", 0), ("b", 0)}
    assert recorded_keys(tmp_path / "none.csv", cols, ["env", "seed"], "steps", 10) == set()
    path.write_text("env,seed\nx,0\n")
    with pytest.raises(ValueError, match="lacks columns"):
        merge_csv(path, pd.DataFrame(columns=cols), ["env", "seed"], cols)


def test_update_stats_has_one_row_per_update(tmp_path):
    cfg = PPOConfig(env_id="CartPole-P", agent="gru", **{**TINY, "total_steps": 512})
    train(cfg, tmp_path, progress=False)
    stats = pd.read_csv(tmp_path / "update_stats.csv")
    assert list(stats.columns) == ppo.UPDATE_COLUMNS
    assert stats["update"].tolist() == [1, 2, 3, 4] and stats["global_step"].tolist() == [128, 256, 384, 512]
    assert stats["learning_rate"].tolist() == pytest.approx([cfg.learning_rate * (1 - u / 4) for u in range(4)])
    # approx_kl is >= 0 in exact arithmetic; a replay of a policy that has not moved gives 0 to float32 rounding,
    # of either sign (the replay and acting multiply matrices of other shapes: float_rounding)
    kl_tolerance = approx_kl_tolerance(rounding_tolerance(replay_terms(ppo.build_agent(cfg, 2, 2), cfg.num_steps)))
    assert (stats["approx_kl"] >= -kl_tolerance).all() and stats["clip_fraction"].between(0, 1).all()
    assert (stats["entropy"] > 0).all() and (stats["entropy"] <= np.log(2) + 1e-6).all()
    assert (stats["value_loss"] > 0).all() and (stats["explained_variance"] <= 1).all()
    # one epoch of one minibatch: the only gradient step sees the policy that acted, nothing moved yet
    single = PPOConfig(env_id="CartPole-P", agent="gru", **{**TINY, "num_minibatches": 1, "anneal_lr": False})
    train(single, tmp_path / "single", progress=False)
    stats = pd.read_csv(tmp_path / "single" / "update_stats.csv")
    assert (stats["approx_kl"].abs() <= kl_tolerance).all() and (stats["clip_fraction"] == 0).all()
    assert (stats["learning_rate"] == single.learning_rate).all()


def test_return_normalisation_is_kept_in_the_checkpoint_and_scales_the_value_targets(tmp_path):
    cfg = PPOConfig(env_id="CartPole-V", agent="mlp", **{**TINY, "normalize_returns": True})
    train(cfg, tmp_path / "scaled", progress=False)
    saved = load_checkpoint(tmp_path / "scaled" / "checkpoint.pt")["return_normalizer"]
    assert set(saved) == {"mean", "var", "count"}  # the per-environment returns are not kept
    assert float(saved["count"]) == pytest.approx(1e-4 + cfg.total_steps)  # every step of every environment
    assert float(saved["var"]) > 1.0  # returns of CartPole grow well beyond 1: rewards were scaled down
    plain = dataclasses.replace(cfg, normalize_returns=False)
    train(plain, tmp_path / "plain", progress=False)
    assert "return_normalizer" not in load_checkpoint(tmp_path / "plain" / "checkpoint.pt")
    scaled_loss = pd.read_csv(tmp_path / "scaled" / "update_stats.csv")["value_loss"]
    plain_loss = pd.read_csv(tmp_path / "plain" / "update_stats.csv")["value_loss"]
    assert scaled_loss.iloc[-1] < plain_loss.iloc[-1]
    _, loaded = load_agent(tmp_path / "scaled" / "checkpoint.pt")
    assert loaded.normalize_returns
    # resuming the finished run restores the statistics without complaint
    train(cfg, tmp_path / "scaled", resume=True, progress=False)


def test_value_head_and_head_initialisation():
    torch.manual_seed(0)
    linear = RecurrentActorCritic(2, 2, "gru", 8)
    assert isinstance(linear.critic, torch.nn.Linear)
    assert float(torch.linalg.matrix_norm(linear.actor.weight.detach(), ord=2)) == pytest.approx(0.01, rel=1e-4)
    deep = RecurrentActorCritic(2, 2, "gru", 8, value_hidden=16, head_init="default")
    assert [type(m).__name__ for m in deep.critic] == ["Linear", "Tanh", "Linear"]
    assert deep.critic[0].weight.shape == (16, 8) and (deep.critic[0].bias != 0).all()  # PyTorch's init
    assert float(torch.linalg.matrix_norm(deep.actor.weight.detach(), ord=2)) > 0.05
    _, value, _ = deep(torch.randn(3, 4, 2), deep.initial_state(4))
    assert value.shape == (3, 4)
    cfg = PPOConfig(agent="gru", hidden_size=8, value_hidden=16, head_init="default")
    assert ppo.build_agent(cfg, 2, 2).critic[0].weight.shape == (16, 8)
    with pytest.raises(ValueError, match="head_init must be one of orthogonal, default, got 'xavier'"):
        RecurrentActorCritic(2, 2, "gru", 8, head_init="xavier")
    with pytest.raises(ValueError, match="value_hidden must be an integer >= 0"):
        RecurrentActorCritic(2, 2, "gru", 8, value_hidden=2.0)


def test_training_stops_at_the_first_evaluation_that_reaches_stop_at(tmp_path):
    cfg = PPOConfig(env_id="CartPole-P", agent="mlp", **{**TINY, "total_steps": 1024})
    summary = train(cfg, tmp_path / "a", progress=False, stop_at=1.0)  # every greedy episode lasts >= 1 step
    assert pd.read_csv(tmp_path / "a" / "eval_curve.csv")["global_step"].tolist() == [128]
    assert summary["final_eval_return"] >= 1.0
    train(cfg, tmp_path / "b", progress=False, stop_at=501.0)  # never reached: the whole budget
    assert pd.read_csv(tmp_path / "b" / "eval_curve.csv")["global_step"].tolist()[-1] == 1024


def test_a_task_the_trainer_cannot_take_is_refused_with_what_it_takes(tmp_path):
    with pytest.raises(SystemExit, match=r"Pendulum-v1 has actions Box.*one discrete action space.*another algorithm"):
        main(["train", "--env", "Pendulum-v1", "--out", str(tmp_path / "run")])
    with pytest.raises(SystemExit, match="unknown environment id 'CartPole-Q'"):
        main(["train", "--env", "CartPole-Q", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()
