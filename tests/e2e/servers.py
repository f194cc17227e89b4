"""Starting `tracebot serve` under uvicorn on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest

__all__ = ["demo_database", "free_port", "stream_body", "tracebot_server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def tracebot_server(
    database_url: str, environment: Mapping[str, str] = {}, *, log: Path | None = None
) -> Iterator[str]:
    """`tracebot serve` on a free port; yields its base URL once /healthz answers."""
    port = free_port()
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", database_url, "serve", "--port", str(port)],
        env={**os.environ, **environment},
        stdout=output,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            told = log.read_text(errors="replace")[-3000:] if log is not None else ""
            pytest.fail(f"tracebot serve did not start\n{told}")
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if log is not None:
            output.close()  # type: ignore[union-attr]


def stream_body(
    base: str, path: str, size: int, *, chunked: bool, headers: Mapping[str, str] = {}
) -> tuple[int, bytes, int]:
    """POST ``size`` bytes to ``path`` on a raw socket, reading while sending, and stop
    sending at the first answer. Returns its status, its body, and the bytes sent.

    With ``chunked`` the length is not declared: the server can only count as it reads.
    """
    host, port = base.removeprefix("http://").rsplit(":", 1)
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    block = b"x" * 65536
    piece = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
    sent, answer, pending = 0, b"", b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        connection.setblocking(False)
        deadline = time.monotonic() + 60
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            if not pending and sent < size:
                pending, sent = piece, sent + len(block)
                if sent >= size and chunked:
                    pending += b"0\r\n\r\n"
            try:
                # A non-blocking send may take part of a piece: the rest goes next time.
                pending = pending[connection.send(pending) :] if pending else pending
            except BlockingIOError:
                pass
            except OSError:  # the server closed its side once it answered
                pending, sent = b"", max(sent, size)
            with contextlib.suppress(BlockingIOError):
                answer += connection.recv(65536)
            if not pending and sent >= size:
                time.sleep(0.01)
        connection.setblocking(True)
        status_line, _, rest = answer.partition(b"\r\n")
        fields, _, body = rest.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in fields.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        with contextlib.suppress(OSError):
            while len(body) < length and (more := connection.recv(65536)):
                body += more
    return int(status_line.split()[1]), body, sent


def demo_database(folder: Path) -> str:
    """A SQLite file in ``folder`` holding the demo plant, dated around today."""
    url = f"sqlite:///{folder / 'plant.db'}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "--db",
            url,
            "demo",
            "--anchor",
            date.today().isoformat(),
        ],
        check=True,
        capture_output=True,
    )
    return url
