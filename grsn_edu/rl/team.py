"""Teams of agents that share one recurrent network: the network, acting, and playing batches of episodes.

What QMIX, VDN (:mod:`grsn_edu.rl.qmix`) and MAPPO (:mod:`grsn_edu.rl.mappo`) share. Each agent acts on its own
observation history (decentralised execution) through one :class:`AgentNetwork` shared by all agents: its input
is the agent's observation, its id one-hot and its previous action one-hot, and its core's state is carried
from step to step (TAP for spiking cores) and starts fresh each episode.

* :func:`play_team_episodes` plays one episode in each copy of a :class:`~grsn_edu.envs.team_envs.TeamEnvBatch`
  with one network call per step for every agent of every copy, and returns the episodes as padded tensors
  (what the trainers store and learn from); :func:`evaluate_team` plays greedy episodes the same way.
* :class:`TeamActor`, :func:`run_episode` and :func:`evaluate_marl` play one PettingZoo episode at a time
  (watching a rendered team, counting operations per decision).

Returns are **team returns: the per-step rewards summed over agents and over the episode's steps**.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from grsn_edu.envs.team_envs import TEAM_TASKS, TeamEnvBatch, make_team_envs
from grsn_edu.rl.episodes import parallel_env_sizes, play_parallel_episode
from grsn_edu.rl.presets import AGENTS, agent_label, config_dict_with_agent, settle_agent
from grsn_edu.snn.cores import make_core
from grsn_edu.snn.trace import Trace
from grsn_edu.util.validation import check_int

__all__ = ["TEAM_EVAL_COLUMNS", "TEAM_TRAIN_COLUMNS", "TeamConfig", "team_envs", "agent_network", "TeamProgress",
           "eval_row", "run_summary", "evaluate_and_save", "finish_team_run", "AgentNetwork", "env_sizes",
           "TeamActor", "run_episode", "evaluate_marl", "play_team_episodes", "epsilon_greedy", "greedy",
           "evaluate_team"]


#: Columns of a multi-agent run's ``train_curve.csv``: one row per batch of training episodes played together
#: (``team_return`` is their mean; ``loss`` the mean loss of the updates that followed them).
TEAM_TRAIN_COLUMNS = ["episode", "env_steps", "team_return", "loss"]

#: Columns of ``eval_curve.csv``: one row per greedy evaluation.
TEAM_EVAL_COLUMNS = ["episode", "env_steps", "eval_return_mean", "eval_return_std", "eval_episodes",
                     "firing_rate", "spikes_per_decision", "wall_time_s"]


@dataclass
class TeamConfig:
    """The settings every multi-agent trainer shares (QMIX/VDN: :class:`~grsn_edu.rl.qmix.MARLConfig`; MAPPO:
    :class:`~grsn_edu.rl.mappo.MAPPOConfig`). Budgets and intervals count episodes."""

    env_id: str = "simple_spread"  # a registered team task (grsn_edu.envs.team_envs.TEAM_TASKS)
    agent: str = "grsn"  # one of grsn_edu.rl.presets.AGENTS: its core, core options and sub-steps
    seed: int = 0
    episodes: int = 40_000  # 1M environment steps of the 25-step navigation tasks
    hidden_size: int = 64
    obs_clip: float | None = None  # clamp observations (and a mixer's state) to [-obs_clip, obs_clip] (None: off)
    substeps: int | None = None  # None: the agent's
    core_options: dict = field(default_factory=dict)  # laid over the agent's
    num_envs: int = 8  # episodes played together, one network call per step for all their agents
    eval_interval: int = 1600  # episodes between greedy evaluations and checkpoints (40,000 steps of 25-step tasks)
    eval_episodes: int = 20
    threads: int = 1
    head_gain: float | None = None  # orthogonal initialisation of the output layer with this gain (None: PyTorch's)
    # a ReLU layer of this many units between the input and the core, as the agent networks of the field's MARL
    # code have one (PyMARL's fc1, the authors' embedders, MAPPO's MLP base); None: the core reads the input
    encoder_size: int | None = None

    #: whether the agents' network gives Q-values (QMIX, VDN) rather than a policy (MAPPO): the agent's core
    #: options differ (:class:`~grsn_edu.rl.presets.AgentPreset`)
    value_based = False

    def __post_init__(self):
        settle_agent(self, self.value_based)

    @classmethod
    def from_dict(cls, config: dict):
        """The settings saved in a run folder or checkpoint (also those saved before agents had names)."""
        return cls(**config_dict_with_agent(config, cls.value_based))

    @property
    def core(self) -> str:
        """The agent's core (a name of :func:`grsn_edu.make_core`)."""
        return AGENTS[self.agent].core

    def _validate_team(self, int_fields: tuple[str, ...] = ()) -> None:
        if not isinstance(self.env_id, str) or self.env_id not in TEAM_TASKS:
            raise ValueError(f"unknown multi-agent task {self.env_id!r}; known tasks: {', '.join(TEAM_TASKS)} "
                             "(register another with grsn_edu.envs.team_envs.register_team_task)")
        for name in ("episodes", "hidden_size", "substeps", "num_envs", "eval_interval", "eval_episodes", "threads",
                     *int_fields):
            setattr(self, name, check_int(name, getattr(self, name)))
        for name in ("episodes", "eval_interval"):
            if getattr(self, name) % self.num_envs:
                raise ValueError(f"{name} ({getattr(self, name)}) must be a multiple of num_envs ({self.num_envs}): "
                                 "episodes are played num_envs at a time")
        if self.obs_clip is not None and not self.obs_clip > 0:
            raise ValueError(f"obs_clip must be None or > 0, got {self.obs_clip}")
        if self.head_gain is not None and not self.head_gain > 0:
            raise ValueError(f"head_gain must be None or > 0, got {self.head_gain}")
        if self.encoder_size is not None:
            self.encoder_size = check_int("encoder_size", self.encoder_size, hint=" (None: no encoder)")

    @property
    def label(self) -> str:
        """Short name of the agent (:func:`~grsn_edu.rl.presets.agent_label`)."""
        return agent_label(self.agent, self.substeps)


