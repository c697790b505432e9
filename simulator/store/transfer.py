"""Attempts in and out of the store as files: the JSON export (and its import check) and CSV.

The JSON export holds every field of every attempt, one attempt per line, and reads back with
``parse_export_json`` (each attempt checked as a record; a bad one is named by its position in
the file and its id). The CSV has one row per attempt for spreadsheets: text that a spreadsheet
would run as a formula is neutralised.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from simulator.errors import StoreError
from simulator.store.records import RECORD_FIELDS, AttemptRecord, AttemptSummary, check_record

EXPORT_FORMAT = "ml-sd-simulator-attempts"
EXPORT_VERSION = 1
CSV_NOTES_LIMIT = 1000

# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def export_json(records: Iterable[AttemptRecord]) -> str:
    """A JSON document with every field of every attempt, for ``Store.import_json``.

    One attempt per line, so large exports stay readable and diff-able.
    """
    parts = []
    for record in records:
        if not isinstance(record, AttemptRecord):
            raise StoreError(
                "export_json needs complete attempts; list them with columns='full' (the default)"
            )
        parts.append(json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False))
    return _export_document(parts)


def export_json_rows(rows: Iterable[Sequence[Any]], json_text: Collection[str]) -> str:
    """The ``export_json`` document from database rows, without decoding their JSON.

    Each row holds the record fields in ``RECORD_FIELDS`` order; the fields named in
    ``json_text`` hold JSON text as stored (or None), copied into the document as is.
    """
    keys = [json.dumps(name) + ": " for name in RECORD_FIELDS]
    is_json = [name in json_text for name in RECORD_FIELDS]
    dumps = json.dumps
    parts = []
    for row in rows:
        items = []
        for key, raw, value in zip(keys, is_json, row, strict=True):
            if raw:
                items.append(key + ("null" if value is None else value))
            elif isinstance(value, datetime):
                items.append(key + '"' + value.isoformat() + '"')
            else:
                items.append(key + dumps(value, ensure_ascii=False))
        parts.append("{" + ", ".join(items) + "}")
    return _export_document(parts)


def _export_document(parts: list[str]) -> str:
    head = f'{{"format": {json.dumps(EXPORT_FORMAT)}, "version": {EXPORT_VERSION}, "attempts": ['
    if not parts:
        return head + "]}\n"
    return head + "\n" + ",\n".join(parts) + "\n]}\n"


def parse_export_json(text_: str | bytes) -> list[AttemptRecord]:
    """Check an export document; return its attempts, every one checked as a record."""
    records = []
    for index, item in enumerate(_exported_attempts(text_)):
        what = f"attempt #{index}"
        if not isinstance(item, dict):
            raise StoreError(f"{what}: expected an object, got {type(item).__name__}")
        if isinstance(item.get("id"), str):
            what += f" ({item['id']})"
        records.append(check_record(item, what=what, iso_times=True))
    return records


def _exported_attempts(text_: str | bytes) -> list[Any]:
    """The ``attempts`` list of an export document, after checking its format and version."""
    try:
        doc = json.loads(text_)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"the import file is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise StoreError(
            f"the import file is not an attempts export: expected \"format\": \"{EXPORT_FORMAT}\", found {found!r}"
        )
    version = doc.get("version")
    if version != EXPORT_VERSION:
        raise StoreError(f"unsupported attempts export version {version!r}; this app reads version {EXPORT_VERSION}")
    attempts = doc.get("attempts")
    if not isinstance(attempts, list):
        raise StoreError('the import file has no "attempts" list')
    return attempts


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CSV_HEAD = ["id", "scenario", "user", "started_at", "ended_at", "duration_s", "end_reason", "mode", "overall"]


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): prefix a single quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    rounded = round(float(value), 4)
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)


def _category_column(name: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return "cat_" + (slug or "unnamed")


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _category_columns(records: Sequence[AttemptSummary]) -> dict[str, str]:
    """Every category seen -> its own ``cat_<slug>`` column name (unique), in column order."""
    categories = sorted(
        {name for r in records for name in (r.category_scores or {})},
        key=lambda name: (_category_column(name), name),
    )
    columns: dict[str, str] = {}
    used = {*_CSV_HEAD, "notes"}
    for name in categories:
        column, n = _category_column(name), 2
        while column in used:
            column, n = f"{_category_column(name)}_{n}", n + 1
        used.add(column)
        columns[name] = column
    return columns


def _csv_row(r: AttemptSummary, categories: Iterable[str]) -> list[str]:
    scores = r.category_scores or {}
    notes = "\n\n".join(v.strip() for v in (r.notes or {}).values() if isinstance(v, str) and v.strip())
    return (
        [
            _safe_cell(r.id),
            _safe_cell(r.scenario_id),
            _safe_cell(r.user),
            _iso(r.started_at),
            _iso(r.ended_at),
            _fmt_number(r.duration_s),
            _safe_cell(r.end_reason or ""),
            _safe_cell(r.mode),
            _fmt_number(r.overall_score),
        ]
        + [_fmt_number(scores.get(name)) for name in categories]
        + [_safe_cell(notes[:CSV_NOTES_LIMIT])]
    )


def export_csv(records: Iterable[AttemptSummary]) -> str:
    """One row per attempt (summaries suffice): id, scenario, user, started_at,
    ended_at, duration_s, end_reason, mode, overall, one ``cat_<category>``
    column per category seen, notes (all fields joined, cut at 1,000 chars).

    Text cells that a spreadsheet would run as a formula get a leading ``'``.
    """
    records = list(records)
    columns = _category_columns(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_HEAD + list(columns.values()) + ["notes"])
    for r in records:
        writer.writerow(_csv_row(r, columns))
    return buffer.getvalue()
