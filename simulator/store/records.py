"""The attempt record: what the store hands out and what it accepts, declared once.

``AttemptSummary`` (an attempt without its large JSON fields) and ``AttemptRecord`` (all of it)
are frozen dataclasses, so callers never hold live ORM objects. The type of each field is also
its rule: non-empty text within the column's length, one of ``MODES`` / ``END_REASONS``, an aware
datetime (kept in UTC), a finite number, a JSON-storable object. Pydantic checks those rules in
one place: ``check_record`` for a whole attempt (a new one, or one read from an import file) and
``check_fields`` for the fields an update changes. Every complaint becomes a ``StoreError`` that
names the field and what is wrong with it.
"""
from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, PlainValidator, Strict, TypeAdapter, ValidationError, ValidationInfo

from simulator.errors import StoreError
from simulator.model.validation import error_message
from simulator.store.tables import END_REASONS, MAX_LENGTH, MODES

# Validation context key: times may be ISO 8601 strings (an import file) instead of datetimes.
_ISO_TIMES = "iso_times"


def _text(column: str) -> PlainValidator:
    """Non-empty text that fits the column."""
    limit = MAX_LENGTH[column]

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError(f"must be a non-empty string, got {value!r}")
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long; the limit is {limit}")
        return value

    return PlainValidator(check)


def _one_of(choices: tuple[str, ...]) -> PlainValidator:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}")
        return str(value)

    return PlainValidator(check)


def _attempt_id(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a UUID string, got {value!r}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None


def _utc_time(value: Any, info: ValidationInfo) -> datetime:
    iso = bool(info.context and info.context.get(_ISO_TIMES))
    if iso and isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if not isinstance(value, datetime):
        raise ValueError(f"must be {'an ISO 8601 date-time string' if iso else 'a datetime'}, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no timezone; use an aware UTC datetime")
    return value.astimezone(UTC)


def _number(value: Any) -> float:
    """A finite int or float (not a bool), kept as given."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return value


def _score(value: Any) -> float:
    return float(_number(value))


def _json_storable(value: Any) -> Any:
    """Refuse what JSON cannot store (NaN breaks PostgreSQL's json type)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot be stored as JSON: {exc}") from None
    return value


Key = Annotated[str, Strict()]
UTCTime = Annotated[datetime, PlainValidator(_utc_time)]
Number = Annotated[float, PlainValidator(_number)]
Score = Annotated[float, PlainValidator(_score)]
JsonObject = Annotated[dict[Key, Any], AfterValidator(_json_storable)]


@dataclass(frozen=True)
class AttemptSummary:
    """An attempt without its large JSON columns (design, report, feedback)."""

    id: Annotated[str, PlainValidator(_attempt_id)]
    user: Annotated[str, _text("user")]
    scenario_id: Annotated[str, _text("scenario_id")]
    scenario_hash: Annotated[str, _text("scenario_hash")]
    mode: Annotated[str, _one_of(MODES)]
    started_at: UTCTime
    deadline: UTCTime
    ended_at: UTCTime | None
    end_reason: Annotated[str, _one_of(END_REASONS)] | None
    overall_score: Score | None
    category_scores: dict[Key, Score] | None
    grader: Annotated[str, _text("grader")] | None
    app_version: Annotated[str, _text("app_version")]
    created_at: UTCTime
    updated_at: UTCTime
    notes: dict[Key, Annotated[str, Strict()]]
    phase_timings: dict[Key, Number]
    estimates: dict[Key, Number | None]
    token_usage: dict[Key, Number | None] | None

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end; None while the attempt is open."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class AttemptRecord(AttemptSummary):
    """A complete attempt."""

    design: JsonObject
    report: JsonObject | None
    feedback: Annotated[Any, AfterValidator(_json_storable)]

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (datetimes as ISO 8601 strings with offset)."""
        out: dict[str, Any] = {}
        for name in RECORD_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AttemptSummary))
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AttemptRecord))

_RECORD = TypeAdapter(AttemptRecord)


@cache
def _field(name: str) -> TypeAdapter[Any]:
    """The rule of one record field."""
    return TypeAdapter(get_type_hints(AttemptRecord, include_extras=True)[name])


def _describe(errors: Iterable[Any]) -> str:
    """Pydantic errors as one line: the missing fields together, then each other problem."""
    missing, other = [], []
    for err in errors:
        if err["type"] == "missing" and len(err["loc"]) == 1:
            missing.append(str(err["loc"][0]))
        else:
            other.append(error_message(err))
    if missing:
        other.insert(0, f"missing field(s) {', '.join(missing)}")
    return "; ".join(other)


def _check_open_or_finished(ended_at: datetime | None, end_reason: str | None) -> None:
    if (ended_at is None) != (end_reason is None):
        raise StoreError("ended_at and end_reason must be both set (finished) or both empty (open)")


def check_record(data: Mapping[str, Any], *, what: str = "", iso_times: bool = False) -> AttemptRecord:
    """A whole attempt, checked; ``what`` names it in the error ("attempt #3 (id)").

    ``iso_times`` accepts times as ISO 8601 strings (as an export file holds them).
    """
    prefix = f"{what}: " if what else ""
    try:
        record = _RECORD.validate_python(dict(data), context={_ISO_TIMES: iso_times})
    except ValidationError as exc:
        raise StoreError(prefix + _describe(exc.errors())) from None
    try:
        _check_open_or_finished(record.ended_at, record.end_reason)
    except StoreError as exc:
        raise StoreError(prefix + str(exc)) from None
    return record


def check_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Some fields of an attempt (an update), checked: each by the rule of that record field."""
    checked: dict[str, Any] = {}
    errors: list[Any] = []
    for name, value in values.items():
        try:
            checked[name] = _field(name).validate_python(value)
        except ValidationError as exc:
            errors.extend({**err, "loc": (name, *err["loc"])} for err in exc.errors())
    if errors:
        raise StoreError(_describe(errors))
    if "ended_at" in checked and "end_reason" in checked:
        _check_open_or_finished(checked.get("ended_at"), checked.get("end_reason"))
    return checked


def utc_time(name: str, value: Any) -> datetime:
    """An aware datetime given for ``name`` (a filter bound), in UTC."""
    try:
        return _field("started_at").validate_python(value)
    except ValidationError as exc:
        raise StoreError(_describe({**err, "loc": (name,)} for err in exc.errors())) from None

