"""Recurrent PPO for partially observable control, with any core from :func:`grsn_edu.make_core`.

Why PPO and not DRQN. Recurrent PPO (Schulman et al. 2017, with the recurrent-batch layout of CleanRL's
``ppo_atari_lstm``) is on-policy: each update uses the sequences the current policy just collected, starting from
the exact recurrent state the agent had when it collected them, so there is no stale stored state to "burn in" as
in DRQN replay. It vectorizes over environments (32 CartPoles step together, so the core runs one batched T=1
call per step), and a quick prototype here learned GRU on CartPole-P in about 100k environment steps, under a
minute, while DRQN-style replay was about 20x slower per environment step. The defaults (:class:`PPOConfig`) are
sb3-contrib ``RecurrentPPO``'s on its own CartPoleNoVel test (observation and return normalisation, GAE lambda
0.98, 10 epochs, a separate critic with a 64-unit tanh layer) with 32 environments x 32 steps per rollout and a
learning rate of 3e-4 decayed to 0; ``data/ppo_recipe/`` records what each of those settings did.

The algorithm, top to bottom:

1. **Act.** ``num_envs`` environments step together. The agent's core state is carried across environment steps
   (TAP) and reset where an episode starts (``episode_start`` masks); a non-TAP core runs its sub-steps inside
   each call. ``num_steps`` steps make a rollout; the state at the rollout's start is kept
   (:func:`collect_rollout`).
2. **Advantages.** Generalised advantage estimation (GAE, gamma, lambda). An episode cut by the time limit
   (truncated, not failed) is bootstrapped from the value of its last observation (:mod:`grsn_edu.rl.gae`).
3. **Learn.** For ``update_epochs`` epochs, the environments are split into ``num_minibatches`` groups; each
   group's whole rollout sequence ``(num_steps, envs)`` is replayed through the core from its stored start
   state, with the same ``episode_start`` masks (so episode boundaries inside a sequence reset the state exactly
   as they did while acting: :func:`replay_policy`), and the clipped PPO loss is minimised
   (:func:`clipped_ppo_loss`, :func:`ppo_update`).
4. **Evaluate.** Every ``eval_interval`` steps, ``eval_episodes`` greedy episodes (argmax action) are run on
   fresh environments (:func:`evaluate`), and a checkpoint is written (:class:`grsn_edu.rl.training.RunFolder`).

Run ``grsn-edu train --help`` for the command line; :func:`train` is the function behind it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from grsn_edu.envs.cartpole import VECTOR_BACKENDS
from grsn_edu.envs.gym_tasks import make_env, make_vector_env
from grsn_edu.rl.agents import HEAD_INITS, PolicyActor, RecurrentActorCritic, ReturnNormalizer, map_state
from grsn_edu.rl.episodes import play_vector_episodes
from grsn_edu.rl.gae import bootstrap_truncated, gae
from grsn_edu.rl.presets import AGENTS, agent_label, config_dict_with_agent, settle_agent
from grsn_edu.rl.training import RunFolder, load_run_config, seed_run
from grsn_edu.util.files import load_checkpoint
from grsn_edu.util.validation import check_int

__all__ = ["PPOConfig", "check_env_for_ppo", "agent_for_task", "train", "evaluate", "load_agent", "load_config",
           "summarize", "TRAIN_COLUMNS", "EVAL_COLUMNS", "UPDATE_COLUMNS", "ADVANTAGE_NORMS", "Acting", "Rollout",
           "collect_rollout", "replay_policy", "clipped_ppo_loss", "ppo_update"]

#: Columns of ``train_curve.csv``: one row per finished training episode.
TRAIN_COLUMNS = ["global_step", "episode_return", "episode_length", "return_ma20"]
#: Columns of ``eval_curve.csv``: one row per evaluation checkpoint.
EVAL_COLUMNS = [
    "global_step",
    "eval_return_mean",
    "eval_return_std",
    "eval_return_min",
    "eval_episodes",
    "train_return_ma20",
    "firing_rate",
    "wall_time_s",
]
#: Columns of ``update_stats.csv``: one row per update (rollout + its epochs of gradient steps). ``learning_rate``
#: is the rate of that update; ``policy_loss``, ``value_loss``, ``entropy``, ``approx_kl`` and ``clip_fraction``
#: are means over every minibatch of every epoch (:func:`clipped_ppo_loss`; the value loss is in the units of the
#: value targets, i.e. of the scaled rewards under ``normalize_returns``); ``explained_variance`` is
#: ``1 - Var(returns - values) / Var(returns)`` of the values the rollout was collected with (1: the value function
#: predicts the returns; 0 or below: no better than a constant).
UPDATE_COLUMNS = ["global_step", "update", "learning_rate", "policy_loss", "value_loss", "entropy", "approx_kl",
                  "clip_fraction", "explained_variance"]
#: Where advantages are normalised to zero mean and unit standard deviation: over each ``minibatch``, over the
#: whole rollout (``batch``) or not at all (``off``).
ADVANTAGE_NORMS = ("minibatch", "batch", "off")


def check_env_for_ppo(env_id: str) -> None:
    """Raise ValueError, saying what the trainer takes, unless ``env_id`` is a registered task with one discrete
    action space and observations that flatten into a fixed-size vector (:func:`~grsn_edu.envs.gym_tasks.make_env`
    flattens them: a ``Discrete`` value becomes a one-hot vector)."""
    env = make_env(env_id)  # flattens the observations, or says why it cannot
    try:
        actions = env.action_space
    finally:
        env.close()
    if not isinstance(actions, gym.spaces.Discrete):
        raise ValueError(f"{env_id} has actions {actions}; this trainer takes tasks with one discrete action space "
                         "(gymnasium.spaces.Discrete), such as CartPole-P or CartPole-v1. A task with continuous "
                         "actions needs another algorithm (e.g. stable-baselines3's PPO with a Gaussian policy), or "
                         "its actions discretised by a wrapper registered under a new id.")


@dataclass
class PPOConfig:
    """Every setting of a run. Saved as ``config.json`` in the run folder."""

    env_id: str = "CartPole-P"
    agent: str = "grsn"  # one of grsn_edu.rl.presets.AGENTS: its core, core options and sub-steps
    seed: int = 0
    total_steps: int = 100_000  # environment steps, summed over the vectorized environments
    hidden_size: int = 64
    substeps: int | None = None  # None: the agent's (1 = TAP; 4 = the non-TAP form of a spiking core)
    core_options: dict = field(default_factory=dict)  # laid over the agent's, e.g. {"readout": "membrane"}
    shared_core: bool = False  # False: the value function has its own core of the same kind
    # sb3-contrib RecurrentPPO's settings on its CartPoleNoVel test (data/ppo_recipe/ "peer"), except the rollout
    # shape and the learning rate: 32 environments x 32 steps (as many steps per rollout and per minibatch as its
    # 8 x 128, in 4x shorter sequences, so a quarter of the sequential core calls) and 3e-4 decayed linearly to 0
    # (with a constant 7e-4 GRSN's greedy return kept falling back from 500).
    num_envs: int = 32
    # rollout length per environment = the length of the sequences replayed in training: the gradient reaches back
    # at most num_steps steps, so a task that must learn to remember over k steps needs num_steps well above k
    # (an episode that straddles two rollouts is cut between them)
    num_steps: int = 32
    previous_action: bool = False  # append a one-hot of the previous action to the observation (PreviousAction)
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.98
    num_minibatches: int = 4  # each: num_envs / num_minibatches whole environment sequences
    update_epochs: int = 10
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 1.0  # weight of 0.5 * (V - R)^2, i.e. sb3's vf_coef=0.5
    max_grad_norm: float = 1.0
    # sb3's VecNormalize(norm_reward=True): rewards divided by the running std of the discounted return
    # (ReturnNormalizer), which keeps the value targets of order one; without it the GRU's explained variance stayed
    # near 0 on CartPole-P (data/ppo_recipe/ "normalize_returns=off").
    normalize_returns: bool = True
    advantage_norm: str = "minibatch"  # one of ADVANTAGE_NORMS
    value_hidden: int = 64  # units of a tanh layer in the value head; 0 = a linear head on the value core
    head_init: str = "default"  # one of grsn_edu.rl.agents.HEAD_INITS
    eval_interval: int = 10_000  # environment steps between greedy evaluations (and checkpoints)
    eval_episodes: int = 20
    threads: int = 1
    # how the environments are stepped (grsn_edu.envs.cartpole.VECTOR_BACKENDS): the same episodes either way
    vector_backend: str = "auto"

    def __post_init__(self):
        settle_agent(self)

    @classmethod
    def from_dict(cls, config: dict) -> PPOConfig:
        """The settings saved in a run folder or checkpoint (also those saved before agents had names)."""
        return cls(**config_dict_with_agent(config))

    @property
    def core(self) -> str:
        """The agent's core (a name of :func:`grsn_edu.make_core`)."""
        return AGENTS[self.agent].core

    def validate(self) -> PPOConfig:
        """Raise ValueError with a clear message for any setting out of range."""
        check_env_for_ppo(self.env_id)
        for name in ("total_steps", "hidden_size", "substeps", "num_envs", "num_steps", "num_minibatches",
                     "update_epochs", "eval_interval", "eval_episodes", "threads"):
            setattr(self, name, check_int(name, getattr(self, name)))
        if self.num_envs % self.num_minibatches:
            raise ValueError(f"num_envs ({self.num_envs}) must be divisible by num_minibatches "
                             f"({self.num_minibatches})")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        for name in ("clip_coef", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("anneal_lr", "normalize_returns", "shared_core", "previous_action"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.vector_backend not in VECTOR_BACKENDS:
            raise ValueError(f"vector_backend must be one of {', '.join(VECTOR_BACKENDS)}, got {self.vector_backend!r}")
        if self.vector_backend == "numpy" and self.previous_action:
            raise ValueError("previous_action needs vector_backend 'sync' or 'auto' (the numpy backend steps "
                             "CartPole's observations alone)")
        if self.advantage_norm not in ADVANTAGE_NORMS:
            raise ValueError(f"advantage_norm must be one of {', '.join(ADVANTAGE_NORMS)}, got {self.advantage_norm!r}")
        if self.head_init not in HEAD_INITS:
            raise ValueError(f"head_init must be one of {', '.join(HEAD_INITS)}, got {self.head_init!r}")
        self.value_hidden = check_int("value_hidden", self.value_hidden, minimum=0)
        envs_per_minibatch = self.num_envs // self.num_minibatches
        if self.advantage_norm == "minibatch" and envs_per_minibatch * self.num_steps < 2:
            raise ValueError("advantage_norm='minibatch' needs at least 2 steps per minibatch "
                             f"(num_envs / num_minibatches * num_steps = {envs_per_minibatch * self.num_steps})")
        if self.total_steps < self.num_envs * self.num_steps:
            raise ValueError(
                f"total_steps ({self.total_steps}) is less than one rollout (num_envs * num_steps = "
                f"{self.num_envs * self.num_steps})"
            )
        return self

    @property
    def label(self) -> str:
        """Short name of the agent, e.g. ``grsn`` or ``grsn-notap`` (:func:`~grsn_edu.rl.presets.agent_label`)."""
        return agent_label(self.agent, self.substeps)


def build_agent(cfg: PPOConfig, obs_size: int, n_actions: int) -> RecurrentActorCritic:
    """The actor-critic of a run's settings (core, hidden size, value head, head initialisation, sub-steps and core
    options), untrained, for ``obs_size`` observation features and ``n_actions`` discrete actions."""
    return RecurrentActorCritic(
        obs_size, n_actions, cfg.core, cfg.hidden_size, shared_core=cfg.shared_core, value_hidden=cfg.value_hidden,
        head_init=cfg.head_init, substeps=cfg.substeps, **cfg.core_options
    )


def agent_for_task(cfg: PPOConfig) -> RecurrentActorCritic:
    """:func:`build_agent` for the observation and action sizes of ``cfg.env_id`` as the trainer makes it."""
    probe = make_env(cfg.env_id, previous_action=cfg.previous_action)
    try:
        return build_agent(cfg, probe.observation_space.shape[0], int(probe.action_space.n))
    finally:
        probe.close()


@torch.no_grad()
def evaluate(agent: RecurrentActorCritic, env_id: str, episodes: int = 20, seed: int = 10_000, greedy: bool = True,
             backend: str = "auto", previous_action: bool = False):
    """Run ``episodes`` episodes in parallel (one environment each) and return their returns and firing rate.

    Environment ``i`` is reset with seed ``seed + i`` and counts until the end of its first episode. The agent
    acts with its policy side alone (:class:`~grsn_edu.rl.agents.PolicyActor`).

    Returns:
        ``(returns, firing_rate)``: a numpy array of ``episodes`` returns, and the mean fraction of hidden units
        that spiked per step (NaN for a non-spiking core). Greedy = argmax action. ``backend`` steps the
        environments (:func:`~grsn_edu.envs.gym_tasks.make_vector_env`; the same episodes with any);
        ``previous_action`` as the agent was trained (its config's).
    """
    envs = make_vector_env(env_id, episodes, seed, backend, previous_action)
    obs, _ = envs.reset(seed=[seed + i for i in range(episodes)])
    actor = PolicyActor(agent, episodes, greedy=greedy, record=agent.core.spiking)
    spikes, spike_steps = 0.0, 0

    def count_spikes(step):
        nonlocal spikes, spike_steps
        if actor.trace is not None:
            spk = actor.trace["spk"]  # (S, B, H), S = sub-steps per decision
            spikes += float(spk[:, step.alive].mean()) * int(step.alive.sum())
            spike_steps += int(step.alive.sum())

    returns = play_vector_episodes(envs, actor, obs, on_step=count_spikes)
    envs.close()
    rate = spikes / spike_steps if spike_steps else float("nan")
    return returns, rate


# -- 1. Act: rollout collection ---------------------------------------------------------------------------------
@dataclass
class Acting:
    """What acting carries from one rollout to the next. B = environments, O = observation features.

    Attributes:
        envs: the vector env (same-step autoreset).
        obs: ``(B, O)`` the observations to act on next (raw).
        start: ``(B,)`` bool, ``obs`` is the first of an episode (the core's state is reset there).
        state: the agent's state (:meth:`RecurrentActorCritic.initial_state` layout).
        episode_return, episode_length: ``(B,)`` of the episodes in progress.
    """

    envs: object
    obs: torch.Tensor
    start: torch.Tensor
    state: dict
    episode_return: np.ndarray
    episode_length: np.ndarray

    @classmethod
    def start_fresh(cls, agent: RecurrentActorCritic, envs, seed: int) -> Acting:
        """Reset environment ``i`` with seed ``seed + i``; every environment starts an episode."""
        num_envs = envs.num_envs
        obs, _ = envs.reset(seed=[seed + i for i in range(num_envs)])
        return cls(envs, torch.as_tensor(obs, dtype=torch.float32), torch.ones(num_envs, dtype=torch.bool),
                   agent.initial_state(num_envs), np.zeros(num_envs), np.zeros(num_envs, dtype=int))


@dataclass
class Rollout:
    """``T`` steps of ``B`` environments, as acting produced them.

    Attributes:
        obs: ``(T, B, O)`` observations, normalised as the agent saw them.
        starts: ``(T, B)`` bool, the observation is the first of an episode.
        actions, logprobs, values: ``(T, B)`` the sampled actions, their log-probabilities and the value estimates.
        rewards: ``(T, B)`` rewards, truncated episodes bootstrapped (:func:`~grsn_edu.rl.gae.bootstrap_truncated`).
        dones: ``(T, B)`` float, 1 where an episode ended at that step.
        start_state: the agent's state before step 0 (a replay of the rollout starts from it).
        next_value: ``(B,)`` the value of the observation after the last step.
        finished: ``(t, return, length)`` of every episode that ended during the rollout, in order.
    """

    obs: torch.Tensor
    starts: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    start_state: dict
    next_value: torch.Tensor
    finished: list


def collect_rollout(agent: RecurrentActorCritic, acting: Acting, num_steps: int, gamma: float,
                    return_normalizer: ReturnNormalizer | None = None) -> Rollout:
    """Act for ``num_steps`` steps in every environment, sampling from the policy; updates ``acting`` in place.

    The observation normaliser is updated with every observation before the agent reads it. With a
    ``return_normalizer`` the stored rewards are scaled by it (its statistics updated at every step). An episode
    cut by the time limit is then bootstrapped from the value of its final observation, read with the state the
    agent had then (the value is in the units of the stored rewards).
    """
    envs, num_envs = acting.envs, acting.envs.num_envs
    obs_size = acting.obs.shape[-1]
    obs_buf = torch.zeros(num_steps, num_envs, obs_size)
    act_buf = torch.zeros(num_steps, num_envs, dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros(num_steps, num_envs) for _ in range(4))
    start_buf = torch.zeros(num_steps, num_envs, dtype=torch.bool)
    start_state = map_state(torch.clone, acting.state)
    finished = []
    for step in range(num_steps):
        agent.normalizer.update(acting.obs)
        obs_buf[step], start_buf[step] = agent.normalizer(acting.obs), acting.start  # stored normalised
        with torch.no_grad():
            logits, value, acting.state = agent(obs_buf[step][None], acting.state, episode_start=acting.start[None],
                                                normalized=True)
            dist = torch.distributions.Categorical(logits=logits[0])
            action = dist.sample()
        act_buf[step], logp_buf[step], val_buf[step] = action, dist.log_prob(action), value[0]
        obs, env_reward, term, trunc, info = envs.step(action.numpy())
        reward = torch.as_tensor(env_reward, dtype=torch.float32)
        if return_normalizer is not None:
            reward = return_normalizer(reward, torch.as_tensor(term | trunc))
        if trunc.any():
            final = torch.as_tensor(np.stack([o if t else np.zeros(obs_size, dtype=np.float32)
                                              for o, t in zip(info["final_obs"], trunc)]), dtype=torch.float32)
            with torch.no_grad():
                _, final_value, _ = agent(final[None], acting.state)
            reward = bootstrap_truncated(reward, final_value[0], trunc, term, gamma)
        done = term | trunc
        rew_buf[step], done_buf[step] = reward, torch.as_tensor(done, dtype=torch.float32)
        acting.obs, acting.start = torch.as_tensor(obs, dtype=torch.float32), torch.as_tensor(done)
        acting.episode_return += env_reward  # the environment's reward, without the bootstrap term
        acting.episode_length += 1
        for i in np.flatnonzero(done):
            finished.append((step, float(acting.episode_return[i]), int(acting.episode_length[i])))
            acting.episode_return[i], acting.episode_length[i] = 0.0, 0
    with torch.no_grad():
        _, next_value, _ = agent(acting.obs[None], acting.state, episode_start=acting.start[None])
    return Rollout(obs_buf, start_buf, act_buf, logp_buf, val_buf, rew_buf, done_buf, start_state, next_value[0],
                   finished)


# -- 3. Learn --------------------------------------------------------------------------------------------------------
def replay_policy(agent: RecurrentActorCritic, rollout: Rollout, envs: torch.Tensor):
    """Replay the whole rollout of environments ``envs`` through the agent from the stored start state, with the
    stored episode starts (so the state is reset inside the sequence where acting reset it).

    Returns:
        ``(logits (T, b, A), values (T, b))`` with gradients; before any update they equal what acting computed up
        to float rounding (the replay may run other kernels than acting's one step at a time).
    """
    state = map_state(lambda v: v[envs], rollout.start_state)
    logits, values, _ = agent(rollout.obs[:, envs], state, episode_start=rollout.starts[:, envs], normalized=True)
    return logits, values


def clipped_ppo_loss(logits: torch.Tensor, values: torch.Tensor, actions: torch.Tensor, old_logprobs: torch.Tensor,
                     advantages: torch.Tensor, returns: torch.Tensor, clip_coef: float, vf_coef: float,
                     ent_coef: float, normalize_advantages: bool = True,
                     huber_delta: float | None = None) -> tuple[torch.Tensor, dict]:
    """PPO's clipped surrogate loss, plus the value loss, minus the entropy bonus.

    ``loss = mean(max(-A r, -A clip(r, 1 - eps, 1 + eps))) + vf_coef * 0.5 * mean((V - R)^2) - ent_coef * H``, with
    the probability ratio ``r = pi(a) / pi_old(a)`` and the advantages A normalised over the minibatch
    (``normalize_advantages``; else used as given). Stable-Baselines3 writes the value term without the 0.5, so
    its ``vf_coef=0.5`` is ``vf_coef=1.0`` here.

    Args:
        logits: ``(..., A)`` the current policy's logits; values ``(...)`` the current value estimates.
        actions, old_logprobs, advantages, returns: ``(...)`` from the rollout and :func:`~grsn_edu.rl.gae.gae`.
        clip_coef, vf_coef, ent_coef: eps, the value loss weight and the entropy weight.
        normalize_advantages: subtract the advantages' mean and divide by their standard deviation (+ 1e-8).
        huber_delta: None, or the value loss is the Huber loss with this threshold: ``0.5 (V - R)^2`` where
            ``|V - R| <= delta`` (the squared loss above), ``delta (|V - R| - delta / 2)`` beyond (a far-off target
            pulls with a bounded gradient).

    Returns:
        ``(loss, stats)``; ``stats`` (floats): ``policy_loss``, ``value_loss``, ``entropy``, ``approx_kl``
        (the ``(r - 1) - log r`` estimator of KL(old || new)) and ``clip_fraction`` (share of ratios outside the
        clip range): large values of the last two mean the update moved the policy too far.

    Example:
        >>> import torch
        >>> logits = torch.zeros(4, 2, requires_grad=True)
        >>> old_logprobs = torch.full((4,), 0.5).log()  # the old policy gave each action probability 0.5
        >>> loss, stats = clipped_ppo_loss(logits, torch.zeros(4), torch.tensor([0, 1, 0, 1]), old_logprobs,
        ...                                torch.tensor([1.0, -1.0, 2.0, 0.0]), torch.zeros(4), 0.2, 0.5, 0.0)
        >>> round(stats["clip_fraction"], 3), round(stats["approx_kl"], 6)
        (0.0, 0.0)
    """
    dist = torch.distributions.Categorical(logits=logits)
    logratio = dist.log_prob(actions) - old_logprobs
    ratio = logratio.exp()
    adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8) if normalize_advantages else advantages
    pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip_coef, 1 + clip_coef)).mean()
    if huber_delta is None:
        v_loss = 0.5 * (values - returns).pow(2).mean()
    else:
        v_loss = torch.nn.functional.huber_loss(values, returns, delta=huber_delta)
    weighted = pg_loss + vf_coef * v_loss
    entropy = dist.entropy().mean()
    loss = weighted - ent_coef * entropy
    with torch.no_grad():
        stats = {"policy_loss": pg_loss.item(), "value_loss": v_loss.item(), "entropy": entropy.item(),
                 "approx_kl": ((ratio - 1) - logratio).mean().item(),
                 "clip_fraction": ((ratio - 1).abs() > clip_coef).float().mean().item()}
    return loss, stats


