"""Running `python -m simulator ...` inside the test process.

``run_cli(args)`` calls ``simulator.cli.main.main(args)`` the way ``python -m simulator`` does and
returns what a subprocess would have given: the exit code, stdout, stderr (and the wall time).
An argparse error or ``--help`` (``SystemExit``) becomes its exit code. The environment changes
and the working directory hold for the call only. A few real subprocess smoke tests (marked
``slow``) keep the ``python -m simulator`` entry point itself covered.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float = 0.0


@contextlib.contextmanager
def environment(env: Mapping[str, str | None], drop_prefixes: Sequence[str] = ()) -> Iterator[None]:
    """Set (or, for None, remove) variables and remove those starting with a prefix; restore on exit."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith(tuple(drop_prefixes))]:
            del os.environ[key]
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(args: Sequence[str], *, env: Mapping[str, str | None] | None = None,
            drop_env_prefixes: Sequence[str] = (), cwd: Path = ROOT, stdin: str = "") -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")  # has .buffer, like sys.stdin
    old_cwd = os.getcwd()
    old_stdin = sys.stdin
    start = time.monotonic()
    try:
        os.chdir(cwd)
        sys.stdin = fake_stdin
        with environment(env or {}, drop_env_prefixes), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
        os.chdir(old_cwd)
    return CliResult(code, out.getvalue(), err.getvalue(), time.monotonic() - start)
