"""The ``grsn-edu`` command line: train, evaluate, reproduce.

    grsn-edu train --env CartPole-V --agent grsn --seed 0 [--steps 100000] [--out runs/NAME]
    grsn-edu train --out runs/NAME --resume           # continue an interrupted run from its checkpoint
    grsn-edu evaluate runs/NAME [--episodes 20]        # mean greedy return and firing rate of a trained run
    grsn-edu reproduce cartpole [--seeds 0 1 2 3 4]    # regenerate data/cartpole/ for the notebooks
    grsn-edu train-marl --env spread_memory --agent grsn --algo mappo --seed 0 [--episodes 800000] [--out runs/NAME]
    grsn-edu evaluate runs/NAME                        # single-agent runs and multi-agent runs alike
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser", "train_config", "team_config"]


def _core_options(pairs: list[str]) -> dict:
    """Parse ``key=value`` pairs; values are read as JSON when they parse (numbers, true/false), else strings."""
    options = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise argparse.ArgumentTypeError(f"--core-option expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _default(config_class, name: str):
    """A config field's default, for a help text (one source: the dataclass)."""
    field = config_class.__dataclass_fields__[name]
    return field.default


def build_parser() -> argparse.ArgumentParser:
    from grsn_edu.envs.cartpole import POMDP_IDS
    from grsn_edu.envs.team_envs import TEAM_TASKS
    from grsn_edu.experiments import grids
    from grsn_edu.rl.mappo import MAPPOConfig
    from grsn_edu.rl.marl import ALGOS
    from grsn_edu.rl.ppo import PPOConfig
    from grsn_edu.rl.presets import AGENT_NAMES, agent_help
    from grsn_edu.rl.qmix import MARLConfig
    from grsn_edu.rl.team import TeamConfig

    p = argparse.ArgumentParser(prog="grsn-edu", description="Spiking recurrent RL agents: train, evaluate, reproduce.")
    sub = p.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    lr, anneal = _default(PPOConfig, "learning_rate"), _default(PPOConfig, "anneal_lr")
    t = sub.add_parser("train", help="train a recurrent PPO agent on a (partially observable) CartPole or any "
                                     "Gymnasium task with discrete actions",
                       formatter_class=raw, description="Train one agent with recurrent PPO.\n\nAgents (--agent):\n"
                       + agent_help())
    t.add_argument("--env", default=_default(PPOConfig, "env_id"),
                   help=f"environment id: {', '.join(POMDP_IDS)}, a POPGym id (popgym-RepeatPreviousEasy-v0, ...) "
                        "or any Gymnasium id with discrete actions; discrete observations are read one-hot "
                        f"(default {_default(PPOConfig, 'env_id')})")
    t.add_argument("--agent", default=_default(PPOConfig, "agent"), choices=AGENT_NAMES, metavar="AGENT",
                   help=f"the agent, as the grids train it (default {_default(PPOConfig, 'agent')}; listed above)")
    t.add_argument("--seed", type=int, default=_default(PPOConfig, "seed"))
    t.add_argument("--steps", type=int, default=_default(PPOConfig, "total_steps"),
                   help=f"environment steps (default {_default(PPOConfig, 'total_steps')})")
    t.add_argument("--hidden", type=int, default=_default(PPOConfig, "hidden_size"),
                   help=f"hidden units (default {_default(PPOConfig, 'hidden_size')})")
    t.add_argument("--substeps", type=int, default=None,
                   help="spiking updates per environment step (default: the agent's; 1 = TAP)")
    t.add_argument("--core-option", action="append", metavar="KEY=VALUE",
                   help="a core option laid over the agent's, repeatable, e.g. --core-option beta=0.9 "
                        "--core-option gate_input=input")
    t.add_argument("--num-steps", type=int, default=_default(PPOConfig, "num_steps"),
                   help="rollout length per environment, which is also the length of the sequences trained through: "
                        "the gradient reaches back at most this many steps, so set it well above the longest span "
                        f"the task must remember (default {_default(PPOConfig, 'num_steps')})")
    t.add_argument("--previous-action", action="store_true",
                   help="append a one-hot of the previous action to each observation (zeros at an episode's start)")
    t.add_argument("--lr", type=float, default=lr,
                   help=f"learning rate (default {lr:g}" + (", decayed linearly to 0 over the run)" if anneal else ")"))
    t.add_argument("--eval-interval", type=int, default=_default(PPOConfig, "eval_interval"),
                   help="environment steps between greedy evaluations and checkpoints "
                        f"(default {_default(PPOConfig, 'eval_interval')})")
    t.add_argument("--out", default=None, help="run folder (default runs/ENV-AGENT-sSEED)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    m = sub.add_parser("train-marl", help="train a team of recurrent agents (MAPPO, QMIX or VDN) on a cooperative "
                                          "PettingZoo task", formatter_class=raw,
                       description="Train a team whose agents share one network.\n\nAgents (--agent), under MAPPO:\n"
                       + agent_help() + "\n\nUnder QMIX and VDN (a Q-network):\n" + agent_help(value_based=True))
    m.add_argument("--env", default=_default(TeamConfig, "env_id"),
                   help=f"registered multi-agent task: {', '.join(TEAM_TASKS)} "
                        f"(default {_default(TeamConfig, 'env_id')})")
    m.add_argument("--algo", default="mappo", choices=ALGOS, help="algorithm (default mappo)")
    m.add_argument("--agent", default=_default(TeamConfig, "agent"), choices=AGENT_NAMES, metavar="AGENT",
                   help=f"the agents' network, as the grid trains it (default {_default(TeamConfig, 'agent')}; "
                        "listed above)")
    m.add_argument("--seed", type=int, default=_default(TeamConfig, "seed"))
    m.add_argument("--episodes", type=int, default=None,
                   help=f"training episodes (default {_default(MAPPOConfig, 'episodes')} for mappo, "
                        f"{_default(MARLConfig, 'episodes')} for qmix and vdn: 20M and 1M steps of the 25-step tasks)")
    m.add_argument("--hidden", type=int, default=_default(TeamConfig, "hidden_size"),
                   help=f"hidden units of the agent network (default {_default(TeamConfig, 'hidden_size')})")
    m.add_argument("--encoder", type=int, default=None, metavar="UNITS",
                   help="a ReLU layer of UNITS units between the agents' input and the core (default: none)")
    m.add_argument("--substeps", type=int, default=None, help="spiking updates per environment step (default: the "
                                                              "agent's; 1 = TAP)")
    m.add_argument("--core-option", action="append", metavar="KEY=VALUE",
                   help="a core option laid over the agent's, repeatable")
    m.add_argument("--num-envs", type=int, default=None,
                   help=f"episodes played together (default {_default(MAPPOConfig, 'num_envs')} for mappo, "
                        f"{_default(MARLConfig, 'num_envs')} for qmix and vdn)")
    m.add_argument("--eval-interval", type=int, default=None,
                   help=f"episodes between greedy evaluations and checkpoints "
                        f"(default {_default(MAPPOConfig, 'eval_interval')} for mappo, "
                        f"{_default(MARLConfig, 'eval_interval')} for qmix and vdn)")
    m.add_argument("--out", default=None, help="run folder (default runs/ENV-AGENT-ALGO-sSEED)")
    m.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="greedy evaluation of a trained run")
    e.add_argument("run", help="run folder written by grsn-edu train or grsn-edu train-marl")
    e.add_argument("--episodes", type=int, default=20)
    e.add_argument("--seed", type=int, default=20_000, help="seed of the evaluation episodes")

    from grsn_edu.experiments.runner import add_grid_arguments

    r = sub.add_parser("reproduce", help="regenerate a data/ folder used by the notebooks")
    r.add_argument("what", choices=["cartpole", "marl", "marl-reference"],
                   help="which results: data/cartpole, data/marl (the first team grid, 1M steps) or "
                        "data/marl_reference (the team grid at MAPPO's reference settings)")
    r.add_argument("--seeds", type=int, nargs="+", default=None,
                   help=f"default {' '.join(map(str, grids.SEEDS))} (cartpole), "
                        f"{' '.join(map(str, grids.MARL_SEEDS))} (marl)")
    r.add_argument("--envs", nargs="+", default=None,
                   help=f"default {' '.join(grids.ENVS)} (cartpole); {' '.join(grids.MARL_ENVS)} (marl); "
                        f"{' '.join(grids.MARL_REFERENCE_ENVS)} (marl-reference)")
    r.add_argument("--agents", nargs="+", default=None, choices=AGENT_NAMES, metavar="AGENT",
                   help=f"default {' '.join(grids.AGENTS)} (cartpole); {' '.join(grids.MARL_AGENTS)} (marl)")
    r.add_argument("--algos", nargs="+", default=["mappo"], choices=ALGOS, help="marl only (default mappo)")
    r.add_argument("--steps", type=int, default=grids.STEPS,
                   help=f"environment steps per run (cartpole; default {grids.STEPS})")
    r.add_argument("--episodes", type=int, default=None,
                   help="episodes per run (marl; default: the grid's, data/marl: "
                        f"{grids.FIRST_MARL_SETTINGS['mappo']['episodes']} for mappo and "
                        f"{_default(TeamConfig, 'episodes')} for qmix and vdn; data/marl_reference: each "
                        f"algorithm's default, {_default(MAPPOConfig, 'episodes')} for mappo)")
    add_grid_arguments(r, "runs/WHAT", "data/WHAT")
    return p


