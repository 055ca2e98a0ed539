"""Reinforcement learning with any core: agents, recurrent PPO, value-decomposition mixers and QMIX/VDN, and the
energy of deployed agents. Imports :mod:`grsn_edu.snn`, :mod:`grsn_edu.envs` and :mod:`grsn_edu.util` only.

* :mod:`~grsn_edu.rl.agents` - the recurrent actor-critic and its acting half (``PolicyActor``).
* :mod:`~grsn_edu.rl.episodes` - the two episode loops (Gymnasium vector env, PettingZoo Parallel env) with a
  per-step hook.
* :mod:`~grsn_edu.rl.gae` - generalised advantage estimation and the time-limit bootstrap.
* :mod:`~grsn_edu.rl.ppo` - recurrent PPO: rollouts, the clipped loss, the update, the training loop.
* :mod:`~grsn_edu.rl.mixers`, :mod:`~grsn_edu.rl.episode_buffer`, :mod:`~grsn_edu.rl.qmix` - QMIX and VDN.
* :mod:`~grsn_edu.rl.training` - what both trainers share: seeding, run folders, checkpoints, resuming.
* :mod:`~grsn_edu.rl.agent_energy` - energy per decision of trained agents.
"""
