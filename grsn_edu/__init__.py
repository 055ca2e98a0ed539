"""grsn-edu: spiking neural networks for reinforcement learning, from one LIF neuron to GRSN.

The reusable parts of the course notebooks:

* :mod:`grsn_edu.neurons` - snnTorch's leaky membrane step and the GRSN gated current.
* :mod:`grsn_edu.cores` - recurrent cores with one interface, built by name with :func:`make_core`.
* :mod:`grsn_edu.energy` - synaptic operations (MAC/AC) and energy per decision from a real forward pass.
* :mod:`grsn_edu.environments` - partially observable CartPole ids (registered on import) and wrappers.
* :mod:`grsn_edu.agents`, :mod:`grsn_edu.ppo` - a recurrent actor-critic and recurrent PPO that train any core.
* :mod:`grsn_edu.cli` - the ``grsn-edu`` command (train, evaluate, reproduce).
"""

from . import environments  # registers CartPole-P, CartPole-V, CartPole-F, CartPole-VF

from .cores import CORE_NAMES, READOUTS, Core, SubstepCore, Trace, count_parameters, make_core
from .energy import E_AC_PJ, E_MAC_PJ, EnergyReport, OpCount, count_core_ops, linear_ops, ops_from_trace

__version__ = "0.1.0"

__all__ = [
    "CORE_NAMES",
    "READOUTS",
    "Core",
    "SubstepCore",
    "Trace",
    "count_parameters",
    "make_core",
    "E_AC_PJ",
    "E_MAC_PJ",
    "EnergyReport",
    "OpCount",
    "count_core_ops",
    "linear_ops",
    "ops_from_trace",
]
