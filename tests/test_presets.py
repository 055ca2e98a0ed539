"""One name means one agent: the command line, the configs and the grids build the same agent from a name, and the
help texts state the defaults the trainers use."""

import dataclasses

import pytest

from grsn_edu.experiments import grids
from grsn_edu.experiments.cli import build_parser, team_config, train_config
from grsn_edu.rl.mappo import MAPPOConfig
from grsn_edu.rl.ppo import PPOConfig
from grsn_edu.rl.presets import AGENTS, config_dict_with_agent, legacy_agent, resolve_agent
from grsn_edu.rl.qmix import MARLConfig


@pytest.mark.parametrize("env_id", grids.ENVS)
@pytest.mark.parametrize("agent", grids.AGENTS)
def test_the_command_line_trains_the_cartpole_grid_s_agent(env_id, agent):
    args = build_parser().parse_args(["train", "--env", env_id, "--agent", agent, "--seed", "3"])
    assert train_config(args).validate() == grids.agent_config(env_id, agent, 3)


@pytest.mark.parametrize("algo", ["mappo", "qmix", "vdn"])
@pytest.mark.parametrize("agent", grids.MARL_AGENTS)
def test_the_command_line_trains_the_team_grid_s_agent(agent, algo):
    args = build_parser().parse_args(["train-marl", "--env", "spread_memory", "--agent", agent, "--algo", algo,
                                      "--seed", "2"])
    assert team_config(args).validate() == grids.marl_cell_config("spread_memory", agent, algo, 2)


def test_the_python_config_of_a_name_is_the_grid_s_agent():
    """``PPOConfig(agent="grsn")`` and its default are the grid's GRSN: decay 0.5, spikes and membrane read out
    (the GRSN core's own defaults are decay 0.9 and spikes only)."""
    assert PPOConfig().agent == "grsn" and PPOConfig().core_options == {"readout": "both", "beta": 0.5}
    assert PPOConfig(agent="grsn") == grids.agent_config("CartPole-P", "grsn", 0)
    assert MAPPOConfig(agent="grsn").core_options == {"readout": "both", "beta": 0.5}
    assert MARLConfig(agent="grsn").core_options == {"readout": "spikes"}
    assert PPOConfig(agent="grsn-notap").substeps == 4 and PPOConfig(agent="grsn-notap").label == "grsn-notap"


def test_options_are_laid_over_the_agent_s_and_a_settled_config_rebuilds_unchanged():
    cfg = PPOConfig(agent="grsn", core_options={"beta": 0.9})
    assert cfg.core_options == {"readout": "both", "beta": 0.9}
    assert PPOConfig(**dataclasses.asdict(cfg)) == cfg
    args = build_parser().parse_args(["train", "--agent", "grsn", "--core-option", "beta=0.9"])
    assert train_config(args) == cfg
    assert PPOConfig(agent="grsn", substeps=2).label == "grsn-substeps2"


def test_settings_saved_before_agents_had_names_keep_their_meaning():
    """A saved ``core`` with options that leave out an option the agent sets gets the core's own default for it,
    not the agent's: ``{"readout": "membrane"}`` on the GRSN core meant decay 0.9."""
    old = {"env_id": "CartPole-P", "core": "grsn", "substeps": 1, "core_options": {"readout": "membrane"}}
    cfg = PPOConfig.from_dict(old)
    assert cfg.agent == "grsn" and cfg.core_options == {"readout": "membrane", "beta": 0.9}
    assert legacy_agent("grsn", {}, 4) == ("grsn-notap", {"readout": "spikes", "beta": 0.9})
    assert config_dict_with_agent({"agent": "gru"}) == {"agent": "gru"}


def test_help_texts_state_the_trainers_defaults():
    parser = build_parser()
    train = parser.parse_args(["train"])
    for option, field in [("lr", "learning_rate"), ("steps", "total_steps"), ("hidden", "hidden_size"),
                          ("eval_interval", "eval_interval"), ("env", "env_id"), ("agent", "agent"), ("seed", "seed")]:
        assert getattr(train, option) == getattr(PPOConfig(), field), option
    sub = next(a for a in parser._actions if a.dest == "command").choices["train"]
    lr_help = next(a.help for a in sub._actions if a.dest == "lr")
    assert f"{PPOConfig.learning_rate:g}" in lr_help and "decayed linearly to 0" in lr_help
    assert all(name in sub.description for name in AGENTS)


def test_an_unknown_agent_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown agent 'lstm'; known agents: mlp, gru"):
        resolve_agent("lstm")
    with pytest.raises(ValueError, match="unknown agent"):
        PPOConfig(agent="lstm")


def test_the_reference_s_train_command_is_the_grid_s_grsn():
    """REFERENCE.md's command for training GRSN gives exactly a grid cell's settings (another seed of the grid's
    run)."""
    import shlex
    from pathlib import Path

    reference = (Path(__file__).resolve().parents[1] / "REFERENCE.md").read_text()
    lines = [line for line in reference.splitlines() if line.startswith(".venv/bin/grsn-edu train --env")]
    assert lines, "REFERENCE.md gives no grsn-edu train command"
    argv = shlex.split(lines[0], comments=True)[1:]
    args = build_parser().parse_args(argv)
    assert args.agent == "grsn"
    assert train_config(args).validate() == grids.agent_config(args.env, "grsn", args.seed)
