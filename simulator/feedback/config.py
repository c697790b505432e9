"""Which grader is active and how to reach the model: ``GraderConfig`` from the environment and secrets.toml.

Configuration (environment first, then ``.streamlit/secrets.toml`` with the same keys):
``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``SIMULATOR_LLM_MODEL``, ``SIMULATOR_LLM_TIMEOUT``
(seconds for the whole review, retries included; default 60), and optionally
``SIMULATOR_LLM_TEMPERATURE`` (not sent unless set: reasoning models reject it),
``SIMULATOR_LLM_MAX_TOKENS`` (completion budget, default 1500), ``SIMULATOR_LLM_RETRIES``
(tries on 429/5xx/connection errors, default 3) and ``SIMULATOR_LLM_BACKOFF`` (first retry
delay in seconds, doubled each time; default 1). The API key is held as a ``Secret``.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from simulator.feedback.redaction import Secret
from simulator.paths import ROOT

DEFAULT_TIMEOUT = 60.0
DEFAULT_TRIES = 3
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_TOKENS = 1500
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_LOCAL_MODEL = "local-model"   # llama-server ignores the name; Ollama/vLLM need a real one
SECRETS_KEYS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SIMULATOR_LLM_MODEL", "SIMULATOR_LLM_TIMEOUT",
                "SIMULATOR_LLM_TEMPERATURE", "SIMULATOR_LLM_MAX_TOKENS", "SIMULATOR_LLM_RETRIES",
                "SIMULATOR_LLM_BACKOFF")


@dataclass(frozen=True)
class GraderConfig:
    """Which grader is active and how to reach the model. ``to_dict`` never shows the key."""
    grader: str                      # "llm" or "rules"
    model: str | None = None
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    temperature: float | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    tries: int = DEFAULT_TRIES
    backoff: float = DEFAULT_BACKOFF
    source: str = "none"             # env, secrets, env+secrets or none
    note: str | None = None          # why the rule grader is active, or a setting that was ignored
    secret: Secret | None = field(default=None, repr=False, compare=False)

    @property
    def api_key(self) -> str | None:
        return self.secret.reveal() if self.secret is not None else None

    @property
    def llm(self) -> bool:
        return self.grader == "llm"

    @property
    def host(self) -> str | None:
        """The server's host[:port] (``api.openai.com`` when no base_url is set)."""
        if not self.llm:
            return None
        if not self.base_url:
            return "api.openai.com"
        parsed = urlparse(self.base_url)
        return parsed.netloc.rsplit("@", 1)[-1] or self.base_url

    @property
    def is_openai(self) -> bool:
        return self.llm and (self.host or "").split(":")[0].endswith("api.openai.com")

    def describe(self) -> str:
        if not self.llm:
            return "rule grader" + (f" ({self.note})" if self.note else "")
        return f"LLM grader: {self.model} at {self.host}"

    def to_dict(self) -> dict[str, Any]:
        return {"grader": self.grader, "model": self.model, "host": self.host, "timeout": self.timeout,
                "temperature": self.temperature, "max_tokens": self.max_tokens, "tries": self.tries,
                "source": self.source, "note": self.note, "key_set": bool(self.api_key)}


def _secrets_files() -> list[Path]:
    """Streamlit's places, lowest priority first: the user's, the repo's, the working dir's.

    ``SIMULATOR_SECRETS_FILE`` names the one file to read instead (tests use os.devnull).
    """
    only = os.environ.get("SIMULATOR_SECRETS_FILE")
    if only is not None:
        return [Path(only)] if only else []
    out = [Path.home() / ".streamlit" / "secrets.toml", ROOT / ".streamlit" / "secrets.toml",
           Path.cwd() / ".streamlit" / "secrets.toml"]
    seen: list[Path] = []
    for p in out:
        try:
            resolved = p.resolve()
        except OSError:
            continue
        if resolved not in seen:
            seen.append(resolved)
    return seen