def ppo_update(agent: RecurrentActorCritic, optimizer: torch.optim.Optimizer, rollout: Rollout,
               advantages: torch.Tensor, returns: torch.Tensor, cfg: PPOConfig) -> dict:
    """``update_epochs`` epochs over the rollout; each splits the environments into ``num_minibatches`` groups and
    takes one gradient step on each group's whole sequences (:func:`replay_policy`, :func:`clipped_ppo_loss`).
    Advantages are normalised as ``cfg.advantage_norm`` says (:data:`ADVANTAGE_NORMS`).

    Returns:
        The loss statistics (:func:`clipped_ppo_loss`) averaged over every minibatch of every epoch, plus
        ``explained_variance`` of the rollout's value estimates.
    """
    num_envs = rollout.actions.shape[1]
    envs_per_mb = num_envs // cfg.num_minibatches
    if cfg.advantage_norm == "batch":
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    per_minibatch = []
    for _ in range(cfg.update_epochs):
        perm = torch.randperm(num_envs)
        for k in range(cfg.num_minibatches):
            mb = perm[k * envs_per_mb : (k + 1) * envs_per_mb]
            logits, values = replay_policy(agent, rollout, mb)
            loss, stats = clipped_ppo_loss(logits, values, rollout.actions[:, mb], rollout.logprobs[:, mb],
                                           advantages[:, mb], returns[:, mb], cfg.clip_coef, cfg.vf_coef, cfg.ent_coef,
                                           normalize_advantages=cfg.advantage_norm == "minibatch")
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
            optimizer.step()
            per_minibatch.append(stats)
    stats = {key: float(np.mean([s[key] for s in per_minibatch])) for key in per_minibatch[0]}
    variance = float(returns.var())
    stats["explained_variance"] = 1.0 - float((returns - rollout.values).var()) / variance if variance else float("nan")
    return stats


