"""Traffic and failure simulation of a design: load, utilisation, served share, latency, cost, drills.

A steady-state, flow-level model (no time steps, no randomness): the offered load enters at the entry
nodes and flows along the arrows in topological order; every node compares what it is offered with its
capacity. The model, its formulas and the reasoning behind the catalog defaults are written up in
``docs/simulation.md``; keep the two in step.

Modules: ``run`` (simulate, single_failures), ``compiler`` (a design as index-based lists, compiled once
and reused by every what-if), ``kernel`` (the passes), ``conditions`` (failed nodes and chaos effects),
``traffic`` (entry rates), ``chaos`` (the presets), ``results``, ``report`` (text and JSON), ``constants``,
``inputs`` and ``formatting``. Imports only ``simulator.model`` and the base modules.
"""