def _run(args, command: str, config_class, new_config, run_name, train) -> int:
    """What ``train`` and ``train-marl`` share: the run folder (new, or the one to resume), training, the summary.

    ``new_config()`` builds the settings of a new run from ``args``; ``run_name(cfg)`` is its default folder name
    under ``runs/``; ``train(cfg, out, resume=..., progress=...)`` trains and returns a summary dict.
    """
    from grsn_edu.rl.training import load_run_config

    try:
        if args.resume:
            if not args.out:
                raise SystemExit(f"grsn-edu {command}: --resume needs --out RUN_FOLDER (the run to continue)")
            cfg = load_run_config(config_class, args.out)
        else:
            cfg = new_config()
        out = Path(args.out or f"runs/{run_name(cfg)}")
        if not args.resume and (out / "checkpoint.pt").exists():
            raise SystemExit(f"grsn-edu {command}: {out} already holds a run; pass --resume to continue it or choose "
                             "another --out")
        summary = train(cfg, out, resume=args.resume, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"grsn-edu {command}: {err}") from None
    print(json.dumps({"run": str(out), **summary}, indent=2))
    return 0


def train_config(args):
    """The :class:`~grsn_edu.rl.ppo.PPOConfig` that ``grsn-edu train`` with these parsed arguments trains."""
    from grsn_edu.rl.ppo import PPOConfig

    return PPOConfig(env_id=args.env, agent=args.agent, seed=args.seed, total_steps=args.steps,
                     hidden_size=args.hidden, substeps=args.substeps, core_options=_core_options(args.core_option),
                     num_steps=args.num_steps, previous_action=args.previous_action, learning_rate=args.lr,
                     eval_interval=args.eval_interval)