def read_secrets(paths: list[Path] | None = None) -> tuple[dict[str, str], list[str]]:
    """The grader's keys from secrets.toml files (later files win) and any problems reading them."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for path in paths if paths is not None else _secrets_files():
        path = Path(path)
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path} was ignored: {type(exc).__name__}")
            continue
        for key in SECRETS_KEYS:
            value = data.get(key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
                values[key] = str(value).strip()
    return values, problems


def _merged_values(env: Mapping[str, str], file_values: dict[str, str]) -> tuple[dict[str, str], str]:
    """Each key from the environment, else from the files; and where they came from."""
    values: dict[str, str] = {}
    from_env = from_file = False
    for key in SECRETS_KEYS:
        raw = env.get(key)
        if raw is not None and raw.strip():
            values[key] = raw.strip()
            from_env = True
        elif key in file_values:
            values[key] = file_values[key]
            from_file = True
    source = "env+secrets" if from_env and from_file else "env" if from_env else "secrets" if from_file else "none"
    return values, source


def _number(raw: str | None, default: float, low: float, high: float, name: str, notes: list[str]) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError
    except ValueError:
        notes.append(f"{name}={raw!r} is not a number; using {default:g}")
        return default
    return min(max(value, low), high)


def _limits(values: dict[str, str], source: str, notes: list[str]) -> GraderConfig:
    """The rule grader's config carrying the numeric settings (timeout, temperature, tokens, retries)."""
    timeout = _number(values.get("SIMULATOR_LLM_TIMEOUT"), DEFAULT_TIMEOUT, 0.1, 3600, "SIMULATOR_LLM_TIMEOUT", notes)
    temp_raw = values.get("SIMULATOR_LLM_TEMPERATURE")
    temperature = None if temp_raw is None else _number(temp_raw, 0.2, 0.0, 2.0, "SIMULATOR_LLM_TEMPERATURE", notes)
    max_tokens = int(_number(values.get("SIMULATOR_LLM_MAX_TOKENS"), DEFAULT_MAX_TOKENS, 64, 32000,
                             "SIMULATOR_LLM_MAX_TOKENS", notes))
    tries = int(_number(values.get("SIMULATOR_LLM_RETRIES"), DEFAULT_TRIES, 1, 10, "SIMULATOR_LLM_RETRIES", notes))
    backoff = _number(values.get("SIMULATOR_LLM_BACKOFF"), DEFAULT_BACKOFF, 0.0, 30, "SIMULATOR_LLM_BACKOFF", notes)
    return GraderConfig("rules", timeout=timeout, temperature=temperature, max_tokens=max_tokens, tries=tries,
                        backoff=backoff, source=source)


def grader_config(env: Mapping[str, str] | None = None, secrets_paths: list[Path] | None = None) -> GraderConfig:
    """The active grader from the environment and secrets.toml (the environment wins).

    The LLM grader is active when an API key or a base URL is set. Without a model name it
    uses gpt-4o-mini on OpenAI, or ``local-model`` on a base URL (fine for llama-server).
    """
    env = os.environ if env is None else env
    file_values, notes = read_secrets(secrets_paths)
    values, source = _merged_values(env, file_values)
    common = _limits(values, source, notes)
    key = values.get("OPENAI_API_KEY")
    base_url = values.get("OPENAI_BASE_URL")
    if base_url and not re.match(r"^https?://", base_url):
        notes.append("OPENAI_BASE_URL must start with http:// or https://; it was ignored")
        base_url = None
    model = values.get("SIMULATOR_LLM_MODEL")
    if not key and not base_url:
        why = "no LLM configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
        if model:
            why += f" (SIMULATOR_LLM_MODEL={model} alone is not enough)"
        return replace(common, note="; ".join([why, *notes]))
    model = model or (DEFAULT_LOCAL_MODEL if base_url else DEFAULT_OPENAI_MODEL)
    return replace(common, grader="llm", model=model, base_url=base_url.rstrip("/") if base_url else None,
                   note="; ".join(notes) or None, secret=Secret(key) if key else None)
