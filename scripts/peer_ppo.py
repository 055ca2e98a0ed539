"""The project's recurrent PPO side by side with the field's: sb3-contrib's ``RecurrentPPO`` on the same tasks.

    .venv/bin/python scripts/peer_ppo.py --agents sb3-recurrentppo      # data/peer_ppo: the peer, 5 seeds, P and V
    .venv/bin/python scripts/peer_ppo.py --envs CartPole-P --agents sb3-recurrentppo-grsn --seeds 0   # cross-check
    .venv/bin/python scripts/peer_ppo.py --table                        # the table of what data/peer_ppo holds
    .venv/bin/python scripts/peer_ppo.py --envs CartPole-V --agents sb3-recurrentppo gru grsn --seeds 5 \
        --data-dir data/ppo_speed                                        # data/ppo_speed: one run of each

Both trainers run one after the other (or on Ray, ``--ray``), on one thread each (``torch.set_num_threads(1)``), on the
project's task ids (``CartPole-P``, ``CartPole-V``: 500-step episodes), for the same budget of environment steps,
and are evaluated by one protocol: every ~``--eval-interval`` steps, ``--eval-episodes`` greedy episodes (the most
likely action), one fresh environment each, reset with seeds ``10_000 + seed + i`` (the seeds of the project's own
evaluation). The peer's observations are normalised for evaluation with its ``VecNormalize`` statistics of that
moment, frozen, as its policy sees them in training.

The peer's settings are its own CartPoleNoVel performance test's: ``MlpLstmPolicy``, 8 environments,
``n_steps=128``, ``learning_rate=7e-4``, ``batch_size=256``, ``n_epochs=10``, ``gae_lambda=0.98``,
``max_grad_norm=1``, ``VecNormalize`` (observations and returns), ``lstm_hidden_size=64``, a separate critic LSTM,
``net_arch=dict(vf=[64], pi=[])``, ``ortho_init=False``. The project's agents are the CartPole grid's
(:data:`grsn_edu.rl.presets.AGENTS`) with the trainer's defaults.

The runs and their merge into ``data/peer_ppo/`` are the one grid runner's (:mod:`grsn_edu.experiments.runner`;
a cell already recorded at the same budget is skipped, so the grid can be run in pieces): ``eval_curves.csv``
(one row per evaluation) and ``summary.csv`` (one row per run). The table gives, per task and agent: seeds
reaching a greedy return of 475 at some evaluation, the median steps to get there, the median (and range) of the
final greedy return, and environment steps per second of the whole run (training and its evaluations).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from grsn_edu.envs.cartpole import POMDP_IDS
from grsn_edu.envs.gym_tasks import make_env, make_vector_env
from grsn_edu.experiments.aggregate import TARGET_RETURN
from grsn_edu.experiments.grids import agent_config
from grsn_edu.experiments.runner import Curve, Grid, add_grid_arguments, read_grid_summary, run_grid, runner_from_args
from grsn_edu.rl.episodes import play_vector_episodes
from grsn_edu.rl.presets import AGENTS, resolve_agent
from grsn_edu.rl.training import RunFolder
from grsn_edu.util.tables import markdown_table
from grsn_edu.util.validation import check_int

ROOT = Path(__file__).resolve().parents[1]
PEER = "sb3-recurrentppo"
KEY = ["env", "agent", "seed"]
RUN_EVAL_COLUMNS = ["global_step", "eval_return_mean", "eval_return_std", "eval_return_min", "eval_episodes",
                    "wall_time_s"]
EVAL_COLUMNS = KEY + RUN_EVAL_COLUMNS
SUMMARY_COLUMNS = KEY + ["total_steps", "final_eval_return", "best_eval_return", "steps_to_target_eval",
                         "wall_time_s", "env_steps_per_s"]

#: sb3-contrib's own CartPoleNoVel performance-test settings.
PEER_SETTINGS = dict(n_steps=128, learning_rate=7e-4, batch_size=256, n_epochs=10, gae_lambda=0.98, max_grad_norm=1.0)
PEER_POLICY = dict(lstm_hidden_size=64, enable_critic_lstm=True, net_arch=dict(vf=[64], pi=[]), ortho_init=False)
PEER_ENVS = 8
#: The peer trainer with one of the project's cores in place of its LSTMs (actor and critic): name -> grid agent.
PEER_WITH_CORE = {"sb3-recurrentppo-grsn": "grsn", "sb3-recurrentppo-gru": "gru"}
PEERS = (PEER, *PEER_WITH_CORE)


class LSTMShapedCore(torch.nn.Module):
    """One of the project's cores behind ``nn.LSTM``'s call, so sb3-contrib's ``RecurrentPPO`` can train it.

    ``forward(x (T, B, I), (h, c) each (1, B, H)) -> (out (T, B, output_size), (h, c))``: the core's two state
    tensors ride in the LSTM's two slots (a GRSN's membrane and gated current; a GRU's hidden state twice, the
    second slot unused), so sb3-contrib's own rollout buffer, episode-start resets and sequence minibatches
    carry them unchanged.
    """

    def __init__(self, core):
        super().__init__()
        if not 1 <= len(core.state_names) <= 2:
            raise ValueError(f"{core.name}: only cores with one or two state tensors fit an LSTM's (h, c)")
        self.core = core
        self.input_size, self.hidden_size, self.num_layers = core.input_size, core.hidden_size, 1

    def forward(self, x, states):
        h, c = states
        names = self.core.state_names
        state = {names[0]: h[0]} if len(names) == 1 else {names[0]: h[0], names[1]: c[0]}
        out, state = self.core(x, state)
        last = [state[n][None] for n in names]
        return out, (last[0], last[-1])


def core_policy(agent: str):
    """sb3-contrib's ``RecurrentActorCriticPolicy`` with the grid agent's core in place of both LSTMs."""
    from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

    from grsn_edu.snn.cores import make_core

    core, options, _ = resolve_agent(agent)

    class CorePolicy(RecurrentActorCriticPolicy):
        def _build_mlp_extractor(self) -> None:
            # here lstm_output_dim is still the LSTM's hidden size
            probe = make_core(core, self.features_dim, self.lstm_output_dim, **options)
            self.lstm_output_dim = probe.output_size  # the heads read the core's output (2H for readout="both")
            super()._build_mlp_extractor()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            hidden = self.lstm_hidden_state_shape[-1]
            self.lstm_actor = LSTMShapedCore(make_core(core, self.features_dim, hidden, **options))
            self.lstm_critic = LSTMShapedCore(make_core(core, self.features_dim, hidden, **options))
            lr = self.optimizer.param_groups[0]["lr"]  # the optimiser again, over the cores' parameters
            self.optimizer = self.optimizer_class(self.parameters(), lr=lr, **self.optimizer_kwargs)

    return CorePolicy


def greedy_returns(act, env_id: str, episodes: int, seed: int) -> np.ndarray:
    """Returns of ``episodes`` greedy episodes, one fresh environment each, reset with seeds ``seed + i``, played by
    the package's one episode loop (:func:`~grsn_edu.rl.episodes.play_vector_episodes`).

    ``act(obs (E, obs_size) numpy, first (E,) bool) -> actions (E,)`` is called once per step for all
    environments; each environment counts until the end of its first episode.
    """
    envs = make_vector_env(env_id, episodes, seed)
    obs, _ = envs.reset(seed=[seed + i for i in range(episodes)])
    first = np.ones(episodes, dtype=bool)

    def policy(obs):
        actions = np.asarray(act(obs, first.copy()))
        first[:] = False
        return actions

    returns = play_vector_episodes(envs, policy, obs)
    envs.close()
    return returns


def train_peer(env_id: str, seed: int, steps: int, eval_interval: int, eval_episodes: int, progress: bool,
               peer: str = PEER):
    """Train sb3-contrib's RecurrentPPO (``peer``: with its LSTMs, or with a project core, :data:`PEER_WITH_CORE`);
    returns its evaluation rows (global_step, returns..., wall_time_s)."""
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(make_vec_env(lambda: make_env(env_id), n_envs=PEER_ENVS, seed=seed))
    policy = "MlpLstmPolicy" if peer == PEER else core_policy(PEER_WITH_CORE[peer])
    model = RecurrentPPO(policy, venv, seed=seed, device="cpu", policy_kwargs=PEER_POLICY, **PEER_SETTINGS)
    rows: list[dict] = []
    t0 = time.perf_counter()

    def evaluate(step: int) -> None:
        state = {"lstm": None}

        def act(obs, first):
            action, state["lstm"] = model.predict(venv.normalize_obs(obs), state=state["lstm"],
                                                  episode_start=first, deterministic=True)
            return action

        returns = greedy_returns(act, env_id, eval_episodes, 10_000 + seed)
        rows.append({"global_step": step, "eval_return_mean": float(returns.mean()),
                     "eval_return_std": float(returns.std()), "eval_return_min": float(returns.min()),
                     "eval_episodes": eval_episodes, "wall_time_s": time.perf_counter() - t0})

    class Evaluations(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next_eval = eval_interval
            self.bar = tqdm(total=steps, disable=not progress, unit="step", file=sys.stderr,
                            desc=f"{peer} on {env_id} (seed {seed})")

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            self.bar.update(self.num_timesteps - self.bar.n)
            if self.num_timesteps >= self.next_eval:
                evaluate(self.num_timesteps)
                self.next_eval = (self.num_timesteps // eval_interval + 1) * eval_interval
                self.bar.set_postfix(greedy_eval=f"{rows[-1]['eval_return_mean']:.1f}")

    callback = Evaluations()
    model.learn(total_timesteps=steps, callback=callback)
    callback.bar.close()
    if not rows or rows[-1]["global_step"] != model.num_timesteps:
        evaluate(model.num_timesteps)
    venv.close()
    return rows


@dataclasses.dataclass
class PeerConfig:
    """The settings of one run of the peer trainer (a grid cell like a :class:`~grsn_edu.rl.ppo.PPOConfig`)."""

    env_id: str
    peer: str = PEER
    seed: int = 0
    total_steps: int = 100_000
    eval_interval: int = 10_000
    eval_episodes: int = 20

    def validate(self) -> PeerConfig:
        if self.env_id not in POMDP_IDS:
            raise ValueError(f"unknown task {self.env_id!r}; known: {', '.join(POMDP_IDS)}")
        if self.peer not in PEERS:
            raise ValueError(f"unknown peer {self.peer!r}; known: {', '.join(PEERS)}")
        for name in ("seed", "total_steps", "eval_interval", "eval_episodes"):
            check_int(name, getattr(self, name), minimum=0 if name == "seed" else 1)
        return self

    def train_run(self, out_dir, resume: bool = False, progress: bool = True) -> dict:
        """Train the peer into ``out_dir`` (its evaluations as ``eval_curve.csv``, then ``finished.json``); a peer
        run has no checkpoint, so an interrupted one starts again."""
        torch.set_num_threads(1)
        rows = train_peer(self.env_id, self.seed, self.total_steps, self.eval_interval, self.eval_episodes,
                          progress, peer=self.peer)
        run = RunFolder(out_dir, self, [], RUN_EVAL_COLUMNS)
        run.write_config()
        run.eval_rows = rows
        run.write_curves()
        summary = peer_run_summary(dataclasses.asdict(self), {"eval_curve.csv": pd.DataFrame(rows)})
        run.finish(summary)
        return summary


def peer_run_summary(config: dict, curves: dict) -> dict:
    """The summary values of a run of either trainer, from its greedy evaluations."""
    curve = curves["eval_curve.csv"]
    hit = curve.loc[curve["eval_return_mean"] >= TARGET_RETURN, "global_step"]
    wall = float(curve["wall_time_s"].iloc[-1])
    return {"total_steps": config["total_steps"],
            "final_eval_return": float(curve["eval_return_mean"].iloc[-1]),
            "best_eval_return": float(curve["eval_return_mean"].max()),
            "steps_to_target_eval": int(hit.iloc[0]) if len(hit) else np.nan,
            "wall_time_s": wall, "env_steps_per_s": int(curve["global_step"].iloc[-1]) / wall}


#: The data files of a peer comparison (``data/peer_ppo``, ``data/ppo_speed``).
GRID = Grid(name="peer_ppo", key=tuple(KEY), summary_columns=tuple(SUMMARY_COLUMNS), budget="total_steps",
                 summarize=peer_run_summary, curves=(Curve("eval_curves.csv", "eval_curve.csv",
                                                           tuple(RUN_EVAL_COLUMNS)),),
                 run_files=(), command="scripts/peer_ppo.py (data/peer_ppo/README.md)")


def cell_config(env_id: str, agent: str, seed: int, steps: int, eval_interval: int, eval_episodes: int):
    """A peer run's :class:`PeerConfig`, or the project agent's ``PPOConfig`` with the same evaluation protocol."""
    if agent in PEERS:
        return PeerConfig(env_id, agent, seed, steps, eval_interval, eval_episodes)
    return dataclasses.replace(agent_config(env_id, agent, seed, steps), eval_interval=eval_interval,
                               eval_episodes=eval_episodes, threads=1)


def peer_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, agent): seeds, seeds reaching 475, median steps to 475, final greedy return, steps/s."""
    rows = []
    for (env_id, agent), g in summary.groupby(["env", "agent"], sort=True):
        reached = g["steps_to_target_eval"].dropna()
        rows.append({
            "env": env_id, "agent": agent, "seeds": len(g),
            "seeds reaching 475 (greedy)": int(len(reached)),
            "median steps to 475": f"{reached.median():.0f}" if len(reached) else "-",
            "median final greedy return": float(g["final_eval_return"].median()),
            "min": float(g["final_eval_return"].min()),
            "max": float(g["final_eval_return"].max()),
            "env steps / s (median)": float(g["env_steps_per_s"].median()),
            "wall per run (median, s)": float(g["wall_time_s"].median()),
        })
    return pd.DataFrame(rows)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--envs", nargs="+", default=["CartPole-P", "CartPole-V"], help="task ids (CartPole-P, -V, ...)")
    p.add_argument("--agents", nargs="+", default=[PEER, "gru", "grsn"],
                   help=f"{', '.join(PEERS)} and/or the project's agents ({', '.join(AGENTS)})")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--steps", type=int, default=100_000, help="environment steps per run (default 100000)")
    p.add_argument("--eval-interval", type=int, default=10_000)
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--table", action="store_true", help="only print the table of what --data-dir holds")
    add_grid_arguments(p, str(ROOT / "runs" / "peer_ppo"), str(ROOT / "data" / "peer_ppo"))
    args = p.parse_args(argv)
    for env_id in args.envs:
        if env_id not in POMDP_IDS:
            p.error(f"unknown task {env_id!r}; known: {', '.join(POMDP_IDS)}")
    for agent in args.agents:
        if agent not in PEERS and agent not in AGENTS:
            p.error(f"unknown agent {agent!r}; known: {', '.join(PEERS)}, {', '.join(AGENTS)}")
    try:
        for name in ("steps", "eval_interval", "eval_episodes"):
            check_int(name.replace("_", "-"), getattr(args, name))
        for seed in args.seeds:
            check_int("seed", seed, minimum=0)
    except ValueError as err:
        p.error(str(err))
    return args


def cells(args) -> dict:
    """``{(env, agent, seed): settings}`` of the command line, seed-major."""
    return {(e, a, s): cell_config(e, a, s, args.steps, args.eval_interval, args.eval_episodes)
            for s in args.seeds for e in args.envs for a in args.agents}


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.table:
        run_grid(GRID, cells(args), args.runs_dir, args.data_dir, runner_from_args(args), args.dry_run)
    try:
        summary = read_grid_summary(GRID, args.data_dir)
    except FileNotFoundError as err:
        print(f"{err}: run without --table first", file=sys.stderr)
        return 1
    print(markdown_table(peer_table(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
