"""Calls to the model through the ``openai`` SDK: response formats, streaming, retries, the deadline.

One ``Session`` makes one review's calls (OpenAI, or a local server such as Ollama, vLLM or
llama.cpp's llama-server through ``OPENAI_BASE_URL``). It asks for the strictest response
format first and falls back to a looser one when the server rejects it (remembered per
server and model); it retries 429s, 5xx and connection errors with exponential backoff
(or the server's Retry-After), drops parameters a server rejects (``stream_options``,
``temperature``), and keeps the whole review within the configured timeout. Every
failure becomes a ``ReviewFailed`` whose text is the user-facing reason, scrubbed of the key.
"""
from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from simulator.feedback.answer import response_schema
from simulator.feedback.config import GraderConfig, grader_config
from simulator.feedback.redaction import scrub
from simulator.feedback.text import shorten
from simulator.feedback.usage import Usage, chars_to_tokens, estimated_usage

log = logging.getLogger(__name__)

NO_KEY_PLACEHOLDER = "sk-no-key-required"
MAX_RETRY_AFTER = 10.0           # a longer Retry-After ends the review instead of waiting
CONNECTION_TEST_TIMEOUT = 20.0   # seconds, at most, for test_connection

# Response formats, most to least strict; a server that rejects one gets the next.
#   json_schema         strict schema with every bound (string maxLength, list maxItems, enums)
#   json_schema_lean    the same without string maxLength (strings are clipped here instead), for
#                       servers that reject maxLength. Every server starts with the bounded form:
#                       llama.cpp samples 5-8x slower under maxLength grammars, but without them a
#                       small model rambles inside a string until the token limit
#   json_object_schema  {"type": "json_object", "schema": ...} (llama-cpp-python's server)
#   json_object         plain JSON mode; the schema is in the prompt for both json_object forms
FORMATS = ("json_schema", "json_schema_lean", "json_object_schema", "json_object")
_FORMAT_MEMO: dict[tuple[str | None, str | None], int] = {}


def reset_memo() -> None:
    """Forget which response format each server accepted."""
    _FORMAT_MEMO.clear()


def make_client(config: GraderConfig) -> Any:
    """An ``openai.OpenAI`` client for the config: our own retries, so the SDK's are off."""
    from openai import OpenAI

    return OpenAI(api_key=config.api_key or NO_KEY_PLACEHOLDER, base_url=config.base_url,
                  timeout=config.timeout, max_retries=0)


@dataclass
class Progress:
    """What ``on_progress`` receives: kind is start, delta, retry, fallback, reask or done."""
    kind: str
    message: str = ""
    delta: str = ""
    chars: int = 0
    tokens: int = 0


class ReviewFailed(Exception):
    """A review that cannot go on: ``str()`` is the user-facing reason (already scrubbed)."""


class FormatChanged(Exception):
    """The prompt must be rebuilt for the next response format."""


@dataclass
class Reply:
    content: str
    refusal: str | None
    finish_reason: str | None
    usage: Usage


