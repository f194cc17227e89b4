"""Starting `tracebot serve` under uvicorn on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

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

__all__ = ["demo_database", "free_port", "tracebot_server"]


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
