"""A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI Chat Completions protocol.

Each test scripts it: a list of ``Reply`` (the last one repeats) or a function
``(body, index) -> Reply``. It answers ``POST /v1/chat/completions`` as JSON, or as
server-sent events when the request says ``"stream": true`` (with a usage chunk when
``stream_options.include_usage`` is set and the reply has usage). Every request is
recorded with its headers and JSON body so tests can look at what was sent.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    usage: bool = True
    chunk_size: int = 24


def error(status: int, message: str, **headers: str) -> Reply:
    return Reply(status=status, error=message, headers={k.replace("_", "-"): v for k, v in headers.items()})


Script = list  # of Reply or callables (body, index) -> Reply


class FakeOpenAI:
    def __init__(self, script: Script | Callable[[dict, int], Reply]):
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._json(200, {"status": "ok"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with fake._lock:
                    index = len(fake.requests)
                    fake.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                reply = fake._reply(body, index)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    if reply.status != 200:
                        self._json(reply.status, {"error": {"message": reply.error, "type": "fake_error",
                                                            "code": reply.status}}, reply.headers)
                    elif body.get("stream"):
                        self._sse(body, reply)
                    else:
                        self._json(200, fake._completion(body, reply), reply.headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, body: dict, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": body.get("model", "fake-model")}

                def send(payload: dict | str) -> None:
                    text = payload if isinstance(payload, str) else json.dumps(payload)
                    self.wfile.write(f"data: {text}\n\n".encode())
                    self.wfile.flush()

                send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                           "finish_reason": None}]})
                content = reply.content or ""
                for i in range(0, len(content), reply.chunk_size):
                    send({**base, "choices": [{"index": 0, "delta": {"content": content[i:i + reply.chunk_size]},
                                               "finish_reason": None}]})
                if reply.refusal:
                    send({**base, "choices": [{"index": 0, "delta": {"refusal": reply.refusal},
                                               "finish_reason": None}]})
                send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
                if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
                    send({**base, "choices": [], "usage": fake._usage(body, reply)})
                send("[DONE]")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- replies ----------------------------------------------------------------
    def _reply(self, body: dict, index: int) -> Reply:
        script = self.script
        if callable(script):
            return script(body, index)
        item = script[min(index, len(script) - 1)]
        return item(body, index) if callable(item) else item

    @staticmethod
    def _usage(body: dict, reply: Reply) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
        completion = len(reply.content or reply.refusal or "") // 4
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(self, body: dict, reply: Reply) -> dict:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": reply.refusal}
        out = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
               "model": body.get("model", "fake-model"),
               "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}]}
        if reply.usage:
            out["usage"] = self._usage(body, reply)
        return out

    # -- what was sent ------------------------------------------------------------
    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests]