def _response_format(fmt: str, schema: dict, lean: dict) -> dict:
    if fmt == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "interview_feedback", "strict": True, "schema": schema}}
    if fmt == "json_schema_lean":
        return {"type": "json_schema", "json_schema": {"name": "interview_feedback", "strict": True, "schema": lean}}
    if fmt == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def _error_text(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    parts = [str(getattr(exc, "message", "") or exc)]
    if body is not None:
        try:
            parts.append(json.dumps(body)[:2000])
        except (TypeError, ValueError):
            parts.append(str(body)[:2000])
    return " ".join(parts)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        raw = headers.get("retry-after")
        if raw is not None:
            return max(0.0, float(raw))
    except (TypeError, ValueError):
        return None
    return None


def _usage_from(obj: Any) -> Usage | None:
    if obj is None:
        return None
    try:
        p = int(getattr(obj, "prompt_tokens", 0) or 0)
        c = int(getattr(obj, "completion_tokens", 0) or 0)
        t = int(getattr(obj, "total_tokens", 0) or 0) or p + c
    except (TypeError, ValueError):
        return None
    return Usage(p, c, t, False)


class Session:
    """One review's calls: format ladder, retries with backoff, the overall deadline."""

    def __init__(self, client: Any, config: GraderConfig, cat_names: list[str], node_ids: list[str], stream: bool,
                 on_progress: Callable[[Progress], None] | None):
        self.client = client
        self.config = config
        self.stream = stream
        self.on_progress = on_progress
        self.schema = response_schema(cat_names, node_ids=node_ids)
        self.lean = response_schema(cat_names, string_bounds=False, node_ids=node_ids)
        self.memo_key = (config.base_url, config.model)
        self.fmt = _FORMAT_MEMO.get(self.memo_key, 0)
        self.send_stream_options = True
        self.send_temperature = config.temperature is not None
        self.start = time.monotonic()
        self.deadline = self.start + config.timeout
        self.usage = Usage()

    # -- helpers ----------------------------------------------------------
    def emit(self, kind: str, message: str = "", **kw: Any) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(Progress(kind, message, **kw))
        except Exception as exc:  # a broken progress display must not break the review
            log.debug("on_progress failed: %s", type(exc).__name__)

    def scrub(self, text: Any) -> str:
        return scrub(text, self.config.api_key)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def timed_out(self) -> ReviewFailed:
        return ReviewFailed(f"timed out after {self.config.timeout:g} s")

    @property
    def format_name(self) -> str:
        return FORMATS[self.fmt]

    def schema_in_prompt(self) -> bool:
        return self.format_name.startswith("json_object")

    # -- one request, with retries ---------------------------------------
    def request(self, messages: list[dict[str, str]], prompt_chars: int) -> Reply:
        """One reply from the model; raises ReviewFailed, or FormatChanged when the prompt must be rebuilt."""
        import openai

        tries = 0
        while True:
            left = self.remaining()
            if left <= 0:
                raise self.timed_out()
            try:
                return self._once(messages, left, prompt_chars)
            except ReviewFailed:
                raise
            except openai.APITimeoutError:
                raise self.timed_out() from None
            except openai.APIStatusError as exc:
                tries = self._after_status_error(exc, tries)
            except openai.APIConnectionError as exc:
                tries += 1
                self._wait_or_fail(tries, f"cannot reach {self.config.host} ({shorten(self.scrub(exc), 120)})", None)
            except Exception as exc:
                if "timeout" in type(exc).__name__.lower():
                    raise self.timed_out() from None
                raise

    def _after_status_error(self, exc: Any, tries: int) -> int:
        """Adapt the request, or wait before trying again (returns the tries so far), or fail."""
        status = exc.status_code
        lowered = _error_text(exc).lower()
        if status in (400, 422) and self.send_stream_options and self.stream and "stream_options" in lowered:
            self.send_stream_options = False
            return tries
        if status in (400, 422) and self.send_temperature and "temperature" in lowered:
            self.send_temperature = False
            return tries
        if status in (400, 422, 500) and re.search(r"response_format|json_schema|schema|json_object|grammar", lowered):
            self._next_format(status, exc)
        if status == 429 or status >= 500:
            tries += 1
            what = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status})"
            self._wait_or_fail(tries, what, _retry_after(exc))
            return tries
        if status in (401, 403):
            raise ReviewFailed(f"the server refused the credentials (HTTP {status}): "
                               f"{shorten(self.scrub(exc.message), 200)}") from None
        if status == 404:
            raise ReviewFailed(f"not found (HTTP 404): is the model name '{self.config.model}' and the "
                               f"base URL right? {shorten(self.scrub(exc.message), 160)}") from None
        raise ReviewFailed(f"HTTP {status}: {shorten(self.scrub(exc.message), 240)}") from None

    def _next_format(self, status: int, exc: Any) -> NoReturn:
        """The server rejected the response format: the next one (FormatChanged), or none left."""
        if self.fmt + 1 < len(FORMATS):
            self.fmt += 1
            _FORMAT_MEMO[self.memo_key] = self.fmt
            self.emit("fallback", f"the server rejected the response format; trying {self.format_name}")
            raise FormatChanged() from None
        raise ReviewFailed(f"the server accepts none of the structured-output formats "
                           f"(HTTP {status}: {shorten(self.scrub(exc.message), 200)})") from None

    def _wait_or_fail(self, tries: int, what: str, retry_after: float | None) -> None:
        if tries >= self.config.tries:
            raise ReviewFailed(f"{what}, {tries} tries") from None
        if retry_after is not None and retry_after > MAX_RETRY_AFTER:
            raise ReviewFailed(f"{what}: the server asks to retry after {retry_after:g} s") from None
        delay = retry_after if retry_after is not None else self.config.backoff * (2 ** (tries - 1))
        if delay >= self.remaining():
            raise self.timed_out()
        self.emit("retry", f"{what}; retrying in {delay:.1f} s (try {tries + 1} of {self.config.tries})")
        time.sleep(delay)

    def _kwargs(self, messages: list[dict[str, str]], left: float) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "model": self.config.model, "messages": messages, "timeout": max(0.05, left),
            "response_format": _response_format(self.format_name, self.schema, self.lean),
        }
        if self.config.is_openai:
            kw["max_completion_tokens"] = self.config.max_tokens
        else:
            kw["max_tokens"] = self.config.max_tokens
        if self.send_temperature:
            kw["temperature"] = self.config.temperature
        if self.stream:
            kw["stream"] = True
            if self.send_stream_options:
                kw["stream_options"] = {"include_usage": True}
        return kw

    def _once(self, messages: list[dict[str, str]], left: float, prompt_chars: int) -> Reply:
        kw = self._kwargs(messages, left)
        if not self.stream:
            resp = self.client.chat.completions.create(**kw)
            choice = resp.choices[0] if getattr(resp, "choices", None) else None
            message = getattr(choice, "message", None)
            content = (getattr(message, "content", None) or "") if message is not None else ""
            refusal = getattr(message, "refusal", None) if message is not None else None
            usage = _usage_from(getattr(resp, "usage", None))
            finish = getattr(choice, "finish_reason", None)
        else:
            content, refusal, finish, usage = self._stream(kw)
        if usage is None or (usage.prompt_tokens == 0 and usage.completion_tokens == 0):
            usage = estimated_usage(prompt_chars, len(content or refusal or ""))
        self.usage.add(usage)
        return Reply(content, refusal, finish, usage)

    def _count_partial(self, kw: dict[str, Any], chars: int) -> None:
        """A stream cut short still used tokens: count them, estimated."""
        self.usage.add(estimated_usage(sum(len(m["content"]) for m in kw["messages"]), chars))

    def _stream(self, kw: dict[str, Any]) -> tuple[str, str | None, str | None, Usage | None]:
        parts: list[str] = []
        refusal_parts: list[str] = []
        finish = None
        usage = None
        chars = 0
        stream = self.client.chat.completions.create(**kw)
        try:
            for chunk in stream:
                if time.monotonic() > self.deadline:
                    self._count_partial(kw, chars)
                    raise self.timed_out()
                got = _usage_from(getattr(chunk, "usage", None))
                if got is not None and (got.prompt_tokens or got.completion_tokens):
                    usage = got
                for choice in getattr(chunk, "choices", None) or []:
                    delta = getattr(choice, "delta", None)
                    piece = getattr(delta, "content", None) if delta is not None else None
                    if piece:
                        parts.append(piece)
                        chars += len(piece)
                        self.emit("delta", delta=piece, chars=chars, tokens=chars_to_tokens(chars))
                    refusal = getattr(delta, "refusal", None) if delta is not None else None
                    if refusal:
                        refusal_parts.append(refusal)
                    if getattr(choice, "finish_reason", None):
                        finish = choice.finish_reason
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()
        return "".join(parts), ("".join(refusal_parts) or None), finish, usage


