"""A local, recording stand-in for the Slack Web API, for end-to-end tests.

It answers the Web API methods TraceBot calls as Slack documents them (JSON with
``ok``), keeps every call for the tests to assert on, serves private files only
to the bot token, takes file uploads (files_upload_v2's three steps), records
posts to response URLs, and can be told to fail a method a number of times.
Messages posted with metadata come back from ``conversations.history``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Call", "SlackStub"]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class SlackStub:
    """Start with ``start()``; ``api_url`` is what SLACK_API_URL should be."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # name -> (mimetype, bytes)
        self.failures: dict[str, list[int]] = {}
        self.every: dict[str, tuple[int, int, int]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.socket_url: str | None = None  # what apps.connections.open hands out
        self._lock = threading.Lock()
        self._ts = 1_700_000_000.000100
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def start(self) -> SlackStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests use -----------------------------------------------------------------

    def add_file(self, name: str, data: bytes, mimetype: str = "image/png") -> dict[str, Any]:
        """A private file, as a Slack file object pointing here."""
        self.files[name] = (mimetype, data)
        return {
            "id": f"F{len(self.files):04d}{name[:4].upper()}",
            "name": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": f"{self.base}/files/{name}",
            "url_private_download": f"{self.base}/files/{name}?download=1",
        }

    def fail(self, method: str, times: int, status: int = 500) -> None:
        """Make the next ``times`` calls of ``method`` fail with HTTP ``status``."""
        with self._lock:
            self.failures[method] = [status] * times

    def fail_every(self, method: str, nth: int, status: int = 500) -> None:
        """Make every ``nth`` call of ``method`` fail (0: none), until told otherwise."""
        with self._lock:
            self.every[method] = (nth, 0, status)

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(
        self, method: str, count: int = 1, *, timeout: float = 20.0, where: Any = None
    ) -> list[Call]:
        """The calls of ``method`` (matching ``where``) once there are ``count``; else fail."""
        deadline = time.monotonic() + timeout
        while True:
            found = [call for call in self.of(method) if where is None or where(call)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(
                    f"{count} {method} call(s) expected, got {len(found)}; calls: {seen}"
                )
            time.sleep(0.05)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- the server -----------------------------------------------------------------------

    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"{self._ts:.6f}"

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            pending = self.failures.get(method)
            if pending:
                return pending.pop(0), {"ok": False, "error": "internal_error"}
            nth, seen, status = self.every.get(method, (0, 0, 500))
            if nth:
                self.every[method] = (nth, seen + 1, status)
                if (seen + 1) % nth == 0:
                    return status, {"ok": False, "error": "internal_error"}
        if method == "apps.connections.open":
            if self.socket_url is None:
                return 200, {"ok": False, "error": "not_allowed_token_type"}
            return 200, {"ok": True, "url": self.socket_url}
        if method == "auth.test":
            return 200, {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T0001",
                "user": "tracebot",
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            channel = str(params.get("channel"))
            message = {"ts": ts, "text": params.get("text"), "metadata": params.get("metadata")}
            if isinstance(message["metadata"], str):
                message["metadata"] = json.loads(message["metadata"])
            thread = params.get("thread_ts")
            with self._lock:  # as Slack: a thread's replies are not in the channel history
                if thread:
                    message["thread_ts"] = thread
                    self.replies.setdefault((channel, str(thread)), []).append(message)
                else:
                    self.history.setdefault(channel, []).insert(0, message)
            return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.replies":
            channel = str(params.get("channel"))
            with self._lock:
                messages = list(self.replies.get((channel, str(params.get("ts"))), []))
            return 200, {"ok": True, "channel": channel, "messages": messages, "has_more": False}
        if method == "conversations.history":
            channel = str(params.get("channel"))
            with self._lock:
                messages = list(self.history.get(channel, []))
            return 200, {"ok": True, "channel": channel, "messages": messages, "has_more": False}
        if method == "files.getUploadURLExternal":
            file_id = f"FUP{len(self.uploads) + 1:04d}"
            self.uploads.setdefault(file_id, b"")
            return 200, {
                "ok": True,
                "upload_url": f"{self.base}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = params.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            return 200, {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title")} for f in listed],
            }
        if method == "files.info":
            name = next(
                (n for n in self.files if str(params.get("file", "")).endswith(n[:4].upper())), None
            )
            if name is None:
                return 200, {"ok": False, "error": "file_not_found"}
            return 200, {
                "ok": True,
                "file": self.add_file(name, self.files[name][1], self.files[name][0]),
            }
        if method == "views.open":
            return 200, {"ok": True, "view": {"id": f"V{self._next_ts()[-4:]}", "hash": "h1"}}
        if method in ("chat.update", "chat.postEphemeral", "views.publish"):
            return 200, {"ok": True, "ts": params.get("ts") or self._next_ts()}
        return 200, {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(
                self, status: int, body: bytes, content_type: str = "application/json"
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _record(self, method: str, params: dict[str, Any]) -> None:
                with stub._lock:
                    stub.calls.append(Call(method, params, dict(self.headers.items())))

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/files/"):
                    name = path.removeprefix("/files/")
                    self._record("file.download", {"name": name})
                    if self.headers.get("Authorization") != f"Bearer {stub.token}":
                        self._send(403, b"forbidden", "text/plain")
                    elif name not in stub.files:
                        self._send(404, b"not found", "text/plain")
                    else:
                        mimetype, data = stub.files[name]
                        self._send(200, data, mimetype)
                    return
                if path.startswith("/api/"):
                    self._api(path.removeprefix("/api/"), {}, urlsplit(self.path).query)
                    return
                self._send(404, b"{}")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                if parts.path.startswith("/upload/"):
                    file_id = parts.path.removeprefix("/upload/")
                    stub.uploads[file_id] = raw
                    self._record("file.upload", {"file_id": file_id, "size": len(raw)})
                    self._send(200, b"OK", "text/plain")
                    return
                if parts.path.startswith("/response/"):
                    self._record("response_url", json.loads(raw or b"{}"))
                    self._send(200, b"ok", "text/plain")
                    return
                kind = self.headers.get("Content-Type", "")
                params: dict[str, Any]
                if "json" in kind:
                    params = json.loads(raw or b"{}")
                else:
                    params = {
                        k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()
                    }
                self._api(parts.path.removeprefix("/api/"), params, parts.query)

            def _api(self, method: str, params: dict[str, Any], query: str) -> None:
                params.update({k: v[0] for k, v in parse_qs(query).items()})
                for key in ("blocks", "view", "metadata", "attachments"):
                    if isinstance(params.get(key), str):
                        with contextlib.suppress(json.JSONDecodeError):
                            params[key] = json.loads(params[key])
                self._record(method, params)
                status, body = stub._answer(method, params)
                self._send(status, json.dumps(body).encode())

        return Handler
