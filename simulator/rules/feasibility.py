"""Static analysis of a rule: whether no design could ever pass it (never_passes), and why.

Only what is certain is reported. Every passing rule implies bounds on how many nodes of some kinds a
design has (`present` says so directly; `reaches` needs a node of its from and to kinds...). Under
`all` those bounds must be satisfiable together: since each node has one kind, a count over a set of
kinds is at least the count over any subset, so "at least 2 of {cache}" and "at most 1 of
{cache, cdn}" cannot both hold.
"""
from __future__ import annotations

from dataclasses import dataclass

from simulator.limits import MAX_NODES, MAX_REPLICAS
from simulator.rules.arguments import Arguments
from simulator.rules.balanced import Balanced
from simulator.rules.decoupled import Decoupled
from simulator.rules.edge import EdgeRule
from simulator.rules.evidence import kinds_text
from simulator.rules.fallback import Fallback
from simulator.rules.no_spof import NoSpof
from simulator.rules.parse import Rule
from simulator.rules.present import Present
from simulator.rules.reaches import Reaches
from simulator.rules.scaled import Scaled
from simulator.rules.via import Via


@dataclass(frozen=True)
class _Bound:
    kinds: frozenset
    low: int
    high: int | None
    loc: tuple
    source: str              # which rule asks, for the message

    def text(self) -> str:
        kinds = kinds_text(sorted(self.kinds))
        if self.high is None:
            return f"at least {self.low} {kinds} node(s)"
        if self.low == 0:
            return f"at most {self.high} {kinds} node(s)" if self.high else f"no {kinds} node"
        if self.low == self.high:
            return f"exactly {self.low} {kinds} node(s)"
        return f"between {self.low} and {self.high} {kinds} nodes"


def _needs_nodes(args: Arguments, loc: tuple) -> list[_Bound]:
    """What a passing operator implies about node counts."""
    op = f"`{args.op}`"
    if isinstance(args, Present):
        return [_Bound(frozenset(args.kind), args.min, args.max, loc, op)]
    fields: list[tuple[str, list[str] | None]] = []
    if isinstance(args, (EdgeRule, Reaches, NoSpof)):
        fields = [("from", args.source), ("to", args.target)]
    elif isinstance(args, Via):
        fields = [("from", args.source), ("to", args.target), ("through", args.through)]
    elif isinstance(args, Fallback):
        fields = [("target", args.target), ("alternatives", args.alternatives)]
    elif isinstance(args, Scaled):
        fields = [("kind", args.kind)]
    elif isinstance(args, Balanced):
        fields = [("kind", args.kind), ("by", args.by)]
    elif isinstance(args, Decoupled):
        fields = [("producer", args.producer), ("consumer", args.consumer)]
        if not args.async_edges:
            fields.append(("through", args.through))
    return [_Bound(frozenset(kinds), 1, None, (*loc, name), f"{op} (its '{name}')")
            for name, kinds in fields if kinds]


def _needs(rule: Rule, loc: tuple) -> list[_Bound]:
    here = (*loc, rule.op)
    if rule.args is not None:
        return _needs_nodes(rule.args, here)
    if rule.op == "all":
        return [b for i, c in enumerate(rule.children) for b in _needs(c, (*here, i))]
    if rule.op == "not":
        inner = rule.children[0]
        if inner.args is not None and isinstance(inner.args, Present):
            p = inner.args
            kinds = frozenset(p.kind)
            if p.max is None and p.min > 0:          # not (count >= min)  ->  count <= min - 1
                return [_Bound(kinds, 0, p.min - 1, (*here, "present"), "`not present`")]
            if p.min == 0 and p.max is not None:     # not (count <= max)  ->  count >= max + 1
                return [_Bound(kinds, p.max + 1, None, (*here, "present"), "`not present`")]
        if inner.op == "not":
            return _needs(inner.children[0], here)
    return []


def _always_holds(rule: Rule) -> bool:
    """True when every (non-empty) design passes the rule."""
    if rule.args is not None:
        return isinstance(rule.args, Present) and rule.args.min == 0 and rule.args.max is None
    if rule.op == "not":
        return never_passes(rule.children[0]) is not None
    if rule.op == "all":
        return all(_always_holds(c) for c in rule.children)
    return any(_always_holds(c) for c in rule.children)


def _operator_impossible(args: Arguments, here: tuple) -> tuple[tuple, str] | None:
    if isinstance(args, Present):
        kinds = kinds_text(args.kind)
        if args.max is not None and args.min > args.max:
            implicit = "" if "min" in args.model_fields_set else " (min is 1 unless given: write min: 0)"
            return (*here, "min"), (f"`present` asks for at least {args.min} and at most {args.max} {kinds} "
                                     f"node(s): no count is both{implicit}; raise max or lower min")
        if args.min > MAX_NODES:
            return (*here, "min"), (f"`present` asks for at least {args.min:,} {kinds} nodes, but a design has "
                                     f"at most {MAX_NODES:,} nodes; lower min")
    if isinstance(args, Scaled) and not args.autoscale_required and not args.autoscale_counts \
            and args.min_replicas > MAX_REPLICAS:
        return (*here, "min_replicas"), (f"`scaled` asks for {args.min_replicas:,} replicas without autoscale, "
                                          f"but a node has at most {MAX_REPLICAS:,}; lower min_replicas")
    return None


def never_passes(rule: Rule, loc: tuple = ()) -> tuple[tuple, str] | None:
    """Why no design could ever pass ``rule``, with the path of the offending part; None if one might.

    Only certain cases are reported: `present` with min above max, `not` of a rule that always holds
    (such as `present` with min 0 and no max), `any` whose every branch is impossible, and `all` whose
    parts ask for node counts that contradict each other.
    """
    here = (*loc, rule.op)
    if rule.args is not None:
        return _operator_impossible(rule.args, here)
    if rule.op == "not":
        if _always_holds(rule.children[0]):
            return here, ("`not` of a rule that every design satisfies (e.g. `present` with min 0 and no max) "
                          "can never pass; give the inner rule a bound, or drop the `not`")
        return None
    if rule.op == "any":
        reasons = [never_passes(c, (*here, i)) for i, c in enumerate(rule.children)]
        if all(reasons):
            return here, "no branch of `any` can pass: " + "; ".join(r[1] for r in reasons if r)
        return None
    for i, child in enumerate(rule.children):
        reason = never_passes(child, (*here, i))
        if reason:
            return reason
    bounds = _needs(rule, loc)
    for wide in bounds:
        if wide.high is None:
            continue
        for narrow in bounds:
            if narrow is not wide and narrow.kinds <= wide.kinds and narrow.low > wide.high:
                return narrow.loc, (f"the parts of `all` contradict each other: {narrow.source} needs "
                                    f"{narrow.text()}, but {wide.source} allows {wide.text()}; "
                                    "no design has both")
    return None
