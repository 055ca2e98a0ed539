"""MAPPO (Yu et al. 2022): recurrent PPO for a cooperative team, with a centralised critic.

Centralised training, decentralised execution, built from the single-agent recurrent-PPO parts
(:mod:`grsn_edu.rl.ppo`, :mod:`grsn_edu.rl.gae`, :mod:`grsn_edu.rl.agents`):

* **Actors.** Every agent samples its action from the same recurrent policy,
  :class:`~grsn_edu.rl.team.AgentNetwork` (observation, agent id one-hot and previous action one-hot in; logits
  out), any core, its state carried across the episode's steps (TAP for spiking cores). This is all that runs at
  deployment, and the same network QMIX and VDN train (there its outputs are Q values).
* **Critic.** One value of the team, ``V(s_t, t / T)``, an MLP on the global state (``state()``, which in the
  memory task shows the landmarks the agents no longer see) and the fraction of the episode played (the
  episodes end at a time limit, so the value depends on the time left). It serves training only.
* **Rollout.** ``num_envs`` whole episodes played together (one network call per step for every agent). The
  critic predicts normalised values (:class:`~grsn_edu.rl.agents.ValueNorm`, the default; or the team reward is
  scaled by the running spread of its discounted return, :class:`~grsn_edu.rl.agents.ReturnNormalizer`); an
  episode cut by the time limit is topped up with the critic's value of its final state
  (:func:`~grsn_edu.rl.gae.bootstrap_truncated`); advantages are GAE on the team's value, the same for every
  agent of the team.
* **Update.** ``update_epochs`` epochs; each splits the episodes into ``num_minibatches`` groups and replays
  every agent's whole episode through the policy from a fresh state (what acting computed before the first
  step, up to float rounding), then takes one step of :func:`~grsn_edu.rl.ppo.clipped_ppo_loss` over every
  agent-step that happened (entropy bonus included) with the critic's value loss (Huber by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from grsn_edu.rl.agents import HEAD_INITS, ReturnNormalizer, ValueNorm
from grsn_edu.rl.gae import bootstrap_truncated, gae
from grsn_edu.rl.ppo import clipped_ppo_loss
from grsn_edu.rl.team import (
    TEAM_EVAL_COLUMNS,
    TEAM_TRAIN_COLUMNS,
    AgentNetwork,
    TeamConfig,
    TeamProgress,
    agent_network,
    evaluate_and_save,
    finish_team_run,
    play_team_episodes,
    team_envs,
)
from grsn_edu.rl.training import RunFolder, seed_run

__all__ = ["MAPPOConfig", "FIRST_MAPPO_SETTINGS", "CRITIC_ACTIVATIONS", "TeamCritic", "team_critic",
           "sampler", "mappo_advantages", "replay_team_policy", "mappo_update",
           "train_mappo", "MAPPO_UPDATE_COLUMNS"]

#: Columns of a MAPPO run's ``update_stats.csv``: one row per update.
MAPPO_UPDATE_COLUMNS = ["episode", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
                        "explained_variance"]


@dataclass
class MAPPOConfig(TeamConfig):
    """Every setting of a MAPPO run (the shared ones: :class:`~grsn_edu.rl.team.TeamConfig`); saved as
    ``config.json``.

    The defaults follow MAPPO's reference code for the particle-world tasks (marlbenchmark/on-policy,
    ``train_mpe_spread.sh``): rollouts of 128 whole episodes, one minibatch, 10 epochs, Adam lr 7e-4 for actor and
    critic, clip 0.2, entropy bonus 0.01, GAE lambda 0.95, gradient norm 10, value normalisation, Huber value loss
    (delta 10), a critic of 64 units with orthogonal initialisation, and the policy's output layer at gain 0.01.
    Where they differ from it: the critic is ReLU (the reference's spread script runs tanh: its ``--use_ReLU``
    flag switches ReLU off), an MLP on the global state and the time rather than a recurrent network, without
    LayerNorm; the time limit is bootstrapped (``bootstrap_time_limit``); no value clipping. The agents are the
    course's cores, fed the observation, the agent's id and its previous action (the reference's actor: LayerNorm,
    two tanh layers, a GRU, LayerNorm). ``data/marl_settings/`` measures what each setting changed against the
    settings used before (:data:`FIRST_MAPPO_SETTINGS`) and against the reference's choices."""

    episodes: int = 800_000  # 20M environment steps of the 25-step navigation tasks (the reference's budget)
    num_envs: int = 128  # episodes per rollout (3,200 environment steps on the 25-step tasks)
    eval_interval: int = 6_400  # 160,000 environment steps of the 25-step tasks
    head_gain: float | None = 0.01
    lr: float = 7e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    update_epochs: int = 10
    num_minibatches: int = 1  # groups of whole episodes per epoch
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 1.0
    max_grad_norm: float = 10.0
    normalize_returns: bool = False  # scale the rewards by the running spread of the discounted return
    value_norm: bool = True  # the critic learns normalised values (ValueNorm)
    huber_delta: float | None = 10.0  # Huber value loss with this threshold (None: squared error)
    critic_hidden: int = 64
    critic_activation: str = "relu"  # relu or tanh
    critic_init: str = "orthogonal"  # orthogonal or default (PyTorch's)
    # an episode cut by the time limit: its last reward topped up with gamma * V(final state), the value of the
    # steps it would have gone on for (True); or the time limit taken as the end of the task (False), as the
    # reference code does (its use_proper_time_limits=False)
    bootstrap_time_limit: bool = True

    def validate(self) -> MAPPOConfig:
        """Raise ValueError with a clear message for any setting out of range."""
        self._validate_team(("update_epochs", "num_minibatches", "critic_hidden"))
        if self.num_envs % self.num_minibatches:
            raise ValueError(f"num_envs ({self.num_envs}) must be divisible by num_minibatches "
                             f"({self.num_minibatches})")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        for name in ("lr", "clip_coef", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("normalize_returns", "value_norm", "bootstrap_time_limit"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.normalize_returns and self.value_norm:
            raise ValueError("normalize_returns and value_norm are two ways of scaling the critic's targets; "
                             "choose one")
        if self.huber_delta is not None and not self.huber_delta > 0:
            raise ValueError(f"huber_delta must be None or > 0, got {self.huber_delta}")
        if self.critic_activation not in CRITIC_ACTIVATIONS:
            raise ValueError(f"critic_activation must be one of {', '.join(CRITIC_ACTIVATIONS)}, "
                             f"got {self.critic_activation!r}")
        if self.critic_init not in HEAD_INITS:
            raise ValueError(f"critic_init must be one of {', '.join(HEAD_INITS)}, got {self.critic_init!r}")
        return self

    @property
    def algo(self) -> str:
        return "mappo"

    @classmethod
    def from_dict(cls, config: dict):
        """The settings saved in a run folder or checkpoint. A run saved before a setting existed ran as
        :data:`FIRST_MAPPO_SETTINGS` has it, so it is read back with that value, not today's default."""
        config = {**{k: v for k, v in FIRST_MAPPO_SETTINGS.items() if k in _ADDED_SETTINGS}, **config}
        return super().from_dict(config)


#: The critic's hidden activations.
CRITIC_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}

#: The settings of the MAPPO runs made before the reference code's were adopted (``data/marl/``, 1M steps): rollouts
#: of 32 episodes in 2 minibatches, the rewards scaled by the running spread of the return, squared value loss, a
#: tanh critic of 128 units and PyTorch's default initialisation.
FIRST_MAPPO_SETTINGS = {"episodes": 40_000, "num_envs": 32, "num_minibatches": 2, "eval_interval": 1_600,
                        "head_gain": None, "normalize_returns": True, "value_norm": False, "huber_delta": None,
                        "critic_hidden": 128, "critic_activation": "tanh", "critic_init": "default",
                        "bootstrap_time_limit": True}

#: Settings added with the reference code's defaults; a config saved without them ran as before.
_ADDED_SETTINGS = ("head_gain", "value_norm", "huber_delta", "critic_activation", "critic_init",
                   "bootstrap_time_limit")


class TeamCritic(nn.Module):
    """The centralised critic: ``V(state, t / T)``, two hidden layers then linear. ``forward(state (..., S),
    time (...)) -> (...)``.

    Args:
        state_size: S.
        hidden: units per hidden layer.
        activation: ``"relu"`` or ``"tanh"``.
        init: ``"orthogonal"`` (hidden layers at gain sqrt(2), the output at gain 1, zero biases) or
            ``"default"`` (PyTorch's).
    """

    def __init__(self, state_size: int, hidden: int = 64, activation: str = "relu", init: str = "orthogonal"):
        super().__init__()
        act = CRITIC_ACTIVATIONS[activation]
        self.net = nn.Sequential(nn.Linear(state_size + 1, hidden), act(), nn.Linear(hidden, hidden), act(),
                                 nn.Linear(hidden, 1))
        if init == "orthogonal":
            for layer, gain in zip(self.net[::2], (2**0.5, 2**0.5, 1.0)):
                nn.init.orthogonal_(layer.weight, gain)
                nn.init.zeros_(layer.bias)

    def forward(self, state: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([state, time.unsqueeze(-1)], -1)).squeeze(-1)


def team_critic(cfg: MAPPOConfig, state_size: int) -> TeamCritic:
    """The critic a config describes."""
    return TeamCritic(state_size, cfg.critic_hidden, cfg.critic_activation, cfg.critic_init)


def sampler(logprobs: list) -> callable:
    """``select(logits (B, N, A)) -> actions (B, N)`` that samples each agent's action from its policy (torch's
    global generator) and appends the log-probabilities ``(B, N)`` to ``logprobs``."""
    def select(logits: torch.Tensor) -> torch.Tensor:
        dist = torch.distributions.Categorical(logits=logits)
        actions = dist.sample()
        logprobs.append(dist.log_prob(actions))
        return actions
    return select


def _times(T: int, B: int) -> torch.Tensor:
    """``(B, T + 1)``: the fraction of the episode played at each observation, ``t / T``."""
    return (torch.arange(T + 1, dtype=torch.float32) / T).expand(B, T + 1)


@torch.no_grad()
def mappo_advantages(critic: TeamCritic, ep: dict, rewards: torch.Tensor, gamma: float, gae_lambda: float,
                     value_norm: ValueNorm | None = None, bootstrap_time_limit: bool = True):
    """``(advantages (T, B), returns (T, B), values (T, B))`` of a batch of whole episodes.

    ``rewards`` ``(B, T)`` are the (scaled) team rewards; a step where the episode was truncated is topped up
    with ``gamma * V(final state)``; the steps after an episode's end (padding) get no reward and a done flag,
    so nothing flows across them. With ``value_norm`` the critic's outputs are normalised values, turned back
    into returns here: ``values`` and ``returns`` are in the rewards' units. Without ``bootstrap_time_limit`` a
    truncated episode is not topped up: the time limit is the end of the task.
    """
    B, T = rewards.shape
    values_all = critic(ep["state"], _times(T, B))  # (B, T+1)
    if value_norm is not None:
        values_all = value_norm.denormalize(values_all)
    values, final = values_all[:, :-1], values_all[:, 1:]
    ended = (ep["terminated"] + ep["truncated"]).clamp(max=1).bool()
    if bootstrap_time_limit:
        topped = bootstrap_truncated(rewards.T, final.T, ep["truncated"].T.bool(), ep["terminated"].T.bool(), gamma)
    else:
        topped = rewards.T
    dones = (ended | (ep["filled"] == 0)).T.float()
    filled = ep["filled"].T
    adv, ret = gae(topped * filled, values.T * filled, dones, torch.zeros(B), gamma, gae_lambda)
    return adv, ret, values.T


def replay_team_policy(net: AgentNetwork, ep: dict, envs: torch.Tensor) -> torch.Tensor:
    """The policy's logits ``(T, b, N, A)`` for episodes ``envs`` of a rollout, replayed from a fresh state over
    the stored observations and previous actions (with gradients; before any update they equal acting's)."""
    obs = ep["obs"][envs, :-1].transpose(0, 1)  # (T, b, N, O)
    actions = ep["actions"][envs].transpose(0, 1)  # (T, b, N)
    T, b, N = actions.shape
    prev = torch.cat([torch.full((1, b, N), -1, dtype=torch.long), actions[:-1]])
    logits, _ = net(net.build_inputs(obs, prev), net.initial_state(b))
    return logits.view(T, b, N, net.n_actions)


def mappo_update(net: AgentNetwork, critic: TeamCritic, optimizer: torch.optim.Optimizer, ep: dict,
                 logprobs: torch.Tensor, advantages: torch.Tensor, returns: torch.Tensor, old_values: torch.Tensor,
                 cfg: MAPPOConfig, value_norm: ValueNorm | None = None) -> dict:
    """``update_epochs`` epochs of minibatches of whole episodes (see the module docstring); returns the loss
    statistics averaged over minibatches, plus ``explained_variance`` of the rollout's values.

    Shapes: ``logprobs`` ``(T, B, N)`` from acting; ``advantages``, ``returns``, ``old_values`` ``(T, B)``. With
    ``value_norm`` (already updated with this rollout's returns) the critic is trained on normalised returns.
    """
    B, T, N = ep["actions"].shape
    per_mb = B // cfg.num_minibatches
    times = _times(T, B)[:, :-1].T  # (T, B)
    states = ep["state"][:, :-1].transpose(0, 1)  # (T, B, S)
    filled = ep["filled"].T.bool()  # (T, B)
    every_step = bool(filled.all())  # fixed-length episodes: no padding to leave out
    actions = ep["actions"].transpose(0, 1)
    targets = value_norm.normalize(returns) if value_norm is not None else returns
    params = list(net.parameters()) + list(critic.parameters())
    stats = []
    for _ in range(cfg.update_epochs):
        perm = torch.randperm(B)
        for k in range(cfg.num_minibatches):
            mb = perm[k * per_mb:(k + 1) * per_mb]
            logits = replay_team_policy(net, ep, mb)  # (T, b, N, A)
            values = critic(states[:, mb], times[:, mb])  # (T, b)
            if every_step:
                def per_agent(team_values):  # the team's value (T, b) for each of its agents, flattened
                    return team_values.unsqueeze(-1).expand(-1, -1, N).reshape(-1)
                agent_steps = logits.reshape(-1, net.n_actions), actions[:, mb].reshape(-1), logprobs[:, mb].reshape(-1)
            else:
                agents = filled[:, mb].unsqueeze(-1).expand(-1, -1, N)  # every agent-step that happened

                def per_agent(team_values, agents=agents):
                    return team_values.unsqueeze(-1).expand(-1, -1, N)[agents]
                agent_steps = logits[agents], actions[:, mb][agents], logprobs[:, mb][agents]
            loss, s = clipped_ppo_loss(agent_steps[0], per_agent(values), agent_steps[1], agent_steps[2],
                                       per_agent(advantages[:, mb]), per_agent(targets[:, mb]), cfg.clip_coef,
                                       cfg.vf_coef, cfg.ent_coef, huber_delta=cfg.huber_delta)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            stats.append(s)
    out = {key: float(np.mean([s[key] for s in stats])) for key in stats[0]}
    ret, val = returns[filled], old_values[filled]
    variance = float(ret.var())
    out["explained_variance"] = 1.0 - float((ret - val).var()) / variance if variance else float("nan")
    return out


def train_mappo(cfg: MAPPOConfig, out_dir: str | Path, resume: bool = False, progress: bool = True,
                env_fn=None) -> dict:
    """Train one MAPPO run; write ``config.json``, ``train_curve.csv``, ``eval_curve.csv``, ``update_stats.csv``
    and ``checkpoint.pt``. Arguments as :func:`~grsn_edu.rl.qmix.train_marl`; a resumed run continues exactly
    (every generator and the return normaliser are in the checkpoint)."""
    cfg.validate()
    seed_run(cfg)
    envs, eval_envs = team_envs(cfg, cfg.num_envs, env_fn), team_envs(cfg, cfg.eval_episodes, env_fn)
    N, O, A, S = envs.n_agents, envs.obs_size, envs.n_actions, envs.state_size
    net, critic = agent_network(cfg, O, N, A), team_critic(cfg, S)
    normalizer = ReturnNormalizer(cfg.num_envs, cfg.gamma)
    value_norm = ValueNorm() if cfg.value_norm else None
    optimizer = torch.optim.Adam(list(net.parameters()) + list(critic.parameters()), lr=cfg.lr, eps=1e-5)
    parts = {"model": net, "critic": critic, "optimizer": optimizer, "return_normalizer": normalizer}
    if value_norm is not None:
        parts["value_norm"] = value_norm
    run = RunFolder(out_dir, cfg, TEAM_TRAIN_COLUMNS, TEAM_EVAL_COLUMNS, MAPPO_UPDATE_COLUMNS)
    saved = run.resume(parts) if resume else {"episode": 0, "env_steps": 0}
    start, env_steps = saved["episode"], saved["env_steps"]
    run.write_config()
    bar = TeamProgress(cfg, "mappo", start, progress)
    B = cfg.num_envs
    for episode in range(start, cfg.episodes, B):
        logprobs = []  # 1. act: B whole episodes, every agent sampling from the shared policy
        seeds = [cfg.seed * 1_000_003 + episode + b for b in range(B)]
        ep = play_team_episodes(envs, net, seeds, sampler(logprobs))
        T = len(logprobs)
        ep = {k: (v[:, :T + 1] if k in ("obs", "state") else v[:, :T]) if v.dim() > 1 else v for k, v in ep.items()}
        env_steps += int(ep["steps"].sum())
        rewards = ep["reward"]  # 2. scale the team rewards, then GAE on the team's value
        if cfg.normalize_returns:
            ended = (ep["terminated"] + ep["truncated"]).bool()
            rewards = torch.stack([normalizer(rewards[:, t] * ep["filled"][:, t], ended[:, t]) for t in range(T)], 1)
        advantages, returns, values = mappo_advantages(critic, ep, rewards, cfg.gamma, cfg.gae_lambda, value_norm,
                                                       cfg.bootstrap_time_limit)
        if value_norm is not None:
            value_norm.update(returns[ep["filled"].T.bool()])
        stats = mappo_update(net, critic, optimizer, ep, torch.stack(logprobs), advantages, returns, values, cfg,
                             value_norm)
        done = episode + B
        run.update_rows.append({"episode": done, **stats})
        run.train_rows.append({"episode": done, "env_steps": env_steps, "team_return": float(ep["return"].mean()),
                               "loss": stats["policy_loss"] + cfg.vf_coef * stats["value_loss"]})
        bar.update(B, run.train_rows, ev=f"{stats['explained_variance']:.2f}")
        evaluate_and_save(run, parts, eval_envs, net, cfg, bar, done, env_steps, [O, N, A, S])  # 3. evaluate
    return finish_team_run(run, bar, start, cfg, envs, eval_envs)