def team_envs(cfg: TeamConfig, num_envs: int, env_fn: Callable | None = None) -> TeamEnvBatch:
    """``num_envs`` copies of a run's task: ``env_fn`` (a factory of a PettingZoo Parallel env) when given, else
    the registered ``cfg.env_id``."""
    return make_team_envs(env_fn if env_fn is not None else cfg.env_id, num_envs)


def agent_network(cfg: TeamConfig, obs_size: int, n_agents: int, n_actions: int) -> AgentNetwork:
    """The agent network a config describes (training, target copies and loading all build it here)."""
    return AgentNetwork(obs_size, n_agents, n_actions, cfg.core, cfg.hidden_size, substeps=cfg.substeps,
                        obs_clip=cfg.obs_clip, head_gain=cfg.head_gain, encoder_size=cfg.encoder_size,
                        **cfg.core_options)


class TeamProgress:
    """The progress bar of a multi-agent run: episodes done, the running training team return (mean of the last
    20 batches) and the last greedy evaluation."""

    def __init__(self, cfg: TeamConfig, algo: str, start: int, enabled: bool):
        self.bar = tqdm(total=cfg.episodes, initial=start, disable=not enabled, unit="ep", file=sys.stderr,
                        desc=f"{cfg.label}+{algo} on {cfg.env_id} (seed {cfg.seed})", dynamic_ncols=True)
        self.greedy = None

    def update(self, done: int, train_rows: list[dict], **extra) -> None:
        ma = float(np.mean([r["team_return"] for r in train_rows[-20:]]))
        shown = {"team_return": f"{ma:.1f}", **extra}
        if self.greedy is not None:
            shown["greedy_eval"] = f"{self.greedy:.1f}"
        self.bar.update(done)
        self.bar.set_postfix(shown)

    def close(self) -> None:
        self.bar.close()


def eval_row(envs: TeamEnvBatch, net: AgentNetwork, cfg: TeamConfig, episode: int, env_steps: int,
             wall_time: float) -> dict:
    """One row of ``eval_curve.csv``: :func:`evaluate_team` on ``envs`` (``eval_episodes`` copies), reset seeds
    ``10_000 + seed + k``."""
    returns, rate, spikes = evaluate_team(envs, net, 10_000 + cfg.seed)
    return {"episode": episode, "env_steps": env_steps, "eval_return_mean": float(returns.mean()),
            "eval_return_std": float(returns.std()), "eval_episodes": len(returns), "firing_rate": rate,
            "spikes_per_decision": spikes, "wall_time_s": wall_time}


def run_summary(train_rows: list[dict], eval_rows: list[dict]) -> dict:
    """Headline numbers of a run: final and best greedy return, the last 20 training batches' mean team return,
    spikes per decision, wall time."""
    recent = [r["team_return"] for r in train_rows[-20:]]
    last = eval_rows[-1] if eval_rows else {}
    return {"final_eval_return": last.get("eval_return_mean", float("nan")),
            "best_eval_return": max((r["eval_return_mean"] for r in eval_rows), default=float("nan")),
            "final_train_ma20": float(np.mean(recent)) if recent else float("nan"),
            "spikes_per_decision": last.get("spikes_per_decision", float("nan")),
            "wall_time_s": last.get("wall_time_s", float("nan"))}


