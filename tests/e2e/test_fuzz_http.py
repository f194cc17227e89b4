"""Schemathesis over the whole OpenAPI document, against `tracebot serve` on 127.0.0.1.

The server runs under uvicorn with the demo plant, API keys, Slack and Twilio
configured (so every route exists). For each operation the document describes,
Schemathesis generates requests that fit the schema (positive) and requests that
break it (negative), a fixed number of each with a fixed seed; every answer must
be no server error, with a status code, content type, headers and body that the
document declares. The number of cases sent is printed and asserted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.servers import demo_database, tracebot_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A WAV body is bytes, sent as they are generated (the route must refuse what is no WAV).
schemathesis.serializer.alias("audio/wav", "application/octet-stream")

KEY = "fuzz-key-1"
EXAMPLES = {GenerationMode.POSITIVE: 250, GenerationMode.NEGATIVE: 100}
"""Cases generated per operation and mode: the fixed budget (about 90 s on 2 cores)."""
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    plant = demo_database(tmp_path_factory.mktemp("fuzz"))
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    environment = {
        "TRACEBOT_API_KEYS": f"ops:{KEY}",
        "TRACEBOT_ADMINS": "ops",
        "SLACK_BOT_TOKEN": "xoxb-fuzz",
        "SLACK_SIGNING_SECRET": "fuzz-signing-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never called: no request is signed
        "TWILIO_AUTH_TOKEN": "fuzz-twilio-token",
        "TRACEBOT_DIGEST_TIME": "off",
    }
    with tracebot_server(plant, environment, log=log) as base:
        yield base, log


def _runner(
    operation: schemathesis.APIOperation, mode: GenerationMode, base: str, failures: list[str]
) -> tuple[Callable[[], None], Counter[int]]:
    """A Hypothesis test sending ``operation``'s generated cases; it counts them by the
    status they got and records each failed check instead of stopping at the first."""
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, headers={"X-API-Key": KEY}))
    def run(case: Any) -> None:
        response = case.call(base_url=base, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS[mode])
        except (AssertionError, BaseExceptionGroup) as err:
            failures.append(f"{operation.label} ({mode.value}): {err}\n{case.as_curl_command()}")

    return run, statuses


def test_every_route_answers_generated_requests_as_the_document_says(
    server: tuple[str, Path],
) -> None:
    base, log = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    counts: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in EXAMPLES:
            run, statuses = _runner(operation, mode, base, failures)
            try:
                run()
            except Unsatisfiable:  # nothing of it can be made invalid (GET /healthz)
                assert mode is GenerationMode.NEGATIVE
            counts[f"{operation.label} {mode.value}"] = statuses

    total = sum(sum(statuses.values()) for statuses in counts.values())
    print(f"\nschemathesis: {total} cases over {len(counts) // 2} operations")
    for label, statuses in counts.items():
        print(f"  {sum(statuses.values()):4d}  {label}  {dict(sorted(statuses.items()))}")
    assert len(counts) // 2 >= 15  # every route of the document, Slack and voice included
    assert total >= 3000
    assert not failures, "\n\n".join(failures[:20])
    assert "unexpected error" not in log.read_text(errors="replace")
