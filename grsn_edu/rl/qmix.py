"""QMIX and VDN with recurrent agents: cooperative multi-agent RL with any core from :func:`grsn_edu.make_core`.

Centralised training, decentralised execution (CTDE). Each agent acts on its own observation history through
one recurrent agent network shared by all agents (its input: observation, the agent's id one-hot and its previous
action one-hot). Training learns per-agent utilities Q_i(history_i, a_i) whose mix is the team's value:

* **VDN** (Sunehag et al. 2018): Q_tot = sum_i Q_i.
* **QMIX** (Rashid et al. 2018): Q_tot = f(Q_1..Q_N; s), a mixing network whose weights are produced from the
  global state s by hypernetworks and made non-negative (absolute value), so dQ_tot/dQ_i >= 0: each agent's
  greedy action on its own Q_i is also greedy for Q_tot (monotonic mixing), which is what makes decentralised
  execution consistent with the centralised value.

The algorithm, top to bottom (the PyMARL recipe at a CPU budget):

1. **Act.** An episode is played with epsilon-greedy actions per agent (epsilon annealed linearly); the agent
   network's state is carried across steps (TAP for spiking cores) and starts fresh each episode
   (:class:`TeamActor`, :func:`run_episode`).
2. **Store** the whole episode in a replay buffer of episodes (observations, global states, actions, team
   reward, termination: :class:`~grsn_edu.rl.episode_buffer.EpisodeBuffer`).
3. **Learn** on a batch of stored episodes: replay the agent network over each whole episode from a fresh state
   (so the recurrent state is exactly what acting would have produced with the current weights), take
   Q_i of the chosen actions, mix them, and regress on the double-Q target
   r + gamma * mix_target(Q_target_i(h', argmax_a Q_i(h', a)); s') (:func:`double_q_targets`,
   :func:`masked_td_loss`, :func:`qmix_update`) with a target network refreshed every
   ``target_update_interval`` episodes.
4. **Evaluate** greedily every ``eval_interval`` episodes (:func:`evaluate_marl`); write curves and a checkpoint
   atomically (:class:`grsn_edu.rl.training.RunFolder`).

Returns are the **team return: the per-step rewards summed over agents and over the episode's steps**.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from grsn_edu.envs.spread import MARL_IDS, MAX_CYCLES, make_marl_env
from grsn_edu.rl.episode_buffer import EpisodeBuffer
from grsn_edu.rl.episodes import parallel_env_sizes, play_parallel_episode
from grsn_edu.rl.mixers import MIXERS, QMixer, VDNMixer
from grsn_edu.rl.training import RunFolder, seed_run
from grsn_edu.snn.cores import CORE_NAMES, make_core
from grsn_edu.snn.trace import Trace
from grsn_edu.util.files import load_checkpoint
from grsn_edu.util.validation import check_int

__all__ = ["MARL_TRAIN_COLUMNS", "MARL_EVAL_COLUMNS", "MARLConfig", "AgentNetwork", "TeamActor", "EpisodeBuffer",
           "run_episode", "evaluate_marl", "double_q_targets", "masked_td_loss", "qmix_update", "train_marl",
           "load_marl_agent", "env_sizes"]


#: Columns of ``train_curve.csv``: one row per training episode.
MARL_TRAIN_COLUMNS = ["episode", "env_steps", "team_return", "epsilon", "loss"]

#: Columns of ``eval_curve.csv``: one row per greedy evaluation.
MARL_EVAL_COLUMNS = ["episode", "env_steps", "eval_return_mean", "eval_return_std", "eval_episodes",
                     "firing_rate", "spikes_per_decision", "wall_time_s"]


@dataclass
class MARLConfig:
    """Every setting of a multi-agent run; saved as ``config.json``."""

    env_id: str = "simple_spread"
    core: str = "grsn"
    mixer: str = "qmix"
    seed: int = 0
    episodes: int = 3000
    hidden_size: int = 64
    obs_clip: float | None = None  # clamp observations and the mixer's state to [-obs_clip, obs_clip] (None: off)
    substeps: int = 1
    core_options: dict = field(default_factory=dict)
    lr: float = 5e-4
    gamma: float = 0.99
    batch_size: int = 32
    updates_per_episode: int = 1  # gradient steps on fresh batches after each episode (the replay ratio)
    buffer_episodes: int = 5000
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_anneal_episodes: int = 1000
    target_update_interval: int = 200  # episodes (PyMARL's default; 100 let GRSN+QMIX runs diverge)
    mixing_embed_dim: int = 32
    hypernet_hidden: int = 64
    grad_clip: float = 10.0
    eval_interval: int = 200  # episodes
    eval_episodes: int = 20
    threads: int = 1

    def validate(self) -> MARLConfig:
        """Raise ValueError with a clear message for any setting out of range."""
        if self.core not in CORE_NAMES:
            raise ValueError(f"unknown core {self.core!r}; known cores: {', '.join(CORE_NAMES)}")
        if self.mixer not in MIXERS:
            raise ValueError(f"unknown mixer {self.mixer!r}; known mixers: {', '.join(MIXERS)}")
        if self.env_id not in MARL_IDS:
            raise ValueError(f"unknown multi-agent task {self.env_id!r}; known tasks: {', '.join(MARL_IDS)}")
        for name in ("episodes", "hidden_size", "substeps", "batch_size", "updates_per_episode", "buffer_episodes",
                     "epsilon_anneal_episodes", "target_update_interval", "eval_interval", "eval_episodes", "threads"):
            setattr(self, name, check_int(name, getattr(self, name)))
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.obs_clip is not None and not self.obs_clip > 0:
            raise ValueError(f"obs_clip must be None or > 0, got {self.obs_clip}")
        return self

    @property
    def label(self) -> str:
        return self.core + ("-notap" if self.substeps > 1 else "")


class AgentNetwork(nn.Module):
    """The shared agent network: ``[obs, agent id one-hot, previous action one-hot]`` -> core -> Q per action.

    Args:
        obs_size, n_agents, n_actions: task sizes.
        core, hidden_size, **core_options: the recurrent core by name (see :func:`grsn_edu.make_core`).
        obs_clip: clamp the observation to ``[-obs_clip, obs_clip]`` before the core (None: no clamp). In the spread
            tasks nothing bounds the positions, so an agent that wanders off feeds ever larger numbers to the core.

    ``forward(inputs (T, B*N, I), state)`` -> ``(q (T, B*N, A), state)``.
    """

    def __init__(self, obs_size: int, n_agents: int, n_actions: int, core: str, hidden_size: int,
                 obs_clip: float | None = None, **core_options):
        super().__init__()
        self.obs_size, self.n_agents, self.n_actions, self.obs_clip = obs_size, n_agents, n_actions, obs_clip
        self.input_size = obs_size + n_agents + n_actions
        self.core = make_core(core, self.input_size, hidden_size, **core_options)
        self.q_head = nn.Linear(self.core.output_size, n_actions)

    def build_inputs(self, obs: torch.Tensor, prev_actions: torch.Tensor) -> torch.Tensor:
        """``obs`` ``(T, B, N, O)`` and ``prev_actions`` ``(T, B, N)`` (long, -1 = none) -> ``(T, B*N, I)``."""
        T, B, N, _ = obs.shape
        if self.obs_clip is not None:
            obs = obs.clamp(-self.obs_clip, self.obs_clip)
        ids = torch.eye(N).expand(T, B, N, N)
        prev = F.one_hot(prev_actions.clamp(min=0), self.n_actions).float() * (prev_actions >= 0).unsqueeze(-1)
        return torch.cat([obs, ids, prev], dim=-1).reshape(T, B * N, self.input_size)

    def initial_state(self, batch_size: int):
        return self.core.initial_state(batch_size * self.n_agents)

    def forward(self, inputs, state, trace=None):
        features, state = self.core(inputs, state, trace=trace)
        return self.q_head(features), state


def env_sizes(env) -> tuple[list[str], int, int, int]:
    """``(agents, obs size, actions, global state size)`` of a task (see
    :func:`~grsn_edu.rl.episodes.parallel_env_sizes`)."""
    return parallel_env_sizes(env)


_env_sizes = env_sizes  # the name tests and older code use


class TeamActor:
    """Decentralised execution: every agent acts on its own Q_i from the shared :class:`AgentNetwork`.

    A policy for :func:`~grsn_edu.rl.episodes.play_parallel_episode`, one decision per call for all N agents
    (a batch of N for the core); the network's state and the previous actions are carried from call to call, so
    make a new actor for each episode. Without ``rng`` the actions are greedy; with it, each agent explores with
    probability ``epsilon`` (a uniformly random action), drawing ``rng.random(N)`` then ``rng.integers(A, N)``
    at every step.

    Args:
        net: the agent network.
        agents: the agents' names, in the order of the network's agent ids.
        epsilon, rng: exploration (None: greedy, no draws).
        trace: a :class:`~grsn_edu.snn.trace.Trace` that collects the core's internals over the episode.

    After each call, ``actions`` ``(N,)`` (long) holds the actions just taken.
    """

    def __init__(self, net: AgentNetwork, agents, epsilon: float = 0.0, rng: np.random.Generator | None = None,
                 trace: Trace | None = None):
        self.net, self.agents, self.epsilon, self.rng, self.trace = net, list(agents), epsilon, rng, trace
        self.state = net.initial_state(1)
        self.actions = torch.full((len(self.agents),), -1, dtype=torch.long)  # -1: no previous action

    @torch.no_grad()
    def __call__(self, obs: dict) -> dict:
        N = len(self.agents)
        x = torch.as_tensor(np.stack([obs[a] for a in self.agents]), dtype=torch.float32).view(1, 1, N, -1)
        q, self.state = self.net(self.net.build_inputs(x, self.actions.view(1, 1, N)), self.state, trace=self.trace)
        act = q[0].argmax(-1)
        if self.rng is not None:
            explore = torch.as_tensor(self.rng.random(N) < self.epsilon)
            random_actions = torch.as_tensor(self.rng.integers(self.net.n_actions, size=N))
            act = torch.where(explore, random_actions, act)
        self.actions = act
        return {a: int(act[i]) for i, a in enumerate(self.agents)}


def run_episode(env, net: AgentNetwork, agents, epsilon: float, seed: int, rng: np.random.Generator,
                max_steps: int, trace: Trace | None = None) -> dict:
    """Play one episode with epsilon-greedy actions (:class:`TeamActor`); return it as tensors for the
    :class:`~grsn_edu.rl.episode_buffer.EpisodeBuffer`, plus ``return`` (the team return) and ``steps``.

    Rewards are stored per step as float32 team rewards (summed over agents); ``return`` is their sum.
    """
    N = len(agents)
    obs_d, _ = env.reset(seed=seed)
    obs = torch.zeros(max_steps + 1, N, net.obs_size)
    state = torch.zeros(max_steps + 1, int(np.prod(env.state().shape)))
    actions = torch.zeros(max_steps, N, dtype=torch.long)
    reward, terminated, filled = torch.zeros(max_steps), torch.zeros(max_steps), torch.zeros(max_steps)
    obs[0] = torch.as_tensor(np.stack([obs_d[a] for a in agents]))
    state[0] = torch.as_tensor(env.state(), dtype=torch.float32).flatten()
    actor = TeamActor(net, agents, epsilon, rng, trace)

    def store(step):
        t = step.t
        actions[t], filled[t] = actor.actions, 1.0
        reward[t] = float(sum(step.rewards.values()))  # team reward: summed over agents
        terminated[t] = float(any(step.terminations.values()))
        if step.next_obs:
            obs[t + 1] = torch.as_tensor(np.stack([step.next_obs[a] for a in agents]))
        state[t + 1] = torch.as_tensor(env.state(), dtype=torch.float32).flatten()

    _, steps = play_parallel_episode(env, actor, obs_d, on_step=store, max_steps=max_steps)
    return {"obs": obs, "state": state, "actions": actions, "reward": reward, "terminated": terminated,
            "filled": filled, "return": float(reward.sum()), "steps": steps}


def evaluate_marl(env, net: AgentNetwork, agents, episodes: int, seed: int, max_steps: int):
    """Greedy episodes (reset seeds ``seed + k``): ``(team returns (episodes,), firing rate, spikes per agent
    decision)``; the returns are computed as in training (:func:`run_episode`)."""
    rng = np.random.default_rng(seed)
    returns, spikes, decisions, units = [], 0.0, 0, 0
    for k in range(episodes):
        trace = Trace() if net.core.spiking else None
        ep = run_episode(env, net, agents, 0.0, seed + k, rng, max_steps, trace=trace)
        returns.append(ep["return"])
        if trace is not None:
            spk = trace["spk"]  # (steps*substeps, N, H)
            spikes += float(spk.sum())
            decisions += ep["steps"] * len(agents)
            units = spk.shape[-1] * net.core.substeps
    if decisions:
        per_decision = spikes / decisions
        return np.array(returns), per_decision / units, per_decision
    return np.array(returns), float("nan"), float("nan")


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
def _agent_network(cfg: MARLConfig, obs_size: int, n_agents: int, n_actions: int) -> AgentNetwork:
    """The agent network a config describes (training, its target copy and loading all build it here)."""
    return AgentNetwork(obs_size, n_agents, n_actions, cfg.core, cfg.hidden_size, substeps=cfg.substeps,
                        obs_clip=cfg.obs_clip, **cfg.core_options)


def _mixer(cfg: MARLConfig, n_agents: int, state_size: int) -> nn.Module:
    if cfg.mixer == "qmix":
        return QMixer(n_agents, state_size, cfg.mixing_embed_dim, cfg.hypernet_hidden)
    return VDNMixer()


def _epsilon(cfg: MARLConfig, episode: int) -> float:
    """Exploration of training episode ``episode``: linear from ``epsilon_start`` to ``epsilon_end``."""
    frac = min(1.0, episode / cfg.epsilon_anneal_episodes)
    return cfg.epsilon_start + frac * (cfg.epsilon_end - cfg.epsilon_start)


def train_marl(cfg: MARLConfig, out_dir: str | Path, resume: bool = False, progress: bool = True) -> dict:
    """Train one QMIX/VDN run; write ``config.json``, ``train_curve.csv``, ``eval_curve.csv``, ``checkpoint.pt``.

    ``resume=True`` continues from the checkpoint (weights, optimiser, counters, curves, random generators); the
    replay buffer is not saved, so a resumed run refills it and is not bit-identical to an uninterrupted one.
    """
    cfg.validate()
    seed_run(cfg)
    env = make_marl_env(cfg.env_id)
    agents, obs_size, n_actions, state_size = env_sizes(env)
    N, T = len(agents), MAX_CYCLES
    net, mixer = _agent_network(cfg, obs_size, N, n_actions), _mixer(cfg, N, state_size)
    target_net, target_mixer = _agent_network(cfg, obs_size, N, n_actions), _mixer(cfg, N, state_size)
    params = list(net.parameters()) + list(mixer.parameters())
    optimizer = torch.optim.Adam(params, lr=cfg.lr)
    parts = {"model": net, "mixer": mixer, "optimizer": optimizer}
    run = RunFolder(out_dir, cfg, MARL_TRAIN_COLUMNS, MARL_EVAL_COLUMNS)
    saved = run.resume(parts) if resume else {"episode": 0, "env_steps": 0}
    start_episode, env_steps = saved["episode"], saved["env_steps"]
    # Exploration and batch sampling have their own generators, seeded from the episode a session starts at.
    rng = np.random.default_rng(cfg.seed + 7919 * start_episode)
    gen = torch.Generator().manual_seed(cfg.seed + 7919 * start_episode)
    target_net.load_state_dict(net.state_dict())
    target_mixer.load_state_dict(mixer.state_dict())
    run.write_config()
    buffer = EpisodeBuffer(cfg.buffer_episodes, T, N, obs_size, state_size)
    eval_env = make_marl_env(cfg.env_id)
    bar = tqdm(total=cfg.episodes, initial=start_episode, disable=not progress, unit="ep", file=sys.stderr,
               desc=f"{cfg.label}+{cfg.mixer} on {cfg.env_id} (seed {cfg.seed})", dynamic_ncols=True)
    for episode in range(start_episode, cfg.episodes):
        epsilon = _epsilon(cfg, episode)  # 1-2. act and store
        ep = run_episode(env, net, agents, epsilon, cfg.seed * 1_000_003 + episode, rng, T)
        buffer.add(ep)
        env_steps += ep["steps"]
        losses = []  # 3. learn, once the buffer holds a batch
        for _ in range(cfg.updates_per_episode if buffer.size >= cfg.batch_size else 0):
            batch = buffer.sample(cfg.batch_size, gen)
            losses.append(qmix_update(net, mixer, target_net, target_mixer, optimizer, params, batch, cfg))
        if (episode + 1) % cfg.target_update_interval == 0:
            target_net.load_state_dict(net.state_dict())
            target_mixer.load_state_dict(mixer.state_dict())
        run.train_rows.append({"episode": episode + 1, "env_steps": env_steps, "team_return": ep["return"],
                               "epsilon": epsilon, "loss": float(np.mean(losses)) if losses else float("nan")})
        ma20 = float(np.mean([r["team_return"] for r in run.train_rows[-20:]]))
        bar.update(1)
        bar.set_postfix(team_return_ma20=f"{ma20:.1f}", eps=f"{epsilon:.2f}")

        if (episode + 1) % cfg.eval_interval == 0 or episode + 1 == cfg.episodes:  # 4. evaluate and checkpoint
            returns, rate, spikes = evaluate_marl(eval_env, net, agents, cfg.eval_episodes, 10_000 + cfg.seed, T)
            run.eval_rows.append({"episode": episode + 1, "env_steps": env_steps,
                                  "eval_return_mean": float(returns.mean()), "eval_return_std": float(returns.std()),
                                  "eval_episodes": cfg.eval_episodes, "firing_rate": rate,
                                  "spikes_per_decision": spikes, "wall_time_s": run.wall_time()})
            bar.set_postfix(team_return_ma20=f"{ma20:.1f}", greedy_eval=f"{returns.mean():.1f}")
            run.save(parts, episode=episode + 1, env_steps=env_steps)
    bar.close()
    env.close()
    eval_env.close()
    if start_episode >= cfg.episodes:  # resumed a finished run: nothing ran, the files are rewritten as they were
        run.write_curves()
    return _summary(run.train_rows, run.eval_rows)


def _summary(train_rows: list[dict], eval_rows: list[dict]) -> dict:
    """Headline numbers of a run: final and best greedy return, last 20 training returns, spikes, wall time."""
    recent = [r["team_return"] for r in train_rows[-20:]]
    last = eval_rows[-1] if eval_rows else {}
    return {"final_eval_return": last.get("eval_return_mean", float("nan")),
            "best_eval_return": max((r["eval_return_mean"] for r in eval_rows), default=float("nan")),
            "final_train_ma20": float(np.mean(recent)) if recent else float("nan"),
            "spikes_per_decision": last.get("spikes_per_decision", float("nan")),
            "wall_time_s": last.get("wall_time_s", float("nan"))}


def load_marl_agent(path: str | Path):
    """``(agent network, config)`` from a multi-agent checkpoint, in eval mode."""
    ckpt = load_checkpoint(path)
    cfg = MARLConfig(**ckpt["config"])
    env = make_marl_env(cfg.env_id)
    agents, obs_size, n_actions, _ = env_sizes(env)
    env.close()
    net = _agent_network(cfg, obs_size, len(agents), n_actions)
    net.load_state_dict(ckpt["model"])
    net.eval()
    return net, cfg
