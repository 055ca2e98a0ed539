"""Spiking neurons and recurrent cores: the bottom layer, which imports no other part of the package.

* :mod:`~grsn_edu.snn.neurons` - snnTorch's leaky membrane step and the GRSN gated current, as functions.
* :mod:`~grsn_edu.snn.trace` - opt-in recording of a core's internals.
* :mod:`~grsn_edu.snn.ops` - synaptic operations (MAC / AC) and their energy.
* :mod:`~grsn_edu.snn.cores` - recurrent cores with one interface, built by name with ``make_core``.
* :mod:`~grsn_edu.snn.energy` - a core's operations per decision, measured on a forward pass or from formulas.
"""
