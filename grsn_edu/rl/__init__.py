"""Reinforcement learning with any core: agents, recurrent PPO, value-decomposition mixers and QMIX/VDN, and the
energy of deployed agents. Imports :mod:`grsn_edu.snn`, :mod:`grsn_edu.envs` and :mod:`grsn_edu.util` only.
"""
