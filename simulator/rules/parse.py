"""A parsed rule (an operator with its arguments, or the combinator all, any or not of rules), and
parse_rule, which turns a rubric's rule mapping into one or into problems located by their path."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from simulator.model.roles import known_roles
from simulator.rules.arguments import Arguments
from simulator.rules.context import Context, Outcome
from simulator.rules.registry import OPERATORS
from simulator.suggest import did_you_mean, nearest

COMBINATORS = ("all", "any", "not")

ROLES = frozenset(known_roles())


@dataclass(frozen=True)
class Rule:
    """A parsed rule: an operator with arguments, or a combinator of rules."""

    op: str
    args: Arguments | None = None
    children: tuple[Rule, ...] = ()

    def evaluate(self, ctx: Context) -> Outcome:
        if self.args is not None:
            return self.args.evaluate(ctx)
        results = [c.evaluate(ctx) for c in self.children]
        if self.op == "not":
            inner = results[0]
            return Outcome(not inner.passed, ("it should not hold, but " if inner.passed else "as required, not: ")
                           + inner.evidence, inner.nodes, inner.path)
        if self.op == "all":
            failed = [r for r in results if not r.passed]
            if failed:
                return Outcome(False, "; ".join(dict.fromkeys(r.evidence for r in failed)), _merge(r.nodes for r in failed),
                               failed[0].path, self._all_credit(results))
            return Outcome(True, "; ".join(r.evidence for r in results), _merge(r.nodes for r in results),
                           results[0].path if results else None)
        # any
        passed = [r for r in results if r.passed]
        if passed:
            return Outcome(True, passed[0].evidence, passed[0].nodes, passed[0].path)
        return Outcome(False, "none of the alternatives holds: " + "; ".join(r.evidence for r in results),
                       _merge(r.nodes for r in results), results[0].path if results else None,
                       max((r.credit for r in results), default=0.0))

    def _all_credit(self, results: list[Outcome]) -> float:
        """Partial credit of a failed `all`: the mean credit of its parts (a part that holds counts 1),
        only when its first part (the core of the concept, by convention) holds. With a simulation
        part there is none: the simulation measures the whole design, and its verdict is whole."""
        if not results or not results[0].passed:
            return 0.0
        if any(c.op == "simulate" for c in self.children):
            return 0.0
        # `present` parts are preconditions: they must hold, and having boxes earns nothing by itself
        if any(c.op == "present" and not r.passed for c, r in zip(self.children, results)):
            return 0.0
        credits = [1.0 if r.passed else r.credit for c, r in zip(self.children, results) if c.op != "present"]
        return sum(credits) / len(credits) if credits else 0.0

    def kinds(self) -> set[str]:
        """Every role (kinds included) the rule mentions (for authoring tools and evidence)."""
        out: set[str] = set()
        if self.args is not None:
            for value in self.args.__dict__.values():
                if isinstance(value, list) and all(isinstance(v, str) and v in ROLES for v in value):
                    out.update(value)
        for c in self.children:
            out |= c.kinds()
        return out


def _merge(groups: Iterable[list[str]]) -> list[str]:
    """Node ids of several outcomes, first occurrence first, without repeats."""
    return list(dict.fromkeys(n for g in groups for n in g))


@dataclass
class RuleProblem:
    """What is wrong with a rule, at ``loc``: the path of keys and indices inside the rule mapping."""

    loc: tuple
    message: str


def parse_rule(raw: Any, loc: tuple = ()) -> tuple[Rule | None, list[RuleProblem]]:
    """Parse a rule mapping; returns the rule or None and every problem found, each with its path."""
    valid = ", ".join([*OPERATORS, *COMBINATORS])
    if not isinstance(raw, dict) or len(raw) != 1:
        keys = f" (found {', '.join(map(str, raw))})" if isinstance(raw, dict) and raw else ""
        return None, [RuleProblem(loc, f"a rule is a mapping with exactly one operator{keys}; "
                                       f"valid operators: {valid}")]
    (op, value), = raw.items()
    here = (*loc, op)
    if op in COMBINATORS:
        items = [value] if op == "not" else value
        if op == "not" and isinstance(value, list):
            return None, [RuleProblem(here, "`not` takes one rule, not a list")]
        if not isinstance(items, list) or not items:
            return None, [RuleProblem(here, f"`{op}` takes a non-empty list of rules")]
        children, problems = [], []
        for i, item in enumerate(items):
            child, probs = parse_rule(item, here if op == "not" else (*here, i))
            problems += probs
            if child is not None:
                children.append(child)
        if problems:
            return None, problems
        return Rule(op, None, tuple(children)), []
    cls = OPERATORS.get(op)
    if cls is None:
        hint = _hint(op, [*OPERATORS, *COMBINATORS])
        return None, [RuleProblem(here, f"unknown rule operator '{op}'; {hint}valid operators: {valid}")]
    if not isinstance(value, dict):
        return None, [RuleProblem(here, f"the arguments of `{op}` must be a mapping, e.g. "
                                        f"{op}: {{{', '.join(field_names(cls)[:2])}: ...}}")]
    try:
        args = cls.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt field shows once, as "unknown field 'thrugh'; did you mean through?", not also as missing
        names = field_names(cls)
        meant = {m for e in errors if e["type"] == "extra_forbidden"
                 for m in nearest(e["loc"][0], names, cutoff=0.5)}
        errors = [e for e in errors if not (e["type"] == "missing" and str(e["loc"][0]) in meant)]
        return None, [RuleProblem(here + tuple(err["loc"]), _message(cls, err)) for err in errors]
    return Rule(op, args), []


def field_names(cls: type[Arguments]) -> list[str]:
    """The fields of an operator as a rule writes them (`from`, not `source`)."""
    return [f.alias or name for name, f in cls.model_fields.items()]


def _message(cls: type[Arguments], err: ErrorDetails) -> str:
    field_name = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        names = field_names(cls)
        hint = _hint(field_name, names)
        return f"unknown field '{field_name}' in a `{cls.op}` rule; {hint}valid fields: {', '.join(names)}"
    if err["type"] == "missing":
        return f"`{cls.op}` rule needs '{field_name}'"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"`{cls.op}` rule, field '{field_name}': {msg}"


def _hint(text: object, known: list[str]) -> str:
    """``did you mean through? `` to go before the list of valid names, or ''."""
    hint = did_you_mean(text, known, prefix="", cutoff=0.5)
    return f"{hint} " if hint else ""
