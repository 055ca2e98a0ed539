"""Which PPO settings make recurrent PPO solve partially observable CartPole: the peer's recipe, then one change at a
time from it, same budget and seeds.

The commands that made ``data/ppo_recipe/`` (from the project root; cells already there are skipped, so on the
finished data they have nothing left to do; ``--dry-run`` lists the cells a command would still run):

    .venv/bin/python scripts/ppo_recipe.py
    .venv/bin/python scripts/ppo_recipe.py --variants normalize_returns=off grsn --envs CartPole-P --seeds 0
    .venv/bin/python scripts/ppo_recipe.py --variants normalize_returns=off --envs CartPole-P --seeds 1
    .venv/bin/python scripts/ppo_recipe.py --variants grsn,lr=3e-4 --envs CartPole-P --seeds 0
    .venv/bin/python scripts/ppo_recipe.py --variants grsn,beta=0.5 grsn,beta=0.5,rollout=32x32 --envs CartPole-P \
        --seeds 0
    .venv/bin/python scripts/ppo_recipe.py --variants grsn,beta=0.5,rollout=32x32,lr-annealed \
        grsn,beta=0.5,rollout=32x32,lr=3e-4-annealed rollout=32x32,lr=3e-4-annealed --seeds 0
 Without ``--variants`` only ``peer`` runs; the default seeds are 0 1 2 and the
default budget 100k environment steps.

The reference, ``peer``, is every setting of sb3-contrib's RecurrentPPO on its own CartPoleNoVel test
(:data:`PEER`: 8 environments x 128 steps, 4 minibatches of 2 whole environment sequences (256 steps), 10 epochs,
learning rate 7e-4 constant, gamma 0.99, lambda 0.98, max_grad_norm 1, return normalisation, a 64-unit tanh layer
in the value head, PyTorch's default head initialisation, hidden 64) in this project's trainer, with the grid's
GRU agent (``grsn_edu.rl.presets.AGENTS["gru"]``). Each other variant changes one thing of ``peer``:
most put back one of the project's defaults (``grsn_edu.rl.ppo.PPOConfig``), ``grsn`` swaps the core for the
grid's GRSN. The runs and the merge into ``data/ppo_recipe/`` are the one grid runner's
(:mod:`grsn_edu.experiments.runner`); ``--ray`` runs the cells on Ray.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from grsn_edu.experiments.grids import SUMMARY_COLUMNS, agent_config, ppo_run_summary
from grsn_edu.experiments.runner import (
    Curve,
    Grid,
    add_grid_arguments,
    check_variants,
    run_grid,
    runner_from_args,
)
from grsn_edu.rl.ppo import EVAL_COLUMNS, UPDATE_COLUMNS
from grsn_edu.util.validation import check_int_arguments

ROOT = Path(__file__).resolve().parents[1]

#: sb3-contrib RecurrentPPO's settings as PPOConfig fields. Its value loss has no factor 1/2 (vf_coef 0.5 there is
#: 1.0 here); its batch_size=256 of a 1024-step rollout is 4 minibatches.
PEER = {
    "num_envs": 8, "num_steps": 128, "num_minibatches": 4, "update_epochs": 10, "learning_rate": 7e-4,
    "anneal_lr": False, "gamma": 0.99, "gae_lambda": 0.98, "clip_coef": 0.2, "max_grad_norm": 1.0, "ent_coef": 0.0,
    "vf_coef": 1.0, "normalize_returns": True, "advantage_norm": "minibatch", "value_hidden": 64,
    "head_init": "default", "hidden_size": 64,
}

#: variant name -> (grid agent, PPOConfig overrides on top of PEER)
VARIANTS = {
    "peer": ("gru", {}),
    "hidden=128": ("gru", {"hidden_size": 128}),
    "normalize_returns=off": ("gru", {"normalize_returns": False}),
    "rollout=32x1": ("gru", {"num_steps": 32, "num_minibatches": 1}),  # the earlier default: 8 x 32, one minibatch
    "minibatches=1": ("gru", {"num_minibatches": 1}),
    "lr=1e-3-annealed": ("gru", {"learning_rate": 1e-3, "anneal_lr": True}),
    "gamma=0.98,lambda=0.8": ("gru", {"gamma": 0.98, "gae_lambda": 0.8}),
    "max_grad_norm=0.5": ("gru", {"max_grad_norm": 0.5}),
    "value_hidden=0": ("gru", {"value_hidden": 0}),
    "head_init=orthogonal": ("gru", {"head_init": "orthogonal"}),
    "vf_coef=0.5": ("gru", {"vf_coef": 0.5}),
    "advantage_norm=batch": ("gru", {"advantage_norm": "batch"}),
    "advantage_norm=off": ("gru", {"advantage_norm": "off"}),
    "ent_coef=0.01": ("gru", {"ent_coef": 0.01}),
    # GRSN with the core's own beta at initialisation, 0.9 (the grid's GRSN starts at 0.5, the authors' tau = 2);
    # core options are laid over the agent's (readout both, beta 0.5), so each variant names its beta
    "grsn": ("grsn", {"core_options": {"readout": "both", "beta": 0.9}}),
    "grsn,hidden=128": ("grsn", {"core_options": {"readout": "both", "beta": 0.9}, "hidden_size": 128}),
    "grsn,lr=3e-4": ("grsn", {"core_options": {"readout": "both", "beta": 0.9}, "learning_rate": 3e-4}),
    "grsn,beta=0.5": ("grsn", {"core_options": {"readout": "both", "beta": 0.5}}),
    "grsn,gate_input=input": ("grsn", {"core_options": {"readout": "both", "gate_input": "input", "beta": 0.9}}),
    "grsn,readout=membrane": ("grsn", {"core_options": {"readout": "membrane", "beta": 0.9}}),
    "rollout=32x32": ("gru", {"num_envs": 32, "num_steps": 32}),
    "rollout=64x16": ("gru", {"num_envs": 64, "num_steps": 16}),
    "rollout=32x32,lr=3e-4-annealed": ("gru", {"num_envs": 32, "num_steps": 32, "anneal_lr": True,
                                               "learning_rate": 3e-4}),
    "grsn,beta=0.5,rollout=32x32": ("grsn", {"core_options": {"readout": "both", "beta": 0.5}, "num_envs": 32,
                                             "num_steps": 32}),
    "grsn,beta=0.5,rollout=32x32,lr-annealed": ("grsn", {"core_options": {"readout": "both", "beta": 0.5},
                                                         "num_envs": 32, "num_steps": 32, "anneal_lr": True}),
    "grsn,beta=0.5,rollout=32x32,lr=3e-4-annealed": ("grsn", {"core_options": {"readout": "both", "beta": 0.5},
                                                              "num_envs": 32, "num_steps": 32, "anneal_lr": True,
                                                              "learning_rate": 3e-4}),
    "grsn,beta=0.5,rollout=64x16": ("grsn", {"core_options": {"readout": "both", "beta": 0.5}, "num_envs": 64,
                                             "num_steps": 16}),
}
KEY = ["variant", "env", "seed"]
GRID = Grid(name="ppo_recipe", key=tuple(KEY), summary_columns=("variant", "env", *SUMMARY_COLUMNS[2:]),
            budget="total_steps",
              summarize=ppo_run_summary,
              curves=(Curve("eval_curves.csv", "eval_curve.csv", tuple(EVAL_COLUMNS)),
                      Curve("update_stats.csv", "update_stats.csv", tuple(UPDATE_COLUMNS))),
              command="scripts/ppo_recipe.py (data/ppo_recipe/README.md)")
SUMMARY_COLUMNS = list(GRID.summary_columns)


def config(variant: str, env_id: str, seed: int, steps: int):
    """The :class:`~grsn_edu.rl.ppo.PPOConfig` of one cell."""
    agent, overrides = VARIANTS[variant]
    return dataclasses.replace(agent_config(env_id, agent, seed, steps), **{**PEER, **overrides}).validate()


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked: a bad value stops with a message that names the option."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["peer"], help=f"any of: {', '.join(VARIANTS)} (default: peer)")
    p.add_argument("--envs", nargs="+", default=["CartPole-P", "CartPole-V"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=100_000)
    add_grid_arguments(p, str(ROOT / "runs" / "ppo_recipe"), str(ROOT / "data" / "ppo_recipe"))
    args = p.parse_args(argv)
    check_variants(p, args.variants, VARIANTS)
    check_int_arguments(p, args, {"seeds": 0, "steps": 1})
    return args


def cells(args) -> dict:
    """``{(variant, env, seed): PPOConfig}`` of the command line, in the order they run (seed-major, then env)."""
    return {(v, e, s): config(v, e, s, args.steps) for s in args.seeds for e in args.envs for v in args.variants}


def main(argv=None):
    args = parse_args(argv)
    run_grid(GRID, cells(args), args.runs_dir, args.data_dir, runner_from_args(args), args.dry_run)


if __name__ == "__main__":
    main()
