"""Agents by name: which recurrent core an agent uses, with which core options and sub-steps.

One name means one agent everywhere: ``grsn-edu train --agent grsn``, ``PPOConfig(agent="grsn")``, the grids
behind ``data/`` and the notebooks all build the agent of :data:`AGENTS` ``["grsn"]``. A *core* name
(:func:`grsn_edu.make_core`) is the neuron model with its own defaults; an *agent* name is a core with the
settings a trained agent uses. Options a run passes (``core_options``) are laid over the agent's own.

Example:
    >>> resolve_agent("grsn")
    ('grsn', {'readout': 'both', 'beta': 0.5}, 1)
    >>> resolve_agent("grsn", core_options={"beta": 0.9})
    ('grsn', {'readout': 'both', 'beta': 0.9}, 1)
    >>> resolve_agent("grsn", value_based=True)       # the agents of QMIX and VDN
    ('grsn', {'readout': 'spikes'}, 1)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from grsn_edu.snn.cores import CORE_NAMES, core_class

__all__ = ["AgentPreset", "AGENTS", "AGENT_NAMES", "resolve_agent", "agent_help", "legacy_agent", "settle_agent",
           "config_dict_with_agent", "agent_label"]


@dataclass(frozen=True)
class AgentPreset:
    """An agent: its core, that core's options, and its sub-steps per environment step (1 = TAP).

    ``value_core_options``: the core options when the agent's network outputs Q-values (QMIX, VDN) rather than a
    policy; None means the same as ``core_options``.
    """

    core: str
    core_options: dict = field(default_factory=dict)
    substeps: int = 1
    value_core_options: dict | None = None
    summary: str = ""

    def options(self, value_based: bool = False) -> dict:
        """The core options of this agent (a copy), as a policy network or as a Q-network."""
        chosen = self.value_core_options if value_based and self.value_core_options is not None else self.core_options
        return dict(chosen)


#: Every agent the command line, the configs and the grids know. Spiking agents of a policy (recurrent PPO, MAPPO) read
#: the membrane potential as well as the spikes (``readout="both"``; ``data/cartpole_ablation/`` measures what the
#: readout changes). This project's GRSN starts from a membrane decay of 0.5 (``beta``; the core's own default, 0.9, is
#: what the cue-recall task of notebook 02 needs): the decay of the authors' tau = 2, and the setting that solved
#: CartPole-P (``data/ppo_recipe/``). As a Q-network (QMIX, VDN) spiking agents read the spikes only, and GRSN keeps the
#: core's decay: reading the membrane too let GRSN+QMIX runs diverge, the membrane being unbounded in the spread tasks'
#: unbounded world (``data/marl_recipe/``).
AGENTS: dict[str, AgentPreset] = {
    "mlp": AgentPreset("mlp", summary="no memory: one ReLU layer on the current observation"),
    "gru": AgentPreset("gru", summary="torch.nn.GRU, the non-spiking reference"),
    "lif": AgentPreset("lif", {"readout": "both"}, value_core_options={"readout": "spikes"},
                       summary="leaky integrate-and-fire: Linear + snnTorch Leaky, learnable decay"),
    "grsn": AgentPreset("grsn", {"readout": "both", "beta": 0.5}, value_core_options={"readout": "spikes"},
                        summary="this project's GRSN (gates on the previous spikes), decay 0.5 at start"),
    "grsn-notap": AgentPreset("grsn", {"readout": "both", "beta": 0.5}, substeps=4,
                              summary="the same GRSN without TAP: 4 spiking sub-steps per environment step"),
    "grsn-eq17": AgentPreset("grsn-eq17", {"readout": "both"},
                             summary="the cell of the paper's Eq. 17 as its authors later wrote it (gates on the "
                                     "previous spikes)"),
    "grsn-first-release": AgentPreset("grsn-first-release", {"readout": "both"},
                                      summary="the authors' first released cell (gates on the input), membrane "
                                              "zeroed at every call as released"),
    "rleaky": AgentPreset("rleaky", summary="snnTorch RLeaky (all-to-all recurrent spikes), the core's defaults"),
    "slstm": AgentPreset("slstm", summary="snnTorch SLSTM, the core's defaults"),
}

#: The names of :data:`AGENTS`, in order.
AGENT_NAMES = tuple(AGENTS)


def resolve_agent(agent: str, core_options: dict | None = None, substeps: int | None = None,
                  value_based: bool = False) -> tuple[str, dict, int]:
    """``(core name, core options, substeps)`` of ``agent`` with ``core_options`` laid over its own and
    ``substeps`` (None: the agent's) in place of its own."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}; known agents: {', '.join(AGENT_NAMES)} "
                         "(grsn-edu train --help describes each)")
    preset = AGENTS[agent]
    return preset.core, {**preset.options(value_based), **(core_options or {})}, \
        preset.substeps if substeps is None else substeps


def agent_help(value_based: bool = False) -> str:
    """One line per agent: name, core, options, sub-steps and what it is (for ``--help``)."""
    lines = []
    for name, preset in AGENTS.items():
        options = ", ".join(f"{k}={v}" for k, v in preset.options(value_based).items()) or "core defaults"
        steps = f", {preset.substeps} sub-steps" if preset.substeps > 1 else ""
        lines.append(f"{name}: core {preset.core} ({options}{steps}) - {preset.summary}")
    return "\n".join(lines)


def legacy_agent(core: str, core_options: dict, substeps: int, value_based: bool = False) -> tuple[str, dict]:
    """``(agent, core_options)`` that rebuild exactly a core spec saved before agents had names.

    The agent is the one whose core and sub-steps match (``grsn`` with 4 sub-steps is ``grsn-notap``); options the
    agent sets and the saved spec left out get the core's own defaults, so nothing changes meaning.
    """
    matches = [name for name, p in AGENTS.items() if p.core == core and p.substeps == substeps]
    if not matches:
        matches = [name for name, p in AGENTS.items() if p.core == core]
    if not matches:
        raise ValueError(f"unknown core {core!r} in saved settings; known cores: {', '.join(CORE_NAMES)}")
    agent = matches[0]
    defaults = {name: p.default for name, p in inspect.signature(core_class(core).__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    options = dict(core_options)
    for key in AGENTS[agent].options(value_based):
        if key not in options:
            options[key] = defaults[key]
    return agent, options


def settle_agent(cfg, value_based: bool = False) -> None:
    """Fill a run config's ``core_options`` and ``substeps`` from its ``agent`` (in place; a config's
    ``__post_init__`` calls it). Settled settings settle to themselves, so a saved config rebuilds unchanged."""
    core, options, substeps = resolve_agent(cfg.agent, cfg.core_options, cfg.substeps, value_based)
    cfg.core_options, cfg.substeps = options, substeps


def config_dict_with_agent(config: dict, value_based: bool = False) -> dict:
    """A saved config dict in the current fields: a dict written before agents had names (a ``core`` key, no
    ``agent``) gets the agent and options that rebuild exactly its core (:func:`legacy_agent`)."""
    if "core" not in config:
        return dict(config)
    config = dict(config)
    core = config.pop("core")
    agent, options = legacy_agent(core, config.get("core_options", {}), config.get("substeps", 1), value_based)
    return {**config, "agent": agent, "core_options": options}


def agent_label(agent: str, substeps: int) -> str:
    """The name a run's agent goes by in run folders and data files: the agent's, marked when its sub-steps were
    changed from the agent's own."""
    return agent if substeps == AGENTS[agent].substeps else f"{agent}-substeps{substeps}"
