"""QMIX and VDN with recurrent agents: cooperative multi-agent RL with any core from :func:`grsn_edu.make_core`.

Centralised training, decentralised execution (CTDE). Each agent acts on its own observation history through
one recurrent agent network shared by all agents (:class:`~grsn_edu.rl.team.AgentNetwork`: its input is the
observation, the agent's id one-hot and its previous action one-hot). Training learns per-agent utilities
Q_i(history_i, a_i) whose mix is the team's value:

* **VDN** (Sunehag et al. 2018): Q_tot = sum_i Q_i.
* **QMIX** (Rashid et al. 2018): Q_tot = f(Q_1..Q_N; s), a mixing network whose weights are produced from the
  global state s by hypernetworks and made non-negative (absolute value), so dQ_tot/dQ_i >= 0: each agent's
  greedy action on its own Q_i is also greedy for Q_tot (monotonic mixing), which is what makes decentralised
  execution consistent with the centralised value.

The algorithm, top to bottom (the PyMARL recipe at a CPU budget):

1. **Act.** ``num_envs`` episodes are played together with epsilon-greedy actions per agent (epsilon annealed
   linearly), one network call per step for every agent of every episode; the agent network's state is carried
   across steps (TAP for spiking cores) and starts fresh each episode
   (:func:`~grsn_edu.rl.team.play_team_episodes`).
2. **Store** the whole episodes in a replay buffer of episodes (observations, global states, actions, team
   reward, termination: :class:`~grsn_edu.rl.episode_buffer.EpisodeBuffer`).
3. **Learn** on a batch of stored episodes: replay the agent network over each whole episode from a fresh state
   (so the recurrent state is what acting would have produced with the current weights), take
   Q_i of the chosen actions, mix them, and regress on the double-Q target
   r + gamma * mix_target(Q_target_i(h', argmax_a Q_i(h', a)); s') (:func:`double_q_targets`,
   :func:`masked_td_loss`, :func:`qmix_update`) with a target network refreshed every
   ``target_update_interval`` episodes; ``updates_per_episode`` updates per episode played.
4. **Evaluate** greedily every ``eval_interval`` episodes (:func:`~grsn_edu.rl.team.evaluate_team`); write curves
   and a checkpoint atomically (:class:`grsn_edu.rl.training.RunFolder`).

Returns are the **team return: the per-step rewards summed over agents and over the episode's steps**.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from grsn_edu.rl.episode_buffer import EpisodeBuffer
from grsn_edu.rl.mixers import MIXERS, QMixer, VDNMixer
from grsn_edu.rl.team import (
    TEAM_EVAL_COLUMNS,
    TEAM_TRAIN_COLUMNS,
    AgentNetwork,
    TeamActor,  # noqa: F401 - where code written for earlier versions imports the team's parts from
    TeamConfig,
    TeamProgress,
    agent_network,
    env_sizes,  # noqa: F401
    epsilon_greedy,
    evaluate_and_save,
    evaluate_marl,  # noqa: F401
    finish_team_run,
    play_team_episodes,
    run_episode,  # noqa: F401
    team_envs,
)
from grsn_edu.rl.training import RunFolder, seed_run

__all__ = ["MARL_TRAIN_COLUMNS", "MARL_EVAL_COLUMNS", "MARLConfig", "double_q_targets", "masked_td_loss",
           "qmix_update", "train_marl"]


MARL_TRAIN_COLUMNS, MARL_EVAL_COLUMNS = TEAM_TRAIN_COLUMNS, TEAM_EVAL_COLUMNS  # the curves' columns


@dataclass
class MARLConfig(TeamConfig):
    """Every setting of a QMIX or VDN run (the shared ones: :class:`~grsn_edu.rl.team.TeamConfig`); saved as
    ``config.json``. Intervals count episodes; a batch of ``num_envs`` episodes is played, stored, and followed by
    ``updates_per_episode * num_envs`` updates, so the updates per environment step do not depend on
    ``num_envs``."""

    value_based = True  # (not a setting) the agents' network gives Q-values

    mixer: str = "qmix"
    lr: float = 5e-4
    gamma: float = 0.99
    batch_size: int = 32
    updates_per_episode: int = 1  # gradient steps on fresh batches per episode played (the replay ratio)
    buffer_episodes: int = 5000
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_anneal_episodes: int = 1000
    target_update_interval: int = 200  # episodes (PyMARL's default; 100 let GRSN+QMIX runs diverge)
    mixing_embed_dim: int = 32
    hypernet_hidden: int = 64
    grad_clip: float = 10.0

    def validate(self) -> MARLConfig:
        """Raise ValueError with a clear message for any setting out of range."""
        if self.mixer not in MIXERS:
            raise ValueError(f"unknown mixer {self.mixer!r}; known mixers: {', '.join(MIXERS)}")
        self._validate_team(("batch_size", "updates_per_episode", "buffer_episodes", "epsilon_anneal_episodes",
                             "target_update_interval", "mixing_embed_dim", "hypernet_hidden"))
        if self.target_update_interval % self.num_envs:
            raise ValueError(f"target_update_interval ({self.target_update_interval}) must be a multiple of num_envs "
                             f"({self.num_envs})")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        return self

    @property
    def algo(self) -> str:
        return self.mixer


# -- Learn: the QMIX / VDN target and loss -------------------------------------------------------------------------
def double_q_targets(q_next: torch.Tensor, q_target_next: torch.Tensor, target_mixer: nn.Module,
                     next_states: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor,
                     gamma: float) -> torch.Tensor:
    """The double-Q team target ``y = r + gamma * (1 - terminated) * mix_target(Q_target_i(h', a*_i); s')``, with
    ``a*_i = argmax_a Q_i(h', a)`` chosen by the *online* network and evaluated by the target network.

    Shapes: T steps, B episodes, N agents, A actions, S state features.

    Args:
        q_next: ``(T, B, N, A)`` online Q at the next step; q_target_next: the same from the target network.
        target_mixer: the target mixer, ``(T, B, N), (T, B, S) -> (T, B)``.
        next_states: ``(T, B, S)`` the global state at the next step.
        reward, terminated: ``(T, B)`` the team reward and 1 where the episode terminated at that step (no future).
        gamma: discount.

    Returns:
        ``(T, B)`` targets (no gradient).
    """
    with torch.no_grad():
        best_next = q_next.argmax(-1, keepdim=True)
        next_q = q_target_next.gather(-1, best_next).squeeze(-1)  # (T, B, N)
        return reward + gamma * (1 - terminated) * target_mixer(next_q, next_states)


def masked_td_loss(q_tot: torch.Tensor, targets: torch.Tensor, filled: torch.Tensor) -> torch.Tensor:
    """Mean squared TD error over the steps that happened: ``sum(filled * (Q_tot - y)^2) / sum(filled)``.

    ``filled`` ``(T, B)`` is 1 for a step the episode played and 0 for the padding after its end.
    """
    return ((q_tot - targets).pow(2) * filled).sum() / filled.sum()


def qmix_update(net: AgentNetwork, mixer: nn.Module, target_net: AgentNetwork, target_mixer: nn.Module,
                optimizer: torch.optim.Optimizer, params: list, batch: dict, cfg: MARLConfig) -> float:
    """One gradient step on a batch of whole episodes (:meth:`EpisodeBuffer.sample`); returns the loss.

    Both networks replay every episode from a fresh state (the recurrent state is what acting would have produced
    with the current weights); Q_i of the chosen actions are mixed and regressed on :func:`double_q_targets`.
    """
    B, T, N = batch["actions"].shape
    obs = batch["obs"].transpose(0, 1)  # (T+1, B, N, O)
    actions = batch["actions"].transpose(0, 1)  # (T, B, N)
    prev = torch.cat([torch.full((1, B, N), -1, dtype=torch.long), actions])  # (T+1, B, N)
    inputs = net.build_inputs(obs, prev)
    q, _ = net(inputs, net.initial_state(B))  # (T+1, B*N, A)
    q = q.view(T + 1, B, N, net.n_actions)
    with torch.no_grad():
        q_target, _ = target_net(inputs, target_net.initial_state(B))
    states = batch["state"].transpose(0, 1)  # (T+1, B, S)
    if cfg.obs_clip is not None:
        states = states.clamp(-cfg.obs_clip, cfg.obs_clip)
    y = double_q_targets(q[1:], q_target.view(T + 1, B, N, net.n_actions)[1:], target_mixer, states[1:],
                         batch["reward"].T, batch["terminated"].T, cfg.gamma)
    chosen = q[:-1].gather(-1, actions.unsqueeze(-1)).squeeze(-1)  # (T, B, N)
    loss = masked_td_loss(mixer(chosen, states[:-1]), y, batch["filled"].T)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(params, cfg.grad_clip)
    optimizer.step()
    return loss.item()


# -- the loop ------------------------------------------------------------------------------------------------------
def _mixer(cfg: MARLConfig, n_agents: int, state_size: int) -> nn.Module:
    if cfg.mixer == "qmix":
        return QMixer(n_agents, state_size, cfg.mixing_embed_dim, cfg.hypernet_hidden)
    return VDNMixer()


def _epsilon(cfg: MARLConfig, episode: int) -> float:
    """Exploration of training episode ``episode``: linear from ``epsilon_start`` to ``epsilon_end``."""
    frac = min(1.0, episode / cfg.epsilon_anneal_episodes)
    return cfg.epsilon_start + frac * (cfg.epsilon_end - cfg.epsilon_start)


def train_marl(cfg: MARLConfig, out_dir: str | Path, resume: bool = False, progress: bool = True,
               env_fn=None) -> dict:
    """Train one QMIX/VDN run; write ``config.json``, ``train_curve.csv``, ``eval_curve.csv``, ``checkpoint.pt``.

    Args:
        cfg: the settings.
        out_dir: the run folder.
        resume: continue from the checkpoint (weights, optimiser, counters, curves, random generators); the replay
            buffer is not saved, so a resumed run refills it and is not bit-identical to an uninterrupted one.
        progress: show a progress bar (episodes, running team return, last greedy evaluation).
        env_fn: a factory of any PettingZoo Parallel env with discrete actions (default: the registered
            ``cfg.env_id``); ``cfg.env_id`` then only names the run.
    """
    cfg.validate()
    seed_run(cfg)
    envs, eval_envs = team_envs(cfg, cfg.num_envs, env_fn), team_envs(cfg, cfg.eval_episodes, env_fn)
    N, O, A, S, T = envs.n_agents, envs.obs_size, envs.n_actions, envs.state_size, envs.max_steps
    net, mixer = agent_network(cfg, O, N, A), _mixer(cfg, N, S)
    target_net, target_mixer = agent_network(cfg, O, N, A), _mixer(cfg, N, S)
    params = list(net.parameters()) + list(mixer.parameters())
    optimizer = torch.optim.Adam(params, lr=cfg.lr)
    parts = {"model": net, "mixer": mixer, "optimizer": optimizer}
    run = RunFolder(out_dir, cfg, MARL_TRAIN_COLUMNS, MARL_EVAL_COLUMNS)
    saved = run.resume(parts) if resume else {"episode": 0, "env_steps": 0}
    start, env_steps = saved["episode"], saved["env_steps"]
    # Exploration and batch sampling have their own generators, seeded from the episode a session starts at.
    rng = np.random.default_rng(cfg.seed + 7919 * start)
    gen = torch.Generator().manual_seed(cfg.seed + 7919 * start)
    target_net.load_state_dict(net.state_dict())
    target_mixer.load_state_dict(mixer.state_dict())
    run.write_config()
    buffer = EpisodeBuffer(cfg.buffer_episodes, T, N, O, S)
    bar = TeamProgress(cfg, cfg.mixer, start, progress)
    B = cfg.num_envs
    for episode in range(start, cfg.episodes, B):
        epsilon = _epsilon(cfg, episode)  # 1-2. act (B episodes together) and store
        seeds = [cfg.seed * 1_000_003 + episode + b for b in range(B)]
        ep = play_team_episodes(envs, net, seeds, epsilon_greedy(epsilon, rng))
        buffer.add_batch(ep)
        env_steps += int(ep["steps"].sum())
        losses = []  # 3. learn, once the buffer holds a batch
        for _ in range(cfg.updates_per_episode * B if buffer.size >= cfg.batch_size else 0):
            batch = buffer.sample(cfg.batch_size, gen)
            losses.append(qmix_update(net, mixer, target_net, target_mixer, optimizer, params, batch, cfg))
        done = episode + B
        if done % cfg.target_update_interval == 0:
            target_net.load_state_dict(net.state_dict())
            target_mixer.load_state_dict(mixer.state_dict())
        run.train_rows.append({"episode": done, "env_steps": env_steps, "team_return": float(ep["return"].mean()),
                               "loss": float(np.mean(losses)) if losses else float("nan")})
        bar.update(B, run.train_rows, eps=f"{epsilon:.2f}")
        evaluate_and_save(run, parts, eval_envs, net, cfg, bar, done, env_steps, [O, N, A, S])  # 4. evaluate
    return finish_team_run(run, bar, start, cfg, envs, eval_envs)
