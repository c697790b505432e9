"""The operator table: every rule operator by its `op` name, in the order the docs and schema list them."""
from __future__ import annotations

from simulator.rules.arguments import Arguments
from simulator.rules.balanced import Balanced
from simulator.rules.decoupled import Decoupled
from simulator.rules.edge import EdgeRule
from simulator.rules.fallback import Fallback
from simulator.rules.no_spof import NoSpof
from simulator.rules.present import Present
from simulator.rules.reaches import Reaches
from simulator.rules.scaled import Scaled
from simulator.rules.simulated import Simulated
from simulator.rules.via import Via

OPERATORS: dict[str, type[Arguments]] = {
    cls.op: cls for cls in (Present, EdgeRule, Reaches, Via, Fallback, NoSpof, Scaled, Balanced, Decoupled,
                            Simulated)
}
