"""Benchmark of the attempts store and the History page: prints figures, asserts nothing.

    python scripts/bench_store.py [--attempts 10000] [--runs 5]
    python scripts/bench_store.py --seed-only --db /tmp/demo.sqlite --attempts 80   # a demo database

Seeds N attempts into a temporary SQLite database (batch inserts through the
store's ``_insert`` of checked records; reports, designs, notes, estimates and phase timings as the
Practice page writes them, from grading each scenario's reference design and
weakened copies of it), then times:

* the History page's script in AppTest (median of --runs reruns), next to a
  trivial page in the same harness so the AppTest overhead can be subtracted;
* the pieces of that page: ``list_attempts(columns="summary")`` and the frames;
* ``export_csv`` of every attempt and ``Store.export_json()`` of every attempt.

Goals: the page <= 1 s; each export <= 2 s.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.grading.library import Library, load_library  # noqa: E402
from simulator.grading.rubric import evaluate  # noqa: E402
from simulator.model.design import Design, design_from_dict  # noqa: E402
from simulator.model.scenario import estimate_grades  # noqa: E402
from simulator.store.records import check_record  # noqa: E402
from simulator.store.repository import Store  # noqa: E402

USER = "local"
NOTES = {
    "requirements": "Peak traffic is about 10x the daily average; p99 latency budget 200 ms end to end. "
                    "Assume 50M daily users, 20 requests each, read-heavy. Cold start for new users.",
    "tradeoffs": "Cache precomputed results for the head of the distribution; fall back to a popularity "
                 "list when the model server is slow. Async logging to the stream for retraining; "
                 "shadow deploy new models behind A/B flags before promotion.",
}


def weakened(design: Design, drop: float, rng: random.Random) -> Design:
    """The design without a random ``drop`` fraction of its components (and their arrows)."""
    copy = design.copy()
    gone = {n.id for n in copy.nodes if rng.random() < drop}
    copy.nodes = [n for n in copy.nodes if n.id not in gone]
    copy.edges = [e for e in copy.edges if e.source not in gone and e.target not in gone]
    return design_from_dict(copy.to_dict())


def graded_variants(lib: Library, per_scenario: int, seed: int = 11) -> dict[str, list[dict]]:
    """Per scenario, designs from the reference down to about half of it, each graded: sorted weakest first."""
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {}
    for sid, scenario in lib.scenarios.items():
        rubric = lib.rubrics[sid]
        variants = []
        for i in range(per_scenario):
            drop = 0.55 * (1 - i / max(1, per_scenario - 1))
            design = weakened(scenario.reference, drop, rng) if drop > 0 else scenario.reference
            design.scenario = sid
            report = evaluate(design, rubric, scenario.peak_traffic)
            data = report.to_dict()
            answers = {e.id: e.value * rng.choice([0.5, 0.9, 1.0, 1.1, 3.0]) for e in scenario.spec.estimates}
            data["estimates"] = estimate_grades(scenario, answers)
            variants.append({
                "design": design.to_dict(), "report": data, "overall": report.score,
                "categories": report.category_scores(), "estimates": answers,
            })
        variants.sort(key=lambda v: v["overall"])
        out[sid] = variants
    return out


def seed(store: Store, lib: Library, count: int, *, days: int = 365, seed_: int = 7,
         open_attempts: int = 2) -> None:
    """``count`` attempts over the last ``days`` days, scores improving over time, a few
    timed out or abandoned, ``open_attempts`` still open (the newest ones)."""
    rng = random.Random(seed_)
    variants = graded_variants(lib, per_scenario=16)
    hashes = {sid: s.content_hash(lib.rubrics[sid]) for sid, s in lib.scenarios.items()}
    sids = list(lib.scenarios)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=days)
    span = (now - timedelta(hours=2) - start).total_seconds()
    rows = []
    for i in range(count):
        progress = i / max(1, count - 1)  # 0 = oldest
        sid = rng.choice(sids)
        scenario = lib.scenarios[sid]
        options = variants[sid]
        level = min(len(options) - 1, max(0, int(rng.gauss(progress * (len(options) - 1), 2.5))))
        v = options[level]
        started = start + timedelta(seconds=span * progress + rng.randint(0, 600))
        minutes = scenario.spec.duration_minutes
        is_open = i >= count - open_attempts
        reason = "submitted" if is_open else rng.choices(["submitted", "timed_out", "abandoned"], [85, 12, 3])[0]
        used = minutes * 60 if reason == "timed_out" else rng.randint(18 * 60, minutes * 60)
        ended = None if is_open else started + timedelta(seconds=used)
        phases = {}
        left = used
        for p in scenario.spec.phases:
            spent = min(left, p.minutes * 60 * rng.uniform(0.7, 1.3))
            phases[p.name] = round(spent, 1)
            left -= spent
        if is_open:  # started recently, still running
            started = now - timedelta(minutes=10 + i - (count - open_attempts))
        rows.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "user": USER, "scenario_id": sid, "scenario_hash": hashes[sid],
            "mode": "interview" if rng.random() < 0.3 else "practice",
            "started_at": started, "deadline": started + timedelta(minutes=minutes),
            "ended_at": ended, "end_reason": None if is_open else reason,
            "overall_score": None if is_open else v["overall"],
            "category_scores": None if is_open else v["categories"],
            "grader": None if is_open else "rules", "app_version": "bench",
            "created_at": started, "updated_at": ended or started,
            "notes": NOTES, "phase_timings": {} if is_open else phases, "estimates": v["estimates"],
            "token_usage": None, "design": v["design"], "report": None if is_open else v["report"],
            "feedback": None,
        })
    records = [check_record(row) for row in rows]  # the rows are built as the store expects them
    for chunk in range(0, len(records), 1000):
        store._insert(records[chunk:chunk + 1000])


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of fn() in seconds, and its last result."""
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def bench_pages(runs: int, tmp: Path) -> tuple[float, float, float, float]:
    from streamlit.testing.v1 import AppTest

    from ui.navigation import HISTORY

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    t0 = time.perf_counter()
    at.switch_page(HISTORY).run()
    first = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the History page failed: {at.exception[0].value}")

    page, _ = timed(lambda: at.run(), runs)

    table = next(df for df in at.dataframe if "id" in df.value.columns)
    at.session_state[table.key] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    selected, _ = timed(lambda: at.run(), runs)
    if at.exception or not at.metric:
        raise SystemExit("the History page did not show the selected attempt")

    trivial_file = tmp / "trivial_page.py"
    trivial_file.write_text("import streamlit as st\nst.title('Trivial')\nst.write('hello')\n")
    trivial_at = AppTest.from_file(str(trivial_file), default_timeout=60)
    trivial_at.run()
    trivial, _ = timed(lambda: trivial_at.run(), runs)
    return first, page, selected, trivial


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attempts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5, help="reruns of each page (median)")
    ap.add_argument("--db", help="SQLite file to seed (default: a temporary one)")
    ap.add_argument("--days", type=int, default=365, help="spread the attempts over this many days")
    ap.add_argument("--seed-only", action="store_true", help="seed --db and stop")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db_path = Path(args.db) if args.db else tmp / "attempts.sqlite"
        url = f"sqlite:///{db_path}"
        os.environ["SIMULATOR_DATABASE_URL"] = url
        lib = load_library()
        store = Store(url)
        t0 = time.perf_counter()
        seed(store, lib, args.attempts, days=args.days)
        seeded = time.perf_counter() - t0
        size = db_path.stat().st_size / 1e6
        print(f"Seeded {store.count():,} attempts in {seeded:.1f} s ({size:.0f} MB SQLite file)")
        if args.seed_only:
            print(f"Database: {url}")
            store.close()
            return

        print("\nStore (median of 3):")
        t, summaries = timed(lambda: store.list_attempts(user=USER, columns="summary"), 3)
        print(f"  list_attempts(columns='summary')  {t * 1000:7.0f} ms  ({len(summaries):,} rows)")
        t, _ = timed(lambda: store.scenario_overview(USER), 3)
        print(f"  scenario_overview()               {t * 1000:7.0f} ms")
        from ui.history import attempts_frame, category_keys, category_labels, score_series

        def frames():
            labels = category_labels(category_keys(summaries, lib), list(lib.scenarios), lib)
            attempts_frame(summaries, lib, labels, UTC)
            return score_series(summaries, labels, UTC)

        t, scores = timed(frames, 3)
        print(f"  table + chart frames              {t * 1000:7.0f} ms  (chart: {len(scores.data):,} points, "
              f"per {scores.period or 'attempt'})")

        from simulator.store.transfer import export_csv

        t, csv_text = timed(lambda: export_csv(store.list_attempts(columns="summary")), 3)
        print(f"  export_csv(all)                   {t * 1000:7.0f} ms  ({len(csv_text) / 1e6:.1f} MB)"
              f"   goal <= 2000 ms")
        t, json_text = timed(lambda: store.export_json(), 3)
        print(f"  Store.export_json(all)            {t * 1000:7.0f} ms  ({len(json_text) / 1e6:.0f} MB)"
              f"   goal <= 2000 ms")
        del json_text

        print(f"\nPages in AppTest (median of {args.runs} reruns):")
        first, page, selected, trivial = bench_pages(args.runs, tmp)
        print(f"  History, first run (imports, library, chart libs)  {first * 1000:7.0f} ms")
        print(f"  History, rerun                                     {page * 1000:7.0f} ms   goal <= 1000 ms")
        print(f"  History, rerun with one attempt shown in detail    {selected * 1000:7.0f} ms")
        print(f"  trivial page, rerun (AppTest overhead)             {trivial * 1000:7.0f} ms")
        print(f"  History minus the overhead                         {(page - trivial) * 1000:7.0f} ms")
        store.close()


if __name__ == "__main__":
    main()