# -- the loop ------------------------------------------------------------------------------------------------------
def _episode_row(train_rows: list, global_step: int, episode_return: float, length: int) -> dict:
    recent = [r["episode_return"] for r in train_rows[-19:]] + [episode_return]
    return {"global_step": global_step, "episode_return": episode_return, "episode_length": length,
            "return_ma20": float(np.mean(recent))}


def _eval_row(global_step: int, returns: np.ndarray, rate: float, train_rows: list, wall_time: float) -> dict:
    recent = [r["episode_return"] for r in train_rows[-20:]]
    return {"global_step": global_step, "eval_return_mean": float(returns.mean()),
            "eval_return_std": float(returns.std()), "eval_return_min": float(returns.min()),
            "eval_episodes": len(returns), "train_return_ma20": float(np.mean(recent)) if recent else float("nan"),
            "firing_rate": rate, "wall_time_s": wall_time}


def train(cfg: PPOConfig, out_dir: str | Path, resume: bool = False, progress: bool = True,
          stop_at: float | None = None) -> dict:
    """Train one agent; write ``config.json``, ``train_curve.csv``, ``eval_curve.csv``, ``update_stats.csv``
    (:data:`UPDATE_COLUMNS`) and ``checkpoint.pt``.

    Args:
        cfg: the run's settings.
        out_dir: the run folder (created).
        resume: continue from ``out_dir/checkpoint.pt`` (written at every evaluation). The model, optimiser,
            step count, curves and random generators are restored; environments restart fresh episodes, so a
            resumed run is not bit-identical to an uninterrupted one.
        progress: show a tqdm progress bar (steps, running return).
        stop_at: stop after the first greedy evaluation whose mean return reaches this (None: train to
            ``cfg.total_steps``); the learning-rate schedule is still that of the whole budget.

    Returns:
        A summary dict: final greedy evaluation mean, steps to reach 475 (greedy and training), wall time.
    """
    cfg.validate()
    seed_run(cfg)
    agent = agent_for_task(cfg)
    optimizer = torch.optim.Adam(agent.parameters(), lr=cfg.learning_rate, eps=1e-5)
    parts = {"model": agent, "optimizer": optimizer}
    return_normalizer = None
    if cfg.normalize_returns:
        return_normalizer = parts["return_normalizer"] = ReturnNormalizer(cfg.num_envs, cfg.gamma)
    run = RunFolder(out_dir, cfg, TRAIN_COLUMNS, EVAL_COLUMNS, UPDATE_COLUMNS)
    saved = run.resume(parts) if resume else {"global_step": 0, "update": 0}
    global_step, start_update = saved["global_step"], saved["update"]
    run.write_config()

    batch = cfg.num_envs * cfg.num_steps
    num_updates = cfg.total_steps // batch
    # Environments are seeded from the run seed and the update they start at, so a resumed run gets new episodes.
    envs = make_vector_env(cfg.env_id, cfg.num_envs, cfg.seed * 1000 + start_update, cfg.vector_backend,
                           cfg.previous_action)
    acting = Acting.start_fresh(agent, envs, cfg.seed * 1000 + start_update)
    next_eval = (global_step // cfg.eval_interval + 1) * cfg.eval_interval
    bar = tqdm(total=num_updates * batch, initial=global_step, disable=not progress, unit="step",
               desc=f"{cfg.label} on {cfg.env_id} (seed {cfg.seed})", file=sys.stderr, dynamic_ncols=True)
    for update in range(start_update, num_updates):
        if cfg.anneal_lr:
            optimizer.param_groups[0]["lr"] = cfg.learning_rate * (1.0 - update / num_updates)
        rollout = collect_rollout(agent, acting, cfg.num_steps, cfg.gamma, return_normalizer)  # 1. act
        for t, episode_return, length in rollout.finished:
            run.train_rows.append(_episode_row(run.train_rows, global_step + (t + 1) * cfg.num_envs,
                                               episode_return, length))
        global_step += batch
        bar.update(batch)
        with torch.no_grad():  # 2. advantages
            advantages, returns = gae(rollout.rewards, rollout.values, rollout.dones, rollout.next_value, cfg.gamma,
                                      cfg.gae_lambda)
        stats = ppo_update(agent, optimizer, rollout, advantages, returns, cfg)  # 3. learn
        run.update_rows.append({"global_step": global_step, "update": update + 1,
                                "learning_rate": optimizer.param_groups[0]["lr"], **stats})
        ma20 = run.train_rows[-1]["return_ma20"] if run.train_rows else float("nan")
        bar.set_postfix(return_ma20=f"{ma20:.1f}", approx_kl=f"{stats['approx_kl']:.4f}")

        if global_step >= next_eval or update == num_updates - 1:  # 4. evaluate and checkpoint
            agent.eval()
            eval_returns, rate = evaluate(agent, cfg.env_id, cfg.eval_episodes, seed=10_000 + cfg.seed,
                                          backend=cfg.vector_backend, previous_action=cfg.previous_action)
            agent.train()
            run.eval_rows.append(_eval_row(global_step, eval_returns, rate, run.train_rows, run.wall_time()))
            bar.set_postfix(return_ma20=f"{ma20:.1f}", greedy_eval=f"{eval_returns.mean():.1f}")
            next_eval = (global_step // cfg.eval_interval + 1) * cfg.eval_interval
            run.save(parts, global_step=global_step, update=update + 1)
            if stop_at is not None and eval_returns.mean() >= stop_at:
                break
    bar.close()
    envs.close()
    if start_update >= num_updates:  # resumed a finished run: nothing ran, the files are rewritten as they were
        run.write_curves()
    summary = summarize(*run.curves())
    run.finish(summary)
    return summary


def summarize(train_curve: pd.DataFrame, eval_curve: pd.DataFrame, target: float = 475.0) -> dict:
    """Headline numbers of one run: final greedy return, first steps at which each measure reached ``target``."""

    def first_step(frame, column):
        hit = frame.loc[frame[column] >= target, "global_step"]
        return int(hit.iloc[0]) if len(hit) else None

    return {
        "final_eval_return": float(eval_curve["eval_return_mean"].iloc[-1]) if len(eval_curve) else float("nan"),
        "best_eval_return": float(eval_curve["eval_return_mean"].max()) if len(eval_curve) else float("nan"),
        "final_train_ma20": float(train_curve["return_ma20"].iloc[-1]) if len(train_curve) else float("nan"),
        "steps_to_target_eval": first_step(eval_curve, "eval_return_mean"),
        "steps_to_target_train": first_step(train_curve, "return_ma20"),
        "wall_time_s": float(eval_curve["wall_time_s"].iloc[-1]) if len(eval_curve) else float("nan"),
        "firing_rate": float(eval_curve["firing_rate"].iloc[-1]) if len(eval_curve) else float("nan"),
    }


def load_config(run_dir: str | Path) -> PPOConfig:
    """The :class:`PPOConfig` saved in a run folder."""
    return load_run_config(PPOConfig, run_dir)


def load_agent(path: str | Path) -> tuple[RecurrentActorCritic, PPOConfig]:
    """Load a trained agent from a checkpoint (a run's ``checkpoint.pt`` or ``data/cartpole/agents/*.pt``).

    Returns:
        ``(agent, config)``, the agent in eval mode.

    Example:
        >>> agent, cfg = load_agent("data/cartpole/agents/CartPole-V-grsn.pt")  # doctest: +SKIP
    """
    ckpt = load_checkpoint(path)
    cfg = PPOConfig.from_dict(ckpt["config"])
    agent = agent_for_task(cfg)
    agent.load_state_dict(ckpt["model"])
    agent.eval()
    return agent, cfg
