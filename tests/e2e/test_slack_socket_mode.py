"""Socket Mode: `tracebot serve --socket-mode` connects out and answers over it.

A local WebSocket server plays Slack's Socket Mode endpoint (hello, an events_api
envelope, the app's acknowledgement); the recording stand-in plays the Web API.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from tests.e2e.servers import demo_database, free_port
from tests.e2e.slack_stub import SlackStub

pytestmark = pytest.mark.e2e


class SocketEndpoint:
    """Sends each queued envelope to the connected app; keeps what the app sends back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/link", self._socket)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.loop.run_forever()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()

        async def pump() -> None:
            while not socket.closed:
                while self.outbox:
                    await socket.send_str(json.dumps(self.outbox.pop(0)))
                await asyncio.sleep(0.05)

        sending = asyncio.ensure_future(pump())
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.received.append(json.loads(message.data))
        sending.cancel()
        return socket

    def start(self) -> SocketEndpoint:
        self.thread.start()
        return self


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[SlackStub, SocketEndpoint]]:
    stub = SlackStub("xoxb-socket").start()
    endpoint = SocketEndpoint().start()
    stub.socket_url = endpoint.url
    url = demo_database(tmp_path)
    environment = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-socket",
        "SLACK_APP_TOKEN": "xapp-1-socket",
        "SLACK_API_URL": stub.api_url,
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "--db",
            url,
            "serve",
            "--socket-mode",
            "--port",
            str(free_port()),
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not endpoint.connected.wait(60):
            pytest.fail(
                "tracebot did not connect over Socket Mode:\n"
                + (tmp_path / "serve.log").read_text()
            )
        yield stub, endpoint
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        stub.stop()


def test_socket_mode_answers_a_mention_and_acknowledges_it(
    served: tuple[SlackStub, SocketEndpoint],
) -> None:
    stub, endpoint = served
    endpoint.outbox.append(
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": {
                "type": "event_callback",
                "team_id": "T0001",
                "event_id": "Ev0SOCKET1",
                "event": {
                    "type": "app_mention",
                    "user": "U0ALICE",
                    "text": "<@UBOT> who got lot 4471?",
                    "ts": "1700000100.000100",
                    "channel": "C0SOCK",
                },
            },
        }
    )

    [reply] = stub.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == "C0SOCK")

    assert reply.params["thread_ts"] == "1700000100.000100"
    assert "Lot 4471 reached" in reply.params["text"]
    deadline = time.monotonic() + 5
    while not any(r.get("envelope_id") == "env-1" for r in endpoint.received):
        assert time.monotonic() < deadline, "the envelope was not acknowledged"
        time.sleep(0.05)