def test_connection(config: GraderConfig | None = None, client: Any = None) -> tuple[bool, str]:
    """One tiny call to the configured model: (ok, message for the user). Never raises; no key in the message."""
    import openai

    config = config or grader_config()
    if not config.llm:
        return False, config.note or "no LLM configured"
    timeout = min(config.timeout, CONNECTION_TEST_TIMEOUT)
    kw: dict[str, Any] = {"model": config.model, "messages": [{"role": "user", "content": "Reply with the word OK."}],
                          "timeout": timeout}
    kw["max_completion_tokens" if config.is_openai else "max_tokens"] = 16
    start = time.monotonic()
    try:
        resp = (client or make_client(config)).chat.completions.create(**kw)
    except openai.APITimeoutError:
        return False, f"{config.host}: no answer within {timeout:g} s"
    except openai.APIStatusError as exc:
        return False, scrub(f"{config.host}: HTTP {exc.status_code}: {shorten(exc.message, 200)}", config.api_key)
    except openai.APIConnectionError as exc:
        return False, scrub(f"cannot reach {config.host}: {shorten(str(exc), 200)}", config.api_key)
    except Exception as exc:
        return False, scrub(f"{config.host}: {type(exc).__name__}: {shorten(str(exc), 200)}", config.api_key)
    took = time.monotonic() - start
    served = getattr(resp, "model", None) or config.model
    return True, f"connected to {config.host}: {served} answered in {took:.1f} s"


setattr(test_connection, "__test__", False)  # noqa: B010 -- not a pytest test, despite its name
