"""grsn-edu: spiking neural networks for reinforcement learning, from one LIF neuron to GRSN.

The package is in layers; each imports only the layers listed before it:

* :mod:`grsn_edu.util` - files written atomically, argument checks.
* :mod:`grsn_edu.snn` - neurons, traces, operation counts, recurrent cores (``make_core``), a core's energy.
* :mod:`grsn_edu.envs` - partially observable CartPole (``import grsn_edu.envs`` registers its ids with
  Gymnasium), cooperative navigation tasks and their scripted baselines, the cue-recall memory task.
* :mod:`grsn_edu.rl` - agents, recurrent PPO, mixers and QMIX/VDN, the energy of deployed agents.
* :mod:`grsn_edu.experiments` - the memory-task protocol, the grids behind ``data/``, the ``grsn-edu`` command.
* :mod:`grsn_edu.course` - what only the notebooks need: demos, recorded episodes, figures, exercise checks.

What the notebooks and REFERENCE.md use most is re-exported here: ``from grsn_edu import make_core, Trace``. The
package root loads only the neuron layers (torch and snnTorch); Gymnasium and PettingZoo load with
:mod:`grsn_edu.envs` and what builds on it.
"""

from grsn_edu.snn.cores import CORE_NAMES, READOUTS, Core, SubstepCore, count_parameters, make_core
from grsn_edu.snn.energy import count_core_ops, ops_from_trace
from grsn_edu.snn.ops import E_AC_PJ, E_MAC_PJ, EnergyReport, OpCount, linear_ops
from grsn_edu.snn.trace import Trace

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
