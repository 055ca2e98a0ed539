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
   network's state is carried across steps (TAP for spiking cores) and starts fresh each episode.
2. **Store** the whole episode in a replay buffer of episodes (observations, global states, actions, team
   reward, termination).
3. **Learn** on a batch of stored episodes: replay the agent network over each whole episode from a fresh state
   (so the recurrent state is exactly what acting would have produced with the current weights), take
   Q_i of the chosen actions, mix them, and regress on the double-Q target
   r + gamma * mix_target(Q_target_i(h', argmax_a Q_i(h', a)); s') with a target network refreshed every
   ``target_update_interval`` episodes.
4. **Evaluate** greedily every ``eval_interval`` episodes; write curves and a checkpoint atomically.

Returns are the **team return: the per-step rewards summed over agents and over the episode's steps**.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from grsn_edu.envs.spread import MARL_IDS, MAX_CYCLES, make_marl_env
from grsn_edu.rl.mixers import MIXERS, QMixer, VDNMixer
from grsn_edu.snn.cores import CORE_NAMES, make_core
from grsn_edu.snn.trace import Trace
from grsn_edu.util.files import load_checkpoint, save_checkpoint, write_csv, write_json

__all__ = ["MARL_TRAIN_COLUMNS", "MARL_EVAL_COLUMNS", "MARLConfig", "AgentNetwork", "EpisodeBuffer", "run_episode", "evaluate_marl", "train_marl", "load_marl_agent"]


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

    def validate(self) -> "MARLConfig":
        if self.core not in CORE_NAMES:
            raise ValueError(f"unknown core {self.core!r}; known cores: {', '.join(CORE_NAMES)}")
        if self.mixer not in MIXERS:
            raise ValueError(f"unknown mixer {self.mixer!r}; known mixers: {', '.join(MIXERS)}")
        if self.env_id not in MARL_IDS:
            raise ValueError(f"unknown multi-agent task {self.env_id!r}; known tasks: {', '.join(MARL_IDS)}")
        for name in ("episodes", "hidden_size", "substeps", "batch_size", "updates_per_episode", "buffer_episodes",
                     "epsilon_anneal_episodes",
                     "target_update_interval", "eval_interval", "eval_episodes", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
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

class EpisodeBuffer:
    """A ring buffer of whole episodes (fixed length ``T``): obs ``(T+1, N, O)``, state ``(T+1, S)``,
    actions ``(T, N)``, reward ``(T,)``, terminated ``(T,)``, filled ``(T,)``."""

    def __init__(self, capacity: int, T: int, n_agents: int, obs_size: int, state_size: int):
        self.capacity, self.size, self.next = capacity, 0, 0
        self.obs = torch.zeros(capacity, T + 1, n_agents, obs_size)
        self.state = torch.zeros(capacity, T + 1, state_size)
        self.actions = torch.zeros(capacity, T, n_agents, dtype=torch.long)
        self.reward = torch.zeros(capacity, T)
        self.terminated = torch.zeros(capacity, T)
        self.filled = torch.zeros(capacity, T)

    def add(self, episode: dict) -> None:
        i = self.next
        for name in ("obs", "state", "actions", "reward", "terminated", "filled"):
            getattr(self, name)[i] = episode[name]
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> dict:
        idx = torch.randint(self.size, (batch_size,), generator=generator)
        return {n: getattr(self, n)[idx] for n in ("obs", "state", "actions", "reward", "terminated", "filled")}

def _env_sizes(env):
    env.reset(seed=0)
    agents = list(env.possible_agents)
    obs_size = env.observation_space(agents[0]).shape[0]
    n_actions = int(env.action_space(agents[0]).n)
    state_size = int(np.prod(env.state().shape))
    return agents, obs_size, n_actions, state_size

def run_episode(env, net: AgentNetwork, agents, epsilon: float, seed: int, rng: np.random.Generator,
                max_steps: int, trace: Trace | None = None) -> dict:
    """Play one episode with epsilon-greedy actions; return it as tensors (see :class:`EpisodeBuffer`)."""
    N = len(agents)
    obs_d, _ = env.reset(seed=seed)
    obs = torch.zeros(max_steps + 1, N, net.obs_size)
    state = torch.zeros(max_steps + 1, int(np.prod(env.state().shape)))
    actions = torch.zeros(max_steps, N, dtype=torch.long)
    reward, terminated, filled = torch.zeros(max_steps), torch.zeros(max_steps), torch.zeros(max_steps)
    h = net.initial_state(1)
    prev = torch.full((1, 1, N), -1, dtype=torch.long)
    obs[0] = torch.as_tensor(np.stack([obs_d[a] for a in agents]))
    state[0] = torch.as_tensor(env.state(), dtype=torch.float32).flatten()
    t = 0
    with torch.no_grad():
        while t < max_steps:
            q, h = net(net.build_inputs(obs[t].view(1, 1, N, -1), prev), h, trace=trace)
            greedy = q[0].argmax(-1)
            explore = torch.as_tensor(rng.random(N) < epsilon)
            random_actions = torch.as_tensor(rng.integers(net.n_actions, size=N))
            act = torch.where(explore, random_actions, greedy)
            obs_d, rew_d, term_d, trunc_d, _ = env.step({a: int(act[i]) for i, a in enumerate(agents)})
            actions[t], filled[t] = act, 1.0
            reward[t] = float(sum(rew_d.values()))  # team reward: summed over agents
            terminated[t] = float(any(term_d.values()))
            if obs_d:
                obs[t + 1] = torch.as_tensor(np.stack([obs_d[a] for a in agents]))
            state[t + 1] = torch.as_tensor(env.state(), dtype=torch.float32).flatten()
            prev = act.view(1, 1, N)
            t += 1
            if any(term_d.values()) or all(trunc_d.values()) or not env.agents:
                break
    return {"obs": obs, "state": state, "actions": actions, "reward": reward, "terminated": terminated,
            "filled": filled, "return": float(reward.sum()), "steps": t}

def evaluate_marl(env, net: AgentNetwork, agents, episodes: int, seed: int, max_steps: int):
    """Greedy episodes: ``(team returns (episodes,), firing rate, spikes per agent decision)``."""
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

def _agent_network(cfg: MARLConfig, obs_size: int, n_agents: int, n_actions: int) -> AgentNetwork:
    """The agent network a config describes (training, its target copy and loading all build it here)."""
    return AgentNetwork(obs_size, n_agents, n_actions, cfg.core, cfg.hidden_size, substeps=cfg.substeps,
                        obs_clip=cfg.obs_clip, **cfg.core_options)

def train_marl(cfg: MARLConfig, out_dir: str | Path, resume: bool = False, progress: bool = True) -> dict:
    """Train one QMIX/VDN run; write ``config.json``, ``train_curve.csv``, ``eval_curve.csv``, ``checkpoint.pt``.

    ``resume=True`` continues from the checkpoint (weights, optimiser, counters, curves, random generators); the
    replay buffer is not saved, so a resumed run refills it and is not bit-identical to an uninterrupted one.
    """
    cfg.validate()
    out = Path(out_dir)
    torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    env = make_marl_env(cfg.env_id)
    agents, obs_size, n_actions, state_size = _env_sizes(env)
    N, T = len(agents), MAX_CYCLES
    net = _agent_network(cfg, obs_size, N, n_actions)
    mixer = QMixer(N, state_size, cfg.mixing_embed_dim, cfg.hypernet_hidden) if cfg.mixer == "qmix" else VDNMixer()
    target_net = _agent_network(cfg, obs_size, N, n_actions)
    target_mixer = QMixer(N, state_size, cfg.mixing_embed_dim, cfg.hypernet_hidden) if cfg.mixer == "qmix" else VDNMixer()
    params = list(net.parameters()) + list(mixer.parameters())
    optimizer = torch.optim.Adam(params, lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    start_episode, env_steps, wall_before = 0, 0, 0.0
    train_rows, eval_rows = [], []
    if resume:
        ckpt = load_checkpoint(out / "checkpoint.pt")
        if ckpt["config"] != dataclasses.asdict(cfg):
            raise ValueError(f"cannot resume {out}: its settings differ from these")
        net.load_state_dict(ckpt["model"])
        mixer.load_state_dict(ckpt["mixer"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_episode, env_steps, wall_before = ckpt["episode"], ckpt["env_steps"], ckpt["wall_time_s"]
        train_rows, eval_rows = ckpt["train_rows"], ckpt["eval_rows"]
        rng = np.random.default_rng(cfg.seed + 7919 * start_episode)
        gen.manual_seed(cfg.seed + 7919 * start_episode)
    target_net.load_state_dict(net.state_dict())
    target_mixer.load_state_dict(mixer.state_dict())
    write_json(out / "config.json", dataclasses.asdict(cfg))
    buffer = EpisodeBuffer(cfg.buffer_episodes, T, N, obs_size, state_size)
    eval_env = make_marl_env(cfg.env_id)
    t0 = time.perf_counter()
    bar = tqdm(total=cfg.episodes, initial=start_episode, disable=not progress, unit="ep", file=sys.stderr,
               desc=f"{cfg.label}+{cfg.mixer} on {cfg.env_id} (seed {cfg.seed})", dynamic_ncols=True)
    recent: list[float] = [r["team_return"] for r in train_rows[-20:]]

    for episode in range(start_episode, cfg.episodes):
        # 1-2. Act and store ------------------------------------------------------------------------------------
        frac = min(1.0, episode / cfg.epsilon_anneal_episodes)
        epsilon = cfg.epsilon_start + frac * (cfg.epsilon_end - cfg.epsilon_start)
        ep = run_episode(env, net, agents, epsilon, cfg.seed * 1_000_003 + episode, rng, T)
        buffer.add(ep)
        env_steps += ep["steps"]
        recent = (recent + [ep["return"]])[-20:]

        # 3. Learn ------------------------------------------------------------------------------------------------
        losses = []
        for _ in range(cfg.updates_per_episode if buffer.size >= cfg.batch_size else 0):
            b = buffer.sample(cfg.batch_size, gen)
            B = cfg.batch_size
            obs = b["obs"].transpose(0, 1)  # (T+1, B, N, O)
            prev = torch.cat([torch.full((1, B, N), -1, dtype=torch.long), b["actions"].transpose(0, 1)])  # (T+1, B, N)
            inputs = net.build_inputs(obs, prev)
            q, _ = net(inputs, net.initial_state(B))  # (T+1, B*N, A)
            q = q.view(T + 1, B, N, n_actions)
            with torch.no_grad():
                q_target, _ = target_net(inputs, target_net.initial_state(B))
                q_target = q_target.view(T + 1, B, N, n_actions)
                best_next = q[1:].argmax(-1, keepdim=True)  # double Q: online network picks, target evaluates
                next_q = q_target[1:].gather(-1, best_next).squeeze(-1)  # (T, B, N)
                states = b["state"].transpose(0, 1)  # (T+1, B, S)
                if cfg.obs_clip is not None:
                    states = states.clamp(-cfg.obs_clip, cfg.obs_clip)
                target_tot = target_mixer(next_q, states[1:])  # (T, B)
                y = b["reward"].T + cfg.gamma * (1 - b["terminated"].T) * target_tot
            chosen = q[:-1].gather(-1, b["actions"].transpose(0, 1).unsqueeze(-1)).squeeze(-1)  # (T, B, N)
            q_tot = mixer(chosen, states[:-1])
            mask = b["filled"].T
            loss = ((q_tot - y).pow(2) * mask).sum() / mask.sum()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            losses.append(loss.item())
        loss_value = float(np.mean(losses)) if losses else float("nan")
        if (episode + 1) % cfg.target_update_interval == 0:
            target_net.load_state_dict(net.state_dict())
            target_mixer.load_state_dict(mixer.state_dict())
        train_rows.append({"episode": episode + 1, "env_steps": env_steps, "team_return": ep["return"],
                           "epsilon": epsilon, "loss": loss_value})
        bar.update(1)
        bar.set_postfix(team_return_ma20=f"{np.mean(recent):.1f}", eps=f"{epsilon:.2f}")

        # 4. Evaluate and checkpoint ------------------------------------------------------------------------------
        if (episode + 1) % cfg.eval_interval == 0 or episode + 1 == cfg.episodes:
            returns, rate, spikes = evaluate_marl(eval_env, net, agents, cfg.eval_episodes, 10_000 + cfg.seed, T)
            eval_rows.append({"episode": episode + 1, "env_steps": env_steps, "eval_return_mean": float(returns.mean()),
                              "eval_return_std": float(returns.std()), "eval_episodes": cfg.eval_episodes,
                              "firing_rate": rate, "spikes_per_decision": spikes,
                              "wall_time_s": wall_before + time.perf_counter() - t0})
            bar.set_postfix(team_return_ma20=f"{np.mean(recent):.1f}", greedy_eval=f"{returns.mean():.1f}")
            write_csv(out / "train_curve.csv", pd.DataFrame(train_rows, columns=MARL_TRAIN_COLUMNS))
            write_csv(out / "eval_curve.csv", pd.DataFrame(eval_rows, columns=MARL_EVAL_COLUMNS))
            save_checkpoint(out / "checkpoint.pt", {
                "config": dataclasses.asdict(cfg), "model": net.state_dict(), "mixer": mixer.state_dict(),
                "optimizer": optimizer.state_dict(), "episode": episode + 1, "env_steps": env_steps,
                "wall_time_s": wall_before + time.perf_counter() - t0, "train_rows": train_rows, "eval_rows": eval_rows,
            })
    bar.close()
    env.close()
    eval_env.close()
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
    agents, obs_size, n_actions, _ = _env_sizes(env)
    env.close()
    net = _agent_network(cfg, obs_size, len(agents), n_actions)
    net.load_state_dict(ckpt["model"])
    net.eval()
    return net, cfg
