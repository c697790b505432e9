"""Several processes writing to one store at once (both backends)."""
from __future__ import annotations

import multiprocessing
import queue

import pytest

from simulator.store.repository import Store
from tests import store_fixtures

pytestmark = pytest.mark.slow  # spawns processes

TIMEOUT_S = 180


def _run_processes(target, args_for_worker, workers: int) -> list[tuple]:
    """Start ``workers`` spawned processes, release them together, collect results."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args_for_worker(w), start, results)) for w in range(workers)]
    for p in processes:
        p.start()
    start.set()
    collected = []
    try:
        for _ in processes:
            collected.append(results.get(timeout=TIMEOUT_S))
    except queue.Empty:
        pass
    finally:
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()
    errors = [r for r in collected if r[0] == "error"]
    assert not errors, "\n".join(f"worker {w}:\n{tb}" for _, w, tb in errors)
    assert len(collected) == workers, f"only {len(collected)} of {workers} workers reported back"
    return collected


def test_four_processes_write_400_attempts_into_a_new_store(store_url):
    # The database is empty: the four processes also race to create the schema.
    results = _run_processes(store_fixtures.write_attempts, lambda w: (store_url, w, 100), workers=4)
    written = [attempt_id for _, _, ids in results for attempt_id in ids]
    assert len(written) == 400 and len(set(written)) == 400

    with Store(store_url) as store:
        stored = store.list_attempts()
        assert store.count() == 400
        assert sorted(r.id for r in stored) == sorted(written)  # none lost, none duplicated
        assert all(r.finished and r.overall_score is not None for r in stored)
        assert {r.user for r in stored} == {f"worker-{w}" for w in range(4)}
        for r in stored:  # every process's autosave and report landed on its own rows
            worker, i = r.report["worker"], r.report["i"]
            assert r.user == f"worker-{worker}" and r.notes == {"requirements": f"w{worker} a{i}"}
        assert sum(v["attempts"] for v in store.best_and_latest().values()) == 400


def test_eight_processes_opening_an_empty_store_at_once(store_url):
    _run_processes(store_fixtures.open_store, lambda w: (store_url, w), workers=8)
    with Store(store_url) as store:
        assert store.count() == 0
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
