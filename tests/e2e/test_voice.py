"""Voice over Twilio-compatible webhooks, signed as Twilio signs them, and /voice/query.

`tracebot serve` runs behind a pretend proxy: TRACEBOT_PUBLIC_URL is the address
Twilio calls, which differs from 127.0.0.1, so signatures are checked over it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from bot.http.voice import first_sentence_words
from storage.db import make_engine
from tests.e2e.servers import demo_database, tracebot_server
from tests.e2e.slack_stub import SlackStub

pytestmark = pytest.mark.e2e
TRACEBOT = [sys.executable, "-m", "bot.cli"]
AUTH = "twilio-auth-token-123"
PUBLIC = "https://plant.example.com/tracebot"
ADMIN_PHONE = "+15550100"
KEY = "intercom-key"


@pytest.fixture(scope="module")
def stub() -> Iterator[SlackStub]:
    server = SlackStub("xoxb-voice").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_database(tmp_path_factory.mktemp("voice"))


@pytest.fixture(scope="module")
def server(plant: str, stub: SlackStub) -> Iterator[str]:
    environment = {
        "TWILIO_AUTH_TOKEN": AUTH,
        "TRACEBOT_PUBLIC_URL": PUBLIC,
        "TRACEBOT_ADMINS": f"{ADMIN_PHONE},intercom",
        "TRACEBOT_API_KEYS": f"intercom:{KEY}",
        "SLACK_BOT_TOKEN": "xoxb-voice",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": stub.api_url,
        "TRACEBOT_ALERT_CHANNEL": "C0FLOOR",
        "TRACEBOT_DIGEST_TIME": "off",
    }
    with tracebot_server(plant, environment) as base:
        yield base


def twilio(base: str, path: str, form: dict[str, str], *, token: str = AUTH) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    started = time.perf_counter()
    response = httpx.post(
        base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
    )
    response.elapsed_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return response


def said(response: httpx.Response) -> list[str]:
    root = ET.fromstring(response.text)
    return [element.text or "" for element in root.iter("Say")]


def call(
    sid: str, speech: str, *, caller: str = "+15550199", confidence: str = "0.92"
) -> dict[str, str]:
    return {
        "CallSid": sid,
        "From": caller,
        "To": "+15550000",
        "SpeechResult": speech,
        "Confidence": confidence,
    }


def test_a_call_is_greeted_with_a_speech_gather(server: str) -> None:
    response = twilio(server, "/voice/twilio", {"CallSid": "CA1", "From": "+15550199"})

    assert response.status_code == 200
    gather = ET.fromstring(response.text).find("Gather")
    assert gather is not None and gather.get("input") == "speech"
    assert gather.get("action") == "/voice/twilio/answer"
    hints = gather.get("hints") or ""
    assert "who got lot" in hints and "Sysco" in hints and "Honey Almond Granola 500 g" in hints


def test_unsigned_and_forged_calls_are_refused(server: str) -> None:
    form = call("CA2", "who got lot 4471")
    unsigned = httpx.post(server + "/voice/twilio/answer", data=form)
    forged = twilio(server, "/voice/twilio/answer", form, token="not-the-token")
    local_url = RequestValidator(AUTH).compute_signature(server + "/voice/twilio/answer", form)
    wrong_url = httpx.post(
        server + "/voice/twilio/answer", data=form, headers={"X-Twilio-Signature": local_url}
    )

    assert (unsigned.status_code, forged.status_code, wrong_url.status_code) == (403, 403, 403)


def test_a_question_is_answered_briefly_and_the_call_goes_on(server: str) -> None:
    response = twilio(
        server, "/voice/twilio/answer", call("CA3", "who got lot forty four seventy one")
    )

    assert response.elapsed_seconds < 1.5  # type: ignore[attr-defined]
    [speech] = said(response)
    assert speech.startswith("Lot 4 4 7 1 went to ")
    assert first_sentence_words(speech) <= 25
    assert speech.endswith("Anything else?")
    assert ET.fromstring(response.text).find("Gather") is not None

    follow_up = twilio(server, "/voice/twilio/answer", call("CA3", "and what went into it"))
    assert said(follow_up)[0].startswith("Lot 4 4 7 1 was made from")


def test_a_heard_code_is_confirmed_as_the_real_lot(server: str) -> None:
    response = twilio(
        server,
        "/voice/twilio/answer",
        call("CA4", "what went into l two zero two four zero one one three"),
    )

    assert said(response)[0].startswith("I understood lot L, 2 0 2 4, 0 1 1 3.")


def test_poor_recognition_asks_again_and_silence_says_goodbye(server: str) -> None:
    unclear = twilio(server, "/voice/twilio/answer", call("CA5", "who got lot", confidence="0.12"))
    silent = twilio(server, "/voice/twilio/answer", call("CA5", ""))

    assert said(unclear) == ["Sorry, I didn't catch that. Please say it again."]
    assert said(silent) == ["I didn't hear anything. Goodbye."]
    assert ET.fromstring(silent.text).find("Hangup") is not None


def test_send_it_to_slack_posts_the_last_answer(server: str, stub: SlackStub) -> None:
    twilio(server, "/voice/twilio/answer", call("CA6", "did five one two zero pass qc"))

    response = twilio(server, "/voice/twilio/answer", call("CA6", "send it to slack"))

    assert said(response)[0].startswith("Sent to Slack.")
    [post] = stub.wait_for(
        "chat.postMessage", where=lambda c: "From a call" in str(c.params.get("text"))
    )
    assert post.params["channel"] == "C0FLOOR" and "Lot 5120 failed" in post.params["text"]


def test_a_hold_by_voice_needs_a_listed_caller_and_a_yes(server: str, plant: str) -> None:
    stranger = twilio(
        server, "/voice/twilio/answer", call("CA7", "put lot four four eight zero on hold")
    )
    assert said(stranger)[0].startswith("Sorry, you may not place holds.")

    asked = twilio(
        server,
        "/voice/twilio/answer",
        call("CA8", "put lot four four eight zero on hold", caller=ADMIN_PHONE),
    )
    assert said(asked) == ["Say yes to confirm holding lot 4 4 8 0."]
    done = twilio(server, "/voice/twilio/answer", call("CA8", "yes", caller=ADMIN_PHONE))

    assert re.match(r"Lot 4 4 8 0 is now on hold\.", said(done)[0])
    with make_engine(plant).connect() as connection:
        actor = connection.execute(
            text("select actor from audit_log where action = 'hold' order by id desc limit 1")
        ).scalar_one()
    assert actor == f"phone:{ADMIN_PHONE}"


def test_voice_query_takes_text_and_gives_the_answer_object(server: str) -> None:
    response = httpx.post(
        server + "/voice/query",
        json={"text": "when does lot four four seven one expire", "session": "intercom-3"},
        headers={"X-API-Key": KEY},
    )
    refused = httpx.post(server + "/voice/query", json={"text": "who got lot 4471"})

    assert response.status_code == 200
    answer = response.json()
    assert (answer["intent"], answer["query"]["lots"]) == ("lot_info", ["4471"])
    assert answer["speech"].startswith("Lot 4 4 7 1, Honey Almond Granola 500 g")
    assert refused.status_code == 401


def espeak(text_said: str, voice: str = "en-us") -> bytes:
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("Debian's espeak-ng speaks the test questions")
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text_said], capture_output=True, check=True
    )
    return done.stdout


def test_a_spoken_wav_question_is_answered_offline(server: str) -> None:
    wav = espeak("who got lot forty four seventy one")

    started = time.perf_counter()
    response = httpx.post(
        server + "/voice/audio",
        content=wav,
        headers={"X-API-Key": KEY, "Content-Type": "audio/wav"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    assert time.perf_counter() - started < 3
    answer = response.json()
    assert answer["transcript"] == "who got lot forty four seventy one"
    assert (answer["intent"], answer["query"]["lots"]) == ("trace_forward", ["4471"])


def test_the_spoken_answer_comes_back_as_audio(server: str) -> None:
    wav = espeak("when does lot alpha twelve bravo expire")

    response = httpx.post(
        server + "/voice/audio",
        params={"format": "wav"},
        content=wav,
        headers={"X-API-Key": KEY},
        timeout=30,
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content[:4] == b"RIFF" and len(response.content) > 10_000


def test_audio_that_is_no_wav_is_refused_clearly(server: str) -> None:
    response = httpx.post(server + "/voice/audio", content=b"not a wav", headers={"X-API-Key": KEY})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_audio"


def test_tracebot_listen_transcribes_and_answers(plant: str, tmp_path: Path) -> None:
    recording = tmp_path / "question.wav"
    recording.write_bytes(espeak("mock recall on lot alpha lima mike dash five five three one"))

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", plant, "listen", str(recording), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["transcript"] == "mock recall on lot alpha lima mike dash five five three one"
    assert (answer["intent"], answer["query"]["lots"]) == ("recall", ["ALM-5531"])


def test_a_spoken_hold_needs_a_spoken_yes_and_is_made_once(server: str, plant: str) -> None:
    def ask(said_aloud: str) -> dict[str, Any]:
        response = httpx.post(
            server + "/voice/audio",
            params={"session": "dock-2"},
            content=espeak(said_aloud),
            headers={"X-API-Key": KEY},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def holds() -> list[str]:
        with make_engine(plant).connect() as connection:
            return list(
                connection.execute(
                    text("select actor from audit_log where action = 'hold' and detail like :lot"),
                    {"lot": '%"5133"%'},
                ).scalars()
            )

    asked = ask("put lot five one three three on hold")
    heard = asked["transcript"]
    if asked["data"].get("reason") == "confirm lot":  # the lot heard is confirmed first
        assert [c["lot"] for c in asked["data"]["candidates"]][:1] == ["5133"]
        assert holds() == []
        asked = ask("yes")
    before = holds()
    yes = ask("yes")
    again = ask("yes")

    assert heard in ("put lot five one three three on hold", "put five one three three on hold")
    assert (asked["ok"], asked["data"]["reason"]) == (False, "confirm")
    assert asked["speech"] == "Say yes to confirm holding lot 5 1 3 3."
    assert before == []
    assert (yes["ok"], yes["data"]["lots"], yes["speech"]) == (
        True,
        ["5133"],
        "Lot 5 1 3 3 is now on hold.",
    )
    assert (again["ok"], again["intent"]) == (False, "unknown")  # nothing waits any more
    assert holds() == ["api:intercom"]


def test_tracebot_listen_confirms_a_recorded_hold_by_a_recorded_yes(
    plant: str, tmp_path: Path
) -> None:
    hold, yes = tmp_path / "hold.wav", tmp_path / "yes.wav"
    hold.write_bytes(espeak("put lot four three nine eight on hold"))
    yes.write_bytes(espeak("yes"))

    recordings = [str(hold), str(yes), str(yes)]
    done = subprocess.run(
        [*TRACEBOT, "--db", plant, "listen", *recordings, "--json", "--user", "lead"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TRACEBOT_ADMINS": "lead"},
    )

    answers = [json.loads(line) for line in done.stdout.splitlines()]
    if answers[0]["data"].get("reason") == "confirm lot":  # the lot heard, confirmed first
        assert [c["lot"] for c in answers[0]["data"]["candidates"]][:1] == ["4398"]
        answers = answers[1:]
    else:  # heard for sure: the second yes finds nothing waiting
        assert (answers[2]["ok"], answers[2]["intent"]) == (False, "unknown")
    asked, confirmed = answers[:2]
    assert (asked["data"]["reason"], asked["data"]["confirm"]["lots"]) == ("confirm", ["4398"])
    assert (confirmed["ok"], confirmed["data"]["lots"]) == (True, ["4398"])
    assert done.returncode == 1  # a recording asked and changed nothing
    with make_engine(plant).connect() as connection:
        actor = connection.execute(
            text("select actor from audit_log where action = 'hold' and detail like '%4398%'")
        ).scalar_one()
    assert actor == "cli:lead"


def test_a_lot_added_while_serving_is_asked_about_by_voice_at_once(server: str) -> None:
    """The recogniser lists no codes: a lot recorded a moment ago is heard at once."""
    receipt = {
        "type": "receipt",
        "lot_code": "4617",
        "sku": "OAT-ROLLED",
        "supplier": "ACME",
        "supplier_lot": "AC-77",
        "quantity": 500,
        "uom": "kg",
        "received_on": time.strftime("%Y-%m-%d"),
        "site": "PLANT",
        "reference": "PO-4617",
    }
    added = httpx.post(f"{server}/api/events", json=receipt, headers={"X-API-Key": KEY}, timeout=30)
    assert added.status_code in (200, 201), added.text

    response = httpx.post(
        f"{server}/voice/audio?session=new-lot",
        content=espeak("when does lot four six one seven expire"),
        headers={"X-API-Key": KEY},
        timeout=60,
    )

    answer = response.json()
    offered = [c["lot"] for c in answer["data"].get("candidates", [])]
    assert answer["query"].get("lots") == ["4617"] or "4617" in offered, answer
    if not answer["ok"]:  # asked back, never answered about another lot
        assert answer["data"]["reason"] == "confirm lot"
