"""Environments: partially observable CartPole, cooperative navigation tasks and their scripted baselines, the
cue-recall memory task. Imports nothing else from the package.

* :mod:`~grsn_edu.envs.gym_tasks` - any Gymnasium task by id (POPGym's too), observations flattened to real
  vectors, the previous action appended if asked, copies stepped together.
* :mod:`~grsn_edu.envs.cartpole` - ``CartPole-P``, ``-V``, ``-F``, ``-VF`` (registered when this package is
  imported) and the ``KeepDims`` and ``Flicker`` wrappers.
* :mod:`~grsn_edu.envs.spread` - ``simple_spread``, ``spread_memory`` and ``spread_glimpse`` (PettingZoo Parallel
  API), a scripted full-state controller, a landmark-blind formation and scripted teams on the agents' own views.
* :mod:`~grsn_edu.envs.team_envs` - batches of team tasks stepped together (numpy copies of the spread tasks).
* :mod:`~grsn_edu.envs.cue_recall` - the cue-recall task: recall a cue after a delay.
"""

from grsn_edu.envs import cartpole  # noqa: F401  (registers the CartPole ids with Gymnasium)
