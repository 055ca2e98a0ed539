"""Energy per decision of a whole trained agent, over real greedy evaluation episodes.

:func:`ppo_agent_energy` and :func:`marl_agent_energy` play greedy episodes and count everything that runs at
deployment (observation normaliser, policy core, readout head), with the convention of :mod:`grsn_edu.snn.ops`;
the value network and the mixer only serve training and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from grsn_edu.envs.gym_tasks import make_vector_env
from grsn_edu.envs.spread import MAX_CYCLES, make_marl_env
from grsn_edu.rl.agents import PolicyActor
from grsn_edu.rl.episodes import play_vector_episodes
from grsn_edu.rl.team import env_sizes, run_episode
from grsn_edu.snn.energy import core_ops_with_binary_inputs
from grsn_edu.snn.ops import EnergyReport, OpCount, linear_ops
from grsn_edu.snn.trace import Trace
from grsn_edu.util.validation import check_int

__all__ = ["normaliser_ops", "AgentEnergy", "ppo_agent_energy", "marl_agent_energy"]


def normaliser_ops(n_vectors: int, obs_size: int) -> OpCount:
    """The observation normaliser, ``(obs - mean) * (1 / std)`` per feature: one AC and one MAC per feature.

    (A deployed agent could fold it into the encoder's weights and bias and pay nothing; the clip to +-10 is
    a comparison and is not counted.)
    """
    return OpCount("normaliser", float(n_vectors * obs_size), float(n_vectors * obs_size), "(obs - mean) / std")

def _readout_binary(core) -> slice | None:
    """Which features of a core's output are spikes (binary), for counting the readout layer."""
    if not core.spiking or core.substeps > 1:
        return None  # non-TAP outputs are spike *rates* (k / S): real-valued, as executed
    readout = getattr(getattr(core, "inner", core), "readout", "membrane")
    if readout == "spikes":
        return slice(0, None)
    if readout == "both":
        return slice(0, core.hidden_size)  # [spikes, membrane]
    return None

def _merge(rows: list[OpCount], into: dict[str, list]) -> None:
    for r in rows:
        slot = into.setdefault(r.layer, [0.0, 0.0, r.note])
        slot[0] += r.mac
        slot[1] += r.ac

def _report(totals: dict[str, list], decisions: int) -> EnergyReport:
    rows = [OpCount(layer, mac / decisions, ac / decisions, note) for layer, (mac, ac, note) in totals.items()]
    return EnergyReport(rows, decisions)

@dataclass
class AgentEnergy:
    """What a trained agent paid per decision over real greedy evaluation episodes.

    Attributes:
        report: operations per decision by layer (:class:`EnergyReport`), as deployed.
        dense_inputs_report: the same, with every input feature counted as real-valued (MACs); differs from
            ``report`` only for inputs that include one-hot codes (the multi-agent agents).
        returns: ``(episodes,)`` greedy return of each episode.
        decisions: decisions counted (environment steps, times agents for a multi-agent task).
        spikes_per_decision: spikes of the core's hidden units per decision, all sub-steps (NaN if not spiking).
        firing_rate: spikes per unit per spiking update (NaN if not spiking).
    """

    report: EnergyReport
    dense_inputs_report: EnergyReport
    returns: np.ndarray
    decisions: int
    spikes_per_decision: float = float("nan")
    firing_rate: float = float("nan")

    @property
    def energy_pj(self) -> float:
        """Energy per decision, picojoules (default per-operation costs)."""
        return self.report.energy_pj()

