"""Shared test plumbing.

Tests that need an outside part (Chromium, PostgreSQL, a local model server)
call ``need(...)``: where the part is missing they skip with the reason shown,
unless SIMULATOR_REQUIRE_EXTERNAL=1 (set by CI), where a missing part fails.
"""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def need(available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get("SIMULATOR_REQUIRE_EXTERNAL") == "1":
        pytest.fail(f"required by CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)
