"""The REST API and the web console, served by `tracebot serve` on 127.0.0.1.

The console is driven in Debian's headless Chromium (through chromedriver): a
question is typed and its answer read; a label photo is uploaded and read.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from storage.db import make_engine
from tests.e2e.servers import demo_database, stream_body, tracebot_server
from tests.intents.labels import LabelSpec, have_zint, render

pytestmark = pytest.mark.e2e
KEY = "console-key-1"


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_database(tmp_path_factory.mktemp("rest"))


@pytest.fixture(scope="module")
def server(plant: str) -> Iterator[str]:
    environment = {"TRACEBOT_API_KEYS": f"floor:{KEY}", "TRACEBOT_ADMINS": "floor"}
    with tracebot_server(plant, environment) as base:
        yield base


def get(base: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{base}{path}", params=params, headers={"X-API-Key": KEY}, timeout=30)


def test_reads_need_a_key_where_keys_are_set(server: str) -> None:
    response = httpx.get(f"{server}/api/ask", params={"q": "who got lot 4471?"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"


def test_ask_gives_the_answer_object(server: str) -> None:
    answer = get(server, "/api/ask", q="who got lot 4471?").json()

    assert (answer["intent"], answer["ok"]) == ("trace_forward", True)
    assert {"downstream_lots", "shipments", "customers"} <= set(answer["data"])
    assert answer["speech"]


def test_a_lot_and_its_trace_page_by_page(server: str) -> None:
    lot = get(server, "/api/lots/4471").json()
    first = get(server, "/api/lots/R-OAT-2231/trace", direction="down", limit=2).json()
    second = get(server, "/api/lots/R-OAT-2231/trace", direction="down", limit=2, offset=2).json()
    up = get(server, "/api/lots/4471/trace", direction="up").json()

    assert (lot["lot"], lot["item"]) == ("4471", "Honey Almond Granola 500 g")
    assert len(first["shipments"]) == 2 and first["next_offset"] == 2
    assert first["total"]["shipments"] == 5
    assert second["shipments"][0] not in first["shipments"]
    assert "R-OAT-2231" in up["upstream_lots"]


def test_unknown_and_shared_lot_codes_have_clear_errors(server: str) -> None:
    missing = get(server, "/api/lots/NOPE-1")
    shared = get(server, "/api/lots/12")
    picked = get(server, "/api/lots/12", sku="BAR-TRAIL-12")

    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert shared.status_code == 409
    assert [c["sku"] for c in shared.json()["error"]["candidates"]] == [
        "BASE-TOAST",
        "BAR-TRAIL-12",
    ]
    assert picked.json()["item"] == "Trail Mix Bar 12-pack"


def test_the_openapi_document_lists_the_routes(server: str) -> None:
    paths = httpx.get(f"{server}/openapi.json").json()["paths"]

    assert {
        "/api/ask",
        "/api/lots/{code}",
        "/api/lots/{code}/trace",
        "/api/scan",
        "/api/events",
    } <= set(paths)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/scan", "Photos over 30 MiB are refused."),
        ("/voice/audio", "Recordings over 10 MiB are refused."),
        ("/api/events", "Request bodies over 10 MiB are refused."),
    ],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_body_over_its_limit_is_refused_while_it_streams_in(
    server: str, path: str, message: str, chunked: bool
) -> None:
    status, body, sent = stream_body(
        server, path, 200 * 1024 * 1024, chunked=chunked, headers={"X-API-Key": KEY}
    )

    assert status == 413
    assert json.loads(body) == {"error": {"code": "too_large", "message": message}}
    assert sent < 48 * 1024 * 1024  # the limit and what the sockets' buffers took


@pytest.mark.skipif(not have_zint(), reason="Debian's zint draws the label")
def test_scan_reads_an_uploaded_label(server: str, tmp_path: Path) -> None:
    photo = io.BytesIO()
    render(LabelSpec("00614141000425", "4480", date(2027, 6, 1), "datamatrix"), tmp_path).save(
        photo, "PNG"
    )

    response = httpx.post(
        f"{server}/api/scan",
        files={"image": ("label.png", photo.getvalue(), "image/png")},
        headers={"X-API-Key": KEY},
        timeout=30,
    )

    result = response.json()
    assert (result["gtin"], result["lot"]) == ("00614141000425", "4480")
    assert result["answer"]["data"]["lot"]["item"] == "Trail Mix Bar 12-pack"


def chromium() -> object:
    if shutil.which("chromedriver") is None or shutil.which("chromium") is None:
        pytest.skip(
            "Debian's chromium and chromium-driver are installed by scripts/system-packages.sh"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    driver = chromium()
    yield driver
    driver.quit()  # type: ignore[attr-defined]


def test_the_console_answers_a_typed_question(server: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(server + "/")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 20)
    driver.find_element(By.ID, "api-key").send_keys(KEY)  # type: ignore[attr-defined]
    driver.execute_script("document.getElementById('save-key').click()")  # type: ignore[attr-defined]
    box = driver.find_element(By.ID, "question")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("mock recall on ALM-5531")
    driver.find_element(By.ID, "ask").click()  # type: ignore[attr-defined]

    wait.until(
        until.text_to_be_present_in_element((By.ID, "answer-text"), "Recall scope for ALM-5531")
    )
    steps = driver.find_elements(By.CSS_SELECTOR, "#checklist-body li")  # type: ignore[attr-defined]
    assert len(steps) >= 5
    driver.find_element(By.XPATH, "//button[text()='Lineage diagram']").click()  # type: ignore[attr-defined]
    image = wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "#diagram-body img")))
    wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth", image) > 0)


@pytest.mark.skipif(not have_zint(), reason="Debian's zint draws the label")
def test_the_console_reads_an_uploaded_label_photo(
    server: str, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    photo = tmp_path / "label.png"
    render(
        LabelSpec("00614141000418", "4471", date(2027, 7, 28), "qr-digital-link"), tmp_path
    ).save(photo)
    driver = browser
    driver.get(server + "/")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "photo").send_keys(str(photo))  # type: ignore[attr-defined]

    WebDriverWait(driver, 20).until(
        until.text_to_be_present_in_element((By.ID, "label"), "lot 4471")
    )
    assert "Honey Almond Granola 500 g" in driver.find_element(By.ID, "answer-text").text  # type: ignore[attr-defined]


def test_the_console_picks_the_item_of_a_shared_code_and_confirms_a_hold(
    server: str, browser: object, plant: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(server + "/")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 20)
    driver.execute_script(  # type: ignore[attr-defined]
        "localStorage.setItem('tracebot-key', arguments[0]); location.reload()", KEY
    )

    def ask(question: str) -> None:
        box = wait.until(until.presence_of_element_located((By.ID, "question")))
        box.clear()
        box.send_keys(question)
        driver.find_element(By.ID, "ask").click()  # type: ignore[attr-defined]

    ask("tell me about lot 12")
    pick = wait.until(
        until.element_to_be_clickable((By.XPATH, "//button[text()='12: Trail Mix Bar 12-pack']"))
    )
    pick.click()
    wait.until(
        until.text_to_be_present_in_element((By.ID, "answer-text"), "Lot 12: Trail Mix Bar 12-pack")
    )

    ask("put 4480 on hold")
    wait.until(until.text_to_be_present_in_element((By.ID, "answer-text"), "Put lot 4480"))
    with make_engine(plant).connect() as connection:
        asked = connection.execute(
            text("select status from lot where lot_code = '4480'")
        ).scalar_one()
    driver.find_element(By.ID, "confirm").click()  # type: ignore[attr-defined]
    wait.until(until.text_to_be_present_in_element((By.ID, "answer-text"), "is now on hold"))

    with make_engine(plant).connect() as connection:
        status = connection.execute(
            text("select status from lot where lot_code = '4480'")
        ).scalar_one()
        actor = connection.execute(
            text("select actor from audit_log where action = 'hold' order by id desc limit 1")
        ).scalar_one()
    assert asked != "on_hold"
    assert (status, actor) == ("on_hold", "web:floor")


def test_alerts_are_listed_and_changed_over_http_with_a_confirmation(
    server: str, plant: str
) -> None:
    headers = {"X-API-Key": KEY}
    listed = httpx.get(f"{server}/api/alerts", headers=headers, timeout=10).json()["alerts"]
    first = listed[0]
    assert {"id", "kind", "severity", "state", "lot", "state_by"} <= set(first)
    assert first["state"] == "open"

    missing = httpx.post(f"{server}/api/alerts/999999/acknowledge", headers=headers, timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    no_note = httpx.post(
        f"{server}/api/alerts/{first['id']}/resolve", json={"note": ""}, headers=headers, timeout=10
    )
    assert no_note.status_code == 422
    extra = httpx.post(
        f"{server}/api/alerts/{first['id']}/snooze", json={"days": 2}, headers=headers, timeout=10
    )
    assert extra.status_code == 422  # an unknown field is refused, not ignored

    asked = httpx.post(
        f"{server}/api/alerts/{first['id']}/snooze", json={"hours": 2}, headers=headers, timeout=10
    ).json()
    assert asked["data"]["reason"] == "confirm"
    still = httpx.get(f"{server}/api/alerts", headers=headers, timeout=10).json()["alerts"]
    assert first["id"] in {a["id"] for a in still}  # asking changed nothing
    done = httpx.post(
        f"{server}/api/confirm",
        json={"token": asked["data"]["confirm"]["token"]},
        headers=headers,
        timeout=10,
    ).json()
    assert done["data"]["status"] == "snoozed"
    snoozed = httpx.get(
        f"{server}/api/alerts", params={"state": "snoozed"}, headers=headers, timeout=10
    ).json()["alerts"]
    assert [(a["id"], a["state_by"]) for a in snoozed] == [(first["id"], "api:floor")]


def test_the_console_acknowledges_and_resolves_an_alert(
    server: str, browser: object, plant: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(server + "/")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 20)
    driver.execute_script(  # type: ignore[attr-defined]
        "localStorage.setItem('tracebot-key', arguments[0]); location.reload()", KEY
    )
    open_ids = [
        a["id"]
        for a in httpx.get(f"{server}/api/alerts", headers={"X-API-Key": KEY}, timeout=10).json()[
            "alerts"
        ]
    ]
    alert_id = open_ids[-1]
    row = f"//li[@data-alert='{alert_id}']"
    wait.until(
        until.element_to_be_clickable((By.XPATH, f"{row}//button[text()='Acknowledge']"))
    ).click()
    wait.until(
        until.text_to_be_present_in_element(
            (By.ID, "answer-text"), f"Acknowledge alert #{alert_id}"
        )
    )
    driver.find_element(By.ID, "confirm").click()  # type: ignore[attr-defined]
    wait.until(until.text_to_be_present_in_element((By.ID, "answer-text"), "acknowledged"))
    wait.until(until.text_to_be_present_in_element((By.XPATH, row), "acknowledged by web:floor"))

    driver.execute_script("window.prompt = () => 'Retested: pass'")  # type: ignore[attr-defined]
    wait.until(
        until.element_to_be_clickable((By.XPATH, f"{row}//button[text()='Resolve…']"))
    ).click()
    wait.until(
        until.text_to_be_present_in_element((By.ID, "answer-text"), f"Resolve alert #{alert_id}")
    )
    driver.find_element(By.ID, "confirm").click()  # type: ignore[attr-defined]
    wait.until(until.text_to_be_present_in_element((By.ID, "answer-text"), "Retested: pass"))
    wait.until(until.invisibility_of_element_located((By.XPATH, row)))  # resolved: off the list
    with make_engine(plant).connect() as connection:
        state = connection.execute(
            text("select status, state_by, note from alert where id = :id"), {"id": alert_id}
        ).one()
    assert tuple(state) == ("resolved", "web:floor", "Retested: pass")