@torch.no_grad()
def ppo_agent_energy(agent, env_id: str, episodes: int = 20, seed: int = 10_000,
                     previous_action: bool = False) -> AgentEnergy:
    """Energy per decision of a trained PPO agent (:class:`~grsn_edu.rl.agents.RecurrentActorCritic`).

    Plays ``episodes`` greedy episodes exactly as :func:`grsn_edu.rl.ppo.evaluate` does (one environment per
    episode, seeds ``seed, seed + 1, ...``; with ``seed = 10_000 + training seed`` and 20 episodes these are the
    episodes of the run's final evaluation), and counts what runs at deployment: the observation normaliser,
    the policy core and the actor head (``readout``). The value core and critic only serve training and are not
    counted. Only the environments still in their first episode count, one decision per environment step.
    ``previous_action`` as the agent was trained (its config's): the observation then ends with a one-hot of the
    previous action, counted as the other input features are.

    Returns:
        :class:`AgentEnergy`; its ``report`` has the core's rows plus ``normaliser`` and ``readout``.
    """
    episodes = check_int("episodes", episodes)
    core, obs_size = agent.core, agent.obs_size
    envs = make_vector_env(env_id, episodes, seed, previous_action=previous_action)
    if envs.single_observation_space.shape[0] != obs_size:
        envs.close()
        raise ValueError(f"{env_id} gives {envs.single_observation_space.shape[0]} observation features but the "
                         f"agent takes {obs_size}: pass the environment the agent was trained on, and "
                         "previous_action as its config has it")
    obs, _ = envs.reset(seed=[seed + i for i in range(episodes)])
    actor = PolicyActor(agent, episodes, greedy=True, record=True)
    totals: dict[str, list] = {}
    decisions, spikes = 0, 0.0
    readout_binary = _readout_binary(core)

    def count(step):  # only the environments still in their first episode count
        nonlocal decisions, spikes
        idx = torch.as_tensor(np.flatnonzero(step.alive))
        live = Trace()
        for name in actor.trace.keys():
            live.put(name, actor.trace[name][:, idx])
        _merge(core.op_counts(live) + [normaliser_ops(len(idx), obs_size),
                                      linear_ops("readout", actor.features[:, idx], agent.n_actions,
                                                 binary_features=readout_binary)], totals)
        decisions += len(idx)
        if core.spiking:
            spikes += float(live["spk"].sum())

    returns = play_vector_episodes(envs, actor, obs, on_step=count)
    envs.close()
    report = _report(totals, decisions)
    spd = spikes / decisions if core.spiking else float("nan")
    rate = spd / (core.hidden_size * core.substeps) if core.spiking else float("nan")
    return AgentEnergy(report, report, returns, decisions, spd, rate)

@torch.no_grad()
def marl_agent_energy(net, env_id: str, episodes: int = 20, seed: int = 10_000,
                      max_steps: int = MAX_CYCLES) -> AgentEnergy:
    """Energy per agent decision of a trained multi-agent network (:class:`~grsn_edu.rl.team.AgentNetwork`, as
    QMIX, VDN and MAPPO train it).

    Plays ``episodes`` greedy episodes with :func:`grsn_edu.rl.team.run_episode` (seeds ``seed + k``, as
    :func:`grsn_edu.rl.team.evaluate_marl` does) and counts what each agent runs to act: its core and its output
    head (``readout``: Q values or policy logits); the mixing network or the critic serves training only. One
    decision = one agent at one step.

    The input layer (the network's encoder if it has one, else the core's input synapses) reads
    ``[observation, agent-id one-hot, previous-action one-hot]``. In ``report`` the
    observation features cost MACs and the one-hot features one AC per nonzero entry per target (a one-hot
    times a weight matrix adds one column: no multiplication is needed, for any core); in
    ``dense_inputs_report`` the whole input vector costs MACs, as a dense layer executes it.
    """
    episodes = check_int("episodes", episodes)
    env = make_marl_env(env_id)
    agents, obs_size, n_actions, _ = env_sizes(env)
    if (obs_size, len(agents), n_actions) != (net.obs_size, net.n_agents, net.n_actions):
        env.close()
        raise ValueError(f"{env_id} has obs {obs_size}, {len(agents)} agents, {n_actions} actions but the network "
                         f"was built for {(net.obs_size, net.n_agents, net.n_actions)}: pass its own task")
    rng = np.random.default_rng(seed)
    trace, heads, encoded = Trace(), [], []
    hooks = [net.q_head.register_forward_hook(lambda module, inputs, output: heads.append(inputs[0].detach()))]
    if net.encoder is not None:
        hooks.append(net.encoder.register_forward_hook(
            lambda module, inputs, output: encoded.append(inputs[0].detach())))
    returns, decisions = [], 0
    try:
        for k in range(episodes):
            ep = run_episode(env, net, agents, 0.0, seed + k, rng, max_steps, trace=trace)
            returns.append(ep["return"])
            decisions += ep["steps"] * len(agents)
    finally:
        for hook in hooks:
            hook.remove()
        env.close()
    core = net.core
    head = linear_ops("readout", torch.cat(heads), n_actions, binary_features=_readout_binary(core))
    one_hot = slice(obs_size, None)
    dense_rows = core.op_counts(trace)
    if net.encoder is None:  # the core reads the input: its one-hot features are split off in the core's layers
        split_rows = core_ops_with_binary_inputs(core, trace, one_hot)
    else:  # the encoder reads the input; the core reads the encoder's real-valued output, dense in both counts
        x, width = torch.cat(encoded), net.encoder.out_features
        split_rows = [linear_ops("input encoder", x, width, binary_features=one_hot)] + dense_rows
        dense_rows = [linear_ops("input encoder", x, width)] + dense_rows
    split, dense = {}, {}
    _merge(split_rows + [head], split)
    _merge(dense_rows + [head], dense)
    spd = float(trace["spk"].sum()) / decisions if core.spiking else float("nan")
    rate = spd / (core.hidden_size * core.substeps) if core.spiking else float("nan")
    return AgentEnergy(_report(split, decisions), _report(dense, decisions), np.array(returns), decisions, spd, rate)
