"""Experiments: the memory-task training protocol, the grids behind ``data/``, and the ``grsn-edu`` command.
Imports the library layers below (:mod:`grsn_edu.rl`, :mod:`grsn_edu.envs`, :mod:`grsn_edu.snn`,
:mod:`grsn_edu.util`), never the course helpers.
"""