def evaluate_and_save(run, parts: dict, eval_envs: TeamEnvBatch, net: AgentNetwork, cfg: TeamConfig,
                      bar: TeamProgress, done: int, env_steps: int, task_sizes) -> None:
    """The last step of every multi-agent trainer's loop: at each ``eval_interval`` and at the final episode, a
    greedy evaluation (:func:`eval_row`) shown on the bar, then a checkpoint (``run``, a
    :class:`~grsn_edu.rl.training.RunFolder`) that a resumed run starts from. ``task_sizes`` is
    ``[obs, agents, actions, state]``, stored so that a saved agent can be rebuilt without its environment."""
    if done % cfg.eval_interval == 0 or done == cfg.episodes:
        run.eval_rows.append(eval_row(eval_envs, net, cfg, done, env_steps, run.wall_time()))
        bar.greedy = run.eval_rows[-1]["eval_return_mean"]
        run.save(parts, episode=done, env_steps=env_steps, task_sizes=list(task_sizes))


def finish_team_run(run, bar: TeamProgress, start: int, cfg: TeamConfig, *envs: TeamEnvBatch) -> dict:
    """Close the bar and the environments and return :func:`run_summary`. A resumed run that had already finished
    (``start >= episodes``) ran nothing, so its curve files are rewritten as they were."""
    bar.close()
    for batch in envs:
        batch.close()
    if start >= cfg.episodes:
        run.write_curves()
    summary = run_summary(run.train_rows, run.eval_rows)
    run.finish(summary)
    return summary


class AgentNetwork(nn.Module):
    """The shared agent network: ``[obs, agent id one-hot, previous action one-hot]`` -> (encoder) -> core -> one
    output per action (QMIX/VDN: the agent's utilities Q_i; MAPPO: its policy's logits). Every agent of a team runs
    the same weights; the id one-hot tells them apart.

    Args:
        obs_size, n_agents, n_actions: task sizes.
        core, hidden_size, **core_options: the recurrent core by name (see :func:`grsn_edu.make_core`).
        obs_clip: clamp the observation to ``[-obs_clip, obs_clip]`` before the core (None: no clamp). In the spread
            tasks nothing bounds the positions, so an agent that wanders off feeds ever larger numbers to the core.
        head_gain: None (PyTorch's initialisation of the output layer) or orthogonal weights with this gain and zero
            biases. A policy's small gain (0.01, MAPPO's) starts every action at nearly the same probability.
        encoder_size: None (the core reads the input) or the units of a ReLU layer between the input and the core,
            ``relu(W_e x + b_e)``: the agent network of PyMARL (fc1, then the recurrent cell), which the paper's QMIX
            experiments use, and MAPPO's actor (an MLP base, then the GRU) both have one. For a spiking core it is
            the only non-linearity between the observation and the threshold.

    ``forward(inputs (T, B*N, I), state)`` -> ``(outputs (T, B*N, A), state)``; the greedy action is their argmax.
    """

    def __init__(self, obs_size: int, n_agents: int, n_actions: int, core: str, hidden_size: int,
                 obs_clip: float | None = None, head_gain: float | None = None, encoder_size: int | None = None,
                 **core_options):
        super().__init__()
        self.obs_size, self.n_agents, self.n_actions, self.obs_clip = obs_size, n_agents, n_actions, obs_clip
        self.input_size = obs_size + n_agents + n_actions
        self.encoder = None if encoder_size is None else nn.Linear(self.input_size, encoder_size)
        self.core = make_core(core, self.input_size if encoder_size is None else encoder_size, hidden_size,
                              **core_options)
        self.q_head = nn.Linear(self.core.output_size, n_actions)
        if head_gain is not None:
            nn.init.orthogonal_(self.q_head.weight, head_gain)
            nn.init.zeros_(self.q_head.bias)

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
        if self.encoder is not None:
            inputs = torch.relu(self.encoder(inputs))
        features, state = self.core(inputs, state, trace=trace)
        return self.q_head(features), state


def env_sizes(env) -> tuple[list[str], int, int, int]:
    """``(agents, obs size, actions, global state size)`` of a task (see
    :func:`~grsn_edu.rl.episodes.parallel_env_sizes`)."""
    return parallel_env_sizes(env)




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


# -- batches of episodes ---------------------------------------------------------------------------------------------
def epsilon_greedy(epsilon: float, rng: np.random.Generator) -> Callable:
    """``select(outputs (B, N, A)) -> actions (B, N)``: each agent takes its argmax, or with probability ``epsilon``
    a uniformly random action (``rng.random((B, N))`` then ``rng.integers(A, size=(B, N))`` at every step)."""
    def select(outputs: torch.Tensor) -> torch.Tensor:
        act = outputs.argmax(-1)
        if epsilon > 0:
            explore = torch.as_tensor(rng.random(act.shape) < epsilon)
            act = torch.where(explore, torch.as_tensor(rng.integers(outputs.shape[-1], size=act.shape)), act)
        return act
    return select


