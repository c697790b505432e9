"""Shared test plumbing.

Tests that need an outside part (Chromium, PostgreSQL, a local model server)
call ``need(...)``: where the part is missing they skip with the reason shown,
unless SIMULATOR_REQUIRE_EXTERNAL=1 (set by CI), where a missing part fails.
"""
import os
from pathlib import Path

import pytest

from tests.store_fixtures import store, store_url  # noqa: F401  (the store tests' fixtures, both backends)


def need(available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get("SIMULATOR_REQUIRE_EXTERNAL") == "1":
        pytest.fail(f"required by CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc, health_url: str, log_path: Path, *, what: str, timeout: float = 60.0) -> None:
    """Poll a server started with Popen until its health URL answers 200; fail with its log tail if not."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not healthy after {timeout:.0f} s:\n{log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)


def stop(proc, timeout: float = 10.0) -> None:
    """Terminate a server we started (its own PID), killing it if it does not stop in time."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture()
def db_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite attempts store for the app under test (SIMULATOR_DATABASE_URL points at it)."""
    url = f"sqlite:///{tmp_path}/attempts.sqlite"
    monkeypatch.setenv("SIMULATOR_DATABASE_URL", url)
    return url
