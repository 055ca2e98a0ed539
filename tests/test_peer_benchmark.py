"""scripts/peer_ppo.py: sb3-contrib's RecurrentPPO and the project's agents under one evaluation protocol."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from float_rounding import assert_spikes_cannot_flip

from grsn_edu.rl.agents import RecurrentActorCritic
from grsn_edu.rl.ppo import evaluate
from grsn_edu.snn.trace import Trace

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def peer(peer_benchmark):
    return peer_benchmark


def test_greedy_returns_is_the_projects_evaluation_protocol(peer):
    torch.manual_seed(0)
    agent = RecurrentActorCritic(obs_size=2, n_actions=2, core="gru", hidden_size=8).eval()
    state = {}

    def act(obs, first):
        if first.all():
            state["h"] = agent.initial_state(len(obs))
        with torch.no_grad():
            logits, _, state["h"] = agent(torch.as_tensor(obs, dtype=torch.float32)[None], state["h"])
        return logits[0].argmax(-1).numpy()

    ours = peer.greedy_returns(act, "CartPole-P", episodes=4, seed=10_007)
    theirs, _ = evaluate(agent, "CartPole-P", episodes=4, seed=10_007)
    np.testing.assert_array_equal(ours, theirs)


def test_a_tiny_grid_records_both_trainers_and_skips_what_it_has(peer, tmp_path, capsys):
    argv = ["--envs", "CartPole-V", "--agents", peer.PEER, "gru", "--seeds", "3", "--steps", "2048",
            "--eval-interval", "1024", "--eval-episodes", "2", "--data-dir", str(tmp_path / "data"),
            "--runs-dir", str(tmp_path / "runs")]
    assert peer.main(argv) == 0
    summary = pd.read_csv(tmp_path / "data" / "summary.csv")
    curves = pd.read_csv(tmp_path / "data" / "eval_curves.csv")
    assert sorted(summary["agent"]) == sorted([peer.PEER, "gru"])
    assert set(summary["total_steps"]) == {2048}
    for agent, curve in curves.groupby("agent"):
        assert list(curve["global_step"]) == [1024, 2048], agent
        assert ((curve["eval_return_mean"] >= 1) & (curve["eval_return_mean"] <= 500)).all()
        row = summary.set_index("agent").loc[agent]
        assert row["final_eval_return"] == curve["eval_return_mean"].iloc[-1]
        assert row["env_steps_per_s"] == pytest.approx(2048 / row["wall_time_s"])
    table = capsys.readouterr().out
    assert peer.PEER in table and "| CartPole-V | gru | 1 |" in table
    before = (tmp_path / "data" / "summary.csv").read_text()
    assert peer.main(argv) == 0  # every cell recorded: nothing retrained, nothing rewritten
    assert "2 of 2 cells done, 0 to run" in capsys.readouterr().out
    assert (tmp_path / "data" / "summary.csv").read_text() == before


def test_bad_arguments_stop_with_a_message(peer, capsys):
    for argv, message in [(["--envs", "CartPole-Q"], "unknown task"), (["--agents", "lstm"], "unknown agent"),
                          (["--steps", "0"], "steps must be an integer >= 1")]:
        with pytest.raises(SystemExit):
            peer.parse_args(argv)
        assert message in capsys.readouterr().err


def test_a_project_core_runs_inside_the_peer_trainer(peer):
    """The GRSN core in sb3-contrib's RecurrentPPO: its (mem, cur) state rides in the LSTM's (h, c), the heads read
    its 2H-wide output, the optimiser holds its parameters, and a short run trains and evaluates."""
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.env_util import make_vec_env

    from grsn_edu.envs.gym_tasks import make_env

    torch.manual_seed(0)
    venv = make_vec_env(lambda: make_env("CartPole-P"), n_envs=2, seed=0)
    model = RecurrentPPO(peer.core_policy("grsn"), venv, n_steps=16, batch_size=16, n_epochs=1, seed=0,
                         device="cpu", policy_kwargs=peer.PEER_POLICY)
    policy = model.policy
    assert isinstance(policy.lstm_actor, peer.LSTMShapedCore) and isinstance(policy.lstm_critic, peer.LSTMShapedCore)
    assert policy.lstm_actor.core.name == "grsn" and policy.lstm_output_dim == 2 * 64
    optimised = {id(p) for group in policy.optimizer.param_groups for p in group["params"]}
    assert {id(p) for p in policy.lstm_actor.parameters()} <= optimised
    before = [p.detach().clone() for p in policy.lstm_actor.parameters()]
    model.learn(total_timesteps=32)
    assert any(not torch.equal(a, p) for a, p in zip(before, policy.lstm_actor.parameters()))
    # the state carried between calls is the core's own: equal to running the core over the whole sequence
    core = policy.lstm_actor.core
    x = torch.randn(5, 3, core.input_size)
    whole, final = core(x, trace=(trace := Trace()))
    # one step per call and one call for all steps multiply matrices of other shapes: the spikes agree exactly
    # only because no membrane comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(trace["mem"], core.threshold, terms=5 * (core.input_size + core.hidden_size + 1))
    h = c = torch.zeros(1, 3, core.hidden_size)
    for t in range(5):
        out, (h, c) = policy.lstm_actor(x[t : t + 1], (h, c))
        torch.testing.assert_close(out[0], whole[t])
    torch.testing.assert_close(h[0], final["mem"])
    torch.testing.assert_close(c[0], final["cur"])


def test_the_peer_trainer_with_a_project_core_is_a_grid_agent(peer, tmp_path):
    argv = ["--envs", "CartPole-P", "--agents", "sb3-recurrentppo-grsn", "--seeds", "0", "--steps", "1024",
            "--eval-interval", "1024", "--eval-episodes", "2", "--data-dir", str(tmp_path / "data"),
            "--runs-dir", str(tmp_path / "runs")]
    assert peer.main(argv) == 0
    assert list(pd.read_csv(tmp_path / "data" / "summary.csv")["agent"]) == ["sb3-recurrentppo-grsn"]