def team_config(args):
    """The team config that ``grsn-edu train-marl`` with these parsed arguments trains."""
    from grsn_edu.rl.marl import marl_config

    given = {"num_envs": args.num_envs, "episodes": args.episodes, "eval_interval": args.eval_interval}
    extra = {name: value for name, value in given.items() if value is not None}  # else the algorithm's default
    return marl_config(args.algo, env_id=args.env, agent=args.agent, seed=args.seed, hidden_size=args.hidden,
                       encoder_size=args.encoder, substeps=args.substeps,
                       core_options=_core_options(args.core_option), **extra)


def _train(args) -> int:
    from grsn_edu.rl.ppo import PPOConfig, train

    return _run(args, "train", PPOConfig, lambda: train_config(args),
                lambda cfg: f"{cfg.env_id}-{cfg.label}-s{cfg.seed}", train)


def _train_marl(args) -> int:
    from grsn_edu.rl.marl import config_from_dict, train_team

    new_config = lambda: team_config(args)  # noqa: E731

    def saved(**config):  # the settings of the run being resumed, as the config class of its algorithm
        return config_from_dict(config)

    return _run(args, "train-marl", saved, new_config,
                lambda cfg: f"{cfg.env_id}-{cfg.label}-{cfg.algo}-s{cfg.seed}", train_team)


