"""The multi-agent trainers by name: ``mappo``, ``qmix`` and ``vdn`` share one agent network, one batch of
environments and one run-folder layout, so a run of any of them is trained, resumed and loaded the same way.

Example:
    >>> cfg = marl_config("mappo", env_id="simple_spread", agent="gru")
    >>> type(cfg).__name__, cfg.algo
    ('MAPPOConfig', 'mappo')
"""

from __future__ import annotations

from pathlib import Path

from grsn_edu.rl.mappo import MAPPOConfig, train_mappo
from grsn_edu.rl.qmix import MARLConfig, train_marl
from grsn_edu.rl.team import AgentNetwork, TeamConfig, agent_network, team_envs
from grsn_edu.util.files import load_checkpoint

__all__ = ["ALGOS", "marl_config", "train_team", "config_from_dict", "load_marl_agent"]

#: The multi-agent algorithms, by the name the command line and the data files use.
ALGOS = ("mappo", "qmix", "vdn")


def marl_config(algo: str, **settings) -> TeamConfig:
    """The settings of a run of ``algo`` (:data:`ALGOS`): a :class:`~grsn_edu.rl.mappo.MAPPOConfig` or a
    :class:`~grsn_edu.rl.qmix.MARLConfig` with its ``mixer``; ``settings`` override the defaults."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; known: {', '.join(ALGOS)}")
    if algo == "mappo":
        return MAPPOConfig(**settings)
    return MARLConfig(mixer=algo, **settings)


def config_from_dict(config: dict) -> TeamConfig:
    """A saved ``config.json`` (or a checkpoint's ``config``) as the config class of its algorithm."""
    if "mixer" in config:
        return MARLConfig.from_dict(config)
    if "critic_hidden" in config:
        return MAPPOConfig.from_dict(config)
    raise ValueError("these settings are not those of a multi-agent run (no mixer or critic_hidden); "
                     "a single-agent run is evaluated with grsn_edu.rl.ppo")


def train_team(cfg: TeamConfig, out_dir: str | Path, resume: bool = False, progress: bool = True,
               env_fn=None) -> dict:
    """Train a run of whichever algorithm ``cfg`` is for (see :func:`~grsn_edu.rl.qmix.train_marl`)."""
    trainer = train_mappo if isinstance(cfg, MAPPOConfig) else train_marl
    return trainer(cfg, out_dir, resume=resume, progress=progress, env_fn=env_fn)


def load_marl_agent(path: str | Path) -> tuple[AgentNetwork, TeamConfig]:
    """``(agent network, config)`` from a multi-agent checkpoint of any algorithm, in eval mode: the network the
    agents act with (the mixer or critic only served training)."""
    ckpt = load_checkpoint(path)
    cfg = config_from_dict(dict(ckpt["config"]))
    if "task_sizes" in ckpt:
        obs_size, n_agents, n_actions, _ = ckpt["task_sizes"]
    else:  # written before the sizes were saved: read them from the registered task
        envs = team_envs(cfg, 1)
        obs_size, n_agents, n_actions = envs.obs_size, envs.n_agents, envs.n_actions
        envs.close()
    net = agent_network(cfg, obs_size, n_agents, n_actions)
    net.load_state_dict(ckpt["model"])
    net.eval()
    return net, cfg
