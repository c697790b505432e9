"""Located validation errors, made in one place.

Every input the simulator reads (designs, scenarios, rubrics, rule arguments, stored records) is
validated by a pydantic model or a parser; its complaints become `Problem`s here, each naming the
file, the line and column where the offending value sits (when the data came from a file), and
the field, with a "did you mean" for a misspelt field name.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.errors import Problem
from simulator.model.yamlio import locate
from simulator.suggest import did_you_mean


def located(data: Any, source: str | None, loc: Iterable[Any], message: str) -> Problem:
    """A problem at the position of `loc` inside `data` (a located YAML/JSON document), if known."""
    pos = locate(data, tuple(loc))
    return Problem(message, source, pos[0] if pos else None, pos[1] if pos else None)


def field_path(loc: Sequence[Any]) -> str:
    """`('nodes', 3, 'replicas')` -> `nodes.3.replicas`."""
    return ".".join(str(part) for part in loc)


def error_message(err: Any, model: type[BaseModel] | None = None, what: str = "") -> str:
    """One pydantic error as a sentence: unknown and missing fields named, misspellings suggested.

    `model` (the top-level model) lets an unknown top-level field get a "did you mean" and a list
    of the known fields; `what` names the thing ("a scenario").
    """
    loc = tuple(err.get("loc", ()))
    where = field_path(loc)
    kind = err.get("type")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        if model is not None and len(loc) == 1:
            known = list(model.model_fields)
            return (f"unknown field '{name}'" + did_you_mean(name, known)
                    + (f"; {what} has " if what else "; known fields: ") + ", ".join(known))
        inside = f" in '{field_path(loc[:-1])}'" if len(loc) > 1 else ""
        return f"unknown field '{name}'{inside}"
    if kind == "missing":
        info = model.model_fields.get(str(loc[0])) if model is not None and len(loc) == 1 else None
        extra = f" ({info.description}); add `{loc[0]}:`" if info is not None and info.description else ""
        return f"missing field '{where}'{extra}"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"'{where}': {msg}" if where else msg


def validation_problems(exc: ValidationError, data: Any, source: str | None, *,
                        model: type[BaseModel] | None = None, what: str = "",
                        whole: Sequence[Any] = ()) -> list[Problem]:
    """Every error of a pydantic validation as a located problem (`whole` is where to point a problem
    of the whole document, e.g. a cross-field rule)."""
    out: list[Problem] = []
    for err in exc.errors():
        loc = tuple(err["loc"]) or tuple(whole)
        out.append(located(data, source, loc, error_message(err, model, what)))
    return out
