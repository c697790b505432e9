"""The operator table: every rule operator by its `op` name."""
from simulator.rules.core import OPERATORS
from simulator.rules.simulated import Simulated

OPERATORS.setdefault(Simulated.op, Simulated)
