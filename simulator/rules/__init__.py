"""Rule operators over a design graph, and the parser that turns a rubric's rule into one."""
from simulator.rules import registry as _registry  # noqa: F401  (fills the operator table)