def _evaluate_marl(args, config: dict) -> int:
    from grsn_edu.rl.marl import load_marl_agent
    from grsn_edu.rl.team import evaluate_team, team_envs
    from grsn_edu.util.files import load_checkpoint

    try:
        trained = load_checkpoint(Path(args.run) / "checkpoint.pt")["episode"]
        net, cfg = load_marl_agent(Path(args.run) / "checkpoint.pt")
        envs = team_envs(cfg, args.episodes)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"grsn-edu evaluate: {err}") from None
    returns, rate, spikes = evaluate_team(envs, net, args.seed)
    envs.close()
    print(json.dumps({
        "run": args.run, "env": cfg.env_id, "agent": cfg.label, "algo": cfg.algo, "trained_episodes": trained,
        "episodes": args.episodes, "greedy_team_return_mean": float(returns.mean()),
        "greedy_team_return_std": float(returns.std()), "firing_rate": rate, "spikes_per_decision": spikes,
    }, indent=2))
    return 0


def _evaluate(args) -> int:
    from grsn_edu.rl.ppo import evaluate, load_agent, load_config
    from grsn_edu.util.files import load_checkpoint

    if args.episodes < 1:
        raise SystemExit("grsn-edu evaluate: --episodes must be >= 1")
    config_path = Path(args.run) / "config.json"
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text())
        except json.JSONDecodeError as err:
            raise SystemExit(f"grsn-edu evaluate: {config_path} is not valid JSON ({err}); the run folder is damaged, "
                             "train it again") from None
        if isinstance(config, dict) and ("mixer" in config or "critic_hidden" in config):
            return _evaluate_marl(args, config)
    try:
        load_config(args.run)
        ckpt = load_checkpoint(Path(args.run) / "checkpoint.pt")
        agent, cfg = load_agent(Path(args.run) / "checkpoint.pt")
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"grsn-edu evaluate: {err}") from None
    returns, rate = evaluate(agent, cfg.env_id, args.episodes, seed=args.seed, previous_action=cfg.previous_action)
    print(json.dumps({
        "run": args.run, "env": cfg.env_id, "agent": cfg.label, "trained_steps": ckpt["global_step"],
        "episodes": args.episodes, "greedy_return_mean": float(returns.mean()),
        "greedy_return_std": float(returns.std()), "firing_rate": rate,
    }, indent=2))
    return 0


def _reproduce(args) -> int:
    from grsn_edu.experiments.grids import reproduce_cartpole, reproduce_marl
    from grsn_edu.experiments.runner import runner_from_args

    folder = args.what.replace("-", "_")
    runs_dir = args.runs_dir.replace("WHAT", folder)
    runs = Path(runs_dir).resolve()  # absolute: Ray workers start elsewhere
    data = Path(args.data_dir.replace("WHAT", folder))
    try:
        runner = runner_from_args(args)
        if args.what == "cartpole":
            from grsn_edu.experiments.grids import AGENTS, ENVS, SEEDS

            reproduce_cartpole(args.envs or ENVS, args.agents or AGENTS, args.seeds or SEEDS, args.steps, runs, data,
                               runner=runner, dry_run=args.dry_run)
        else:
            from grsn_edu.experiments.grids import MARL_AGENTS, MARL_ENVS, MARL_REFERENCE_ENVS, MARL_SEEDS

            reference = args.what == "marl-reference"
            envs = args.envs or (MARL_REFERENCE_ENVS if reference else MARL_ENVS)
            reproduce_marl(envs, args.agents or MARL_AGENTS, args.algos, args.seeds or MARL_SEEDS,
                           args.episodes, runs, data, runner=runner, dry_run=args.dry_run,
                           reference=reference)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"grsn-edu reproduce: {err}") from None
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        handlers = {"train": _train, "train-marl": _train_marl, "evaluate": _evaluate, "reproduce": _reproduce}
        return handlers[args.command](args)
    except argparse.ArgumentTypeError as err:
        raise SystemExit(f"grsn-edu {args.command}: {err}") from None


if __name__ == "__main__":
    sys.exit(main())
