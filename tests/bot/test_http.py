"""The HTTP app through FastAPI's TestClient, on a real SQLite file and PostgreSQL.

Every error comes in the one shape; a database that stops answers 503 with
Retry-After; a change asked over HTTP is confirmed once by POST /api/confirm.
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.http import create_app
from bot.settings import load_settings
from storage.db import make_engine
from storage.demo_plant import load_demo

OPS = {"X-API-Key": "ops-secret"}
FLOOR = {"X-API-Key": "floor-secret"}


@pytest.fixture
def plant(database: str) -> str:
    load_demo(database, anchor=date(2026, 12, 1))
    return database


def client_for(url: str) -> TestClient:
    settings = load_settings(
        database_url=url, api_keys="ops:ops-secret,floor:floor-secret", admins="ops"
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def client(plant: str) -> Iterator[TestClient]:
    with client_for(plant) as client:
        yield client


def test_a_bad_query_parameter_is_422_in_the_one_shape(client: TestClient) -> None:
    too_small = client.get("/api/lots/4471/trace", params={"limit": 0}, headers=OPS)
    sideways = client.get("/api/lots/4471/trace", params={"direction": "sideways"}, headers=OPS)

    assert too_small.status_code == 422
    error = too_small.json()["error"]
    assert (error["code"], error["path"]) == ("invalid_request", "query.limit")
    assert error["message"].startswith("query.limit: ")
    assert set(too_small.json()) == {"error"}
    assert sideways.status_code == 422 and sideways.json()["error"]["path"] == "query.direction"


def test_unknown_routes_and_methods_answer_in_the_one_shape(client: TestClient) -> None:
    missing = client.get("/api/nothing-here", headers=OPS)
    wrong = client.delete("/api/ask", headers=OPS)

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")


def test_a_change_asked_over_http_is_confirmed_once(client: TestClient, plant: str) -> None:
    asked = client.get("/api/ask", params={"q": "put 4480 on hold"}, headers=OPS).json()
    token = asked["data"]["confirm"]["token"]

    stranger = client.post("/api/confirm", json={"token": token}, headers=FLOOR)
    responses = [client.post("/api/confirm", json={"token": token}, headers=OPS) for _ in range(3)]
    unknown = client.post("/api/confirm", json={"token": "not-a-real-token"}, headers=OPS)
    unkeyed = client.post("/api/confirm", json={"token": token})

    assert (asked["ok"], asked["data"]["reason"]) == (False, "confirm")
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "forbidden")
    assert [r.status_code for r in responses] == [200, 409, 409]
    assert responses[0].json()["data"]["lots"] == ["4480"]
    assert responses[1].json()["error"]["code"] == "already_used"
    assert unknown.status_code == 404 and unkeyed.status_code == 401
    with make_engine(plant).connect() as connection:
        actors = connection.execute(
            text("select actor from audit_log where action = 'hold'")
        ).scalars()
        assert list(actors) == ["api:ops"]


def test_writes_name_the_same_caller_as_questions(client: TestClient, plant: str) -> None:
    qc = {
        "type": "qc",
        "lot_code": "4471",
        "test": "moisture",
        "result": "pass",
        "value": "3.1 %",
        "spec": "<= 4 %",
        "performed_by": "Lab A",
        "signed_off_by": "Priya N.",
        "at": "2026-12-01T09:30:00",
    }

    recorded = client.post("/api/events", json=qc, headers=OPS)
    token = client.get("/api/ask", params={"q": "put 4471 on hold"}, headers=OPS).json()
    client.post("/api/confirm", json={"token": token["data"]["confirm"]["token"]}, headers=OPS)

    assert recorded.status_code == 201
    with make_engine(plant).connect() as connection:
        rows = connection.execute(
            text("select actor, action from audit_log where actor like '%ops' order by id")
        ).all()
    # The event import and the hold name the key the same way, never as the bare name.
    assert [tuple(row) for row in rows] == [("api:ops", "import"), ("api:ops", "hold")]


def _refuse_connections(url: str, allow: bool) -> None:
    """Stop (or restart) a PostgreSQL database taking connections, as if it were down."""
    name = make_url(url).database
    admin = create_engine(url.replace(f"/{name}", "/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}'))
        if not allow:
            connection.execute(
                text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :n"),
                {"n": name},
            )
    admin.dispose()


@pytest.mark.postgres
def test_a_stopped_postgres_answers_503_with_retry_after(postgres_url: str) -> None:
    from storage.db import init_schema

    init_schema(postgres_url)
    load_demo(postgres_url, anchor=date(2026, 12, 1))
    with client_for(postgres_url) as client:
        assert client.get("/api/lots/4471/trace", headers=OPS).status_code == 200
        _refuse_connections(postgres_url, allow=False)
        try:
            make_engine(postgres_url).dispose()
            trace = client.get("/api/lots/4471/trace", headers=OPS)
            ask = client.get("/api/ask", params={"q": "who got lot 4471?"}, headers=OPS)
            write = client.post("/api/events", json={"type": "qc"}, headers=OPS)
            health = client.get("/healthz")
        finally:
            _refuse_connections(postgres_url, allow=True)
        back = client.get("/api/lots/4471/trace", headers=OPS)

    for response in (trace, ask, write, health):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"]["code"] == "database_unavailable"
    assert back.status_code == 200


def test_an_unopenable_sqlite_file_answers_503(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-database"
    folder.mkdir()
    with client_for(f"sqlite:///{folder}") as client:
        trace = client.get("/api/lots/4471/trace", headers=OPS)
        write = client.post("/api/events", json={"type": "qc"}, headers=OPS)

    for response in (trace, write):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"]["code"] == "database_unavailable"


def test_a_lot_asked_for_as_another_items_is_404(client: TestClient) -> None:
    lot = client.get("/api/lots/4471", params={"sku": "NO-SUCH-SKU"}, headers=OPS)
    trace = client.get("/api/lots/4471/trace", params={"sku": "BAR-TRAIL-12"}, headers=OPS)
    shared = client.get("/api/lots/12", params={"sku": "NO-SUCH-SKU"}, headers=OPS)
    spelled = client.get("/api/lots/12", params={"sku": "bar-trail-12"}, headers=OPS)

    assert lot.status_code == 404
    assert lot.json() == {
        "error": {"code": "not_found", "message": "I can't find lot 4471 of item NO-SUCH-SKU."}
    }
    assert (trace.status_code, trace.json()["error"]["code"]) == (404, "not_found")
    assert shared.json()["error"]["message"] == "I can't find lot 12 of item NO-SUCH-SKU."
    assert (spelled.status_code, spelled.json()["sku"]) == (200, "BAR-TRAIL-12")


def test_the_openapi_document_gives_every_route_its_bodies_and_errors(plant: str) -> None:
    settings = load_settings(
        database_url=plant,
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        twilio_auth_token="token",
    )
    document = TestClient(create_app(settings)).get("/openapi.json").json()
    operations = [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    error = {"$ref": "#/components/schemas/ErrorBody"}

    posts = {path for method, path, operation in operations if method == "POST"}
    assert posts == {
        "/api/confirm",
        "/api/cancel",
        "/api/scan",
        "/api/epcis/capture",
        "/api/events",
        "/api/alerts/{alert_id}/{action}",
        "/voice/twilio",
        "/voice/twilio/answer",
        "/voice/audio",
        "/voice/query",
        "/slack/events",
    }
    for method, path, operation in operations:
        if method == "POST":
            assert operation["requestBody"]["content"], path
        refusals = {
            status: answer for status, answer in operation["responses"].items() if status >= "400"
        }
        assert refusals, path
        for status, answer in refusals.items():
            assert answer["content"]["application/json"]["schema"] == error, (path, status)
        if path != "/healthz" and not path.startswith("/voice/twilio"):
            assert "422" in refusals, path
    assert "HTTPValidationError" not in document["components"]["schemas"]
    ok = document["paths"]["/api/lots/{code}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LotBody"}


def test_bodies_over_their_configured_limit_are_413_in_the_one_shape(plant: str) -> None:
    settings = load_settings(
        database_url=plant, api_keys="ops:ops-secret", max_body="1 KiB", max_image_body="2KiB"
    )
    with TestClient(create_app(settings)) as client:
        events = client.post("/api/events", content=b"[" + b" " * 2000 + b"]", headers=OPS)
        photo = client.post("/api/scan", content=bytes(3000), headers=OPS)
        small = client.post("/api/events", content=b"[]", headers=OPS)

    assert events.status_code == 413
    assert events.json() == {
        "error": {"code": "too_large", "message": "Request bodies over 1 KiB are refused."}
    }
    assert photo.json()["error"]["message"] == "Photos over 2 KiB are refused."
    assert small.status_code == 201


def _wav_at(rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(bytes(1600))
    data = bytearray(out.getvalue())
    struct.pack_into("<I", data, 24, rate)
    return bytes(data)


@pytest.mark.parametrize("rate", [0, 4_000_000_000])
def test_a_wav_header_with_an_impossible_rate_is_400(client: TestClient, rate: int) -> None:
    response = client.post("/voice/audio", content=_wav_at(rate), headers=OPS)

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "bad_audio",
            "message": f"The WAV header gives a sample rate of {rate:,} Hz; "
            "send 4,000 to 192,000 Hz.",
        }
    }


def test_voice_query_refuses_a_confidence_that_is_no_number(client: TestClient) -> None:
    words = client.post(
        "/voice/query", json={"text": "who got 4471", "confidence": "high"}, headers=OPS
    )
    session = client.post("/voice/query", json={"text": "who got 4471", "session": 5}, headers=OPS)
    fine = client.post("/voice/query", json={"text": "who got 4471", "confidence": 1}, headers=OPS)

    assert (words.status_code, words.json()["error"]["path"]) == (422, "body.confidence")
    assert (session.status_code, session.json()["error"]["path"]) == (422, "body.session")
    assert fine.status_code == 200


def test_an_event_whose_type_is_no_string_is_rejected(client: TestClient) -> None:
    response = client.post(
        "/api/events", json=[{"type": {"a": 1}, "lot_code": "4471"}], headers=OPS
    )

    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "path": "$[0].type",
            "reason": "type must be one of receipt, consumption, shipment, qc, hold, release",
        }
    ]


def test_ask_refuses_a_day_that_is_not_iso(client: TestClient) -> None:
    number = client.get(
        "/api/ask", params={"q": "what expires this week", "today": "0"}, headers=OPS
    )
    day = client.get(
        "/api/ask", params={"q": "what expires this week", "today": "2026-12-01"}, headers=OPS
    )

    assert (number.status_code, number.json()["error"]["path"]) == (422, "query.today")
    assert day.status_code == 200