def greedy(outputs: torch.Tensor) -> torch.Tensor:
    """Every agent takes its argmax."""
    return outputs.argmax(-1)


@torch.no_grad()
def play_team_episodes(envs: TeamEnvBatch, net: AgentNetwork, seeds, select: Callable = greedy,
                       trace: Trace | None = None) -> dict:
    """One episode in each copy of ``envs`` (reset with ``seeds``), all agents of all copies deciding together.

    Args:
        envs: B copies of a task (:func:`~grsn_edu.envs.team_envs.make_team_envs`).
        net: the agents' network (its state starts fresh and is carried across the episode's steps).
        seeds: B reset seeds.
        select: ``select(outputs (B, N, A)) -> actions (B, N)``, e.g. :func:`epsilon_greedy` or a sampler that
            also keeps the log-probabilities.
        trace: collects the core's internals at every step (``(steps, B*N, ...)``).

    Returns:
        A dict of tensors (T = ``envs.max_steps``, padded after each episode's end): ``obs`` ``(B, T+1, N, O)``,
        ``state`` ``(B, T+1, S)``, ``actions`` ``(B, T, N)``, ``reward`` ``(B, T)`` (the team reward: summed
        over agents), ``terminated`` ``(B, T)`` (1 where the episode terminated: no future), ``truncated``
        ``(B, T)``, ``filled`` ``(B, T)`` (1 for steps that happened), ``outputs`` ``(B, T, N, A)`` (the network's),
        ``return`` ``(B,)`` (team returns) and ``steps`` ``(B,)``.
    """
    B, N, T, A = envs.num_envs, envs.n_agents, envs.max_steps, envs.n_actions
    if (envs.obs_size, N, A) != (net.obs_size, net.n_agents, net.n_actions):
        raise ValueError(f"the task has obs {envs.obs_size}, {N} agents, {A} actions but the network was built for "
                         f"{(net.obs_size, net.n_agents, net.n_actions)}: pass the task it was made for")
    obs_np, state_np = envs.reset(seeds)
    obs = torch.zeros(B, T + 1, N, envs.obs_size)
    state = torch.zeros(B, T + 1, envs.state_size)
    actions = torch.zeros(B, T, N, dtype=torch.long)
    outputs = torch.zeros(B, T, N, A)
    reward, terminated, truncated, filled = (torch.zeros(B, T) for _ in range(4))
    obs[:, 0], state[:, 0] = torch.from_numpy(obs_np), torch.from_numpy(state_np)
    h = net.initial_state(B)
    prev = torch.full((1, B, N), -1, dtype=torch.long)
    for t in range(T):
        live = torch.from_numpy(~envs.ended)
        out, h = net(net.build_inputs(obs[:, t].unsqueeze(0), prev), h, trace=trace)
        out = out.view(B, N, A)
        act = select(out)
        obs_np, state_np, rew, term, trunc = envs.step(act.numpy())
        actions[:, t], outputs[:, t], filled[:, t] = act, out, live.float()
        reward[:, t] = torch.from_numpy(rew.sum(1)).float()
        terminated[:, t], truncated[:, t] = torch.from_numpy(term).float(), torch.from_numpy(trunc).float()
        obs[:, t + 1], state[:, t + 1] = torch.from_numpy(obs_np), torch.from_numpy(state_np)
        prev = act.unsqueeze(0)
        if envs.ended.all():
            break
    return {"obs": obs, "state": state, "actions": actions, "reward": reward, "terminated": terminated,
            "truncated": truncated, "filled": filled, "outputs": outputs, "return": (reward * filled).sum(1),
            "steps": filled.sum(1)}


def evaluate_team(envs: TeamEnvBatch, net: AgentNetwork, seed: int):
    """Greedy episodes, one per copy of ``envs`` (reset seeds ``seed, seed + 1, ...``): ``(team returns (B,),
    firing rate, spikes per agent decision)`` (NaN for a core that does not spike)."""
    trace = Trace() if net.core.spiking else None
    ep = play_team_episodes(envs, net, [seed + k for k in range(envs.num_envs)], greedy, trace)
    if trace is None:
        return ep["return"].numpy(), float("nan"), float("nan")
    filled = ep["filled"].T[: trace["spk"].shape[0] // net.core.substeps]  # (steps, B)
    per_step = filled.repeat_interleave(net.core.substeps, 0).repeat_interleave(net.n_agents, 1)  # (steps*S, B*N)
    spikes = float((trace["spk"].sum(-1) * per_step).sum())
    decisions = float(filled.sum()) * net.n_agents
    per_decision = spikes / decisions
    return ep["return"].numpy(), per_decision / (trace["spk"].shape[-1] * net.core.substeps), per_decision
