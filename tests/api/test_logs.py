"""Structured logs: each request's line is JSON with its request id, the user once signed in
and the patient once access was allowed; never a secret path or a name."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from server.logs import dict_config, log_context
from tests.support.world import World


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """The logging configuration the web and the worker use, writing to a buffer."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    config = dict_config("json", "INFO")
    config["handlers"]["stderr"]["stream"] = buffer = io.StringIO()
    logging.config.dictConfig(config)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(saved[0])
    for handler in saved[1]:
        root.addHandler(handler)


def records(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def request_lines(buffer: io.StringIO) -> list[dict]:
    return [r for r in records(buffer) if r["logger"] == "server.requests"]


def test_a_request_line_carries_its_ids(world: World, lines: io.StringIO) -> None:
    response = world.clinician.get(f"/api/patients/{world.patient_id}")
    assert response.status_code == 200
    [line] = request_lines(lines)
    assert line["message"].startswith("GET /api/patients/<int:patient_id> 200 ")
    assert line["level"] == "INFO"
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert len(line["request_id"]) == 32
    assert line["user_id"] == world.clinician.user["id"]
    assert line["patient_id"] == world.patient_id
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/patients/<int:patient_id>"
    assert line["duration_ms"] >= 0 and line["time"]
    assert "Alex" not in lines.getvalue() and "alex@example.org" not in lines.getvalue()


def test_no_patient_id_where_access_was_refused_and_no_user_when_signed_out(
    world: World, lines: io.StringIO
) -> None:
    world.other_clinician.get(f"/api/patients/{world.patient_id}")  # 404: not their clinic
    world.anonymous.get("/api/version")
    refused, anonymous = request_lines(lines)
    assert refused["status"] == 404 and "patient_id" not in refused
    assert refused["user_id"] == world.other_clinician.user["id"]
    assert "user_id" not in anonymous and "patient_id" not in anonymous


def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(
    world: World, lines: io.StringIO
) -> None:
    kept = world.anonymous.get("/api/version", headers={"X-Request-Id": "abc123def456"})
    odd = world.anonymous.get("/api/version", headers={"X-Request-Id": "<script>0123"})
    assert kept.headers["X-Request-Id"] == "abc123def456"
    assert odd.headers["X-Request-Id"] != "<script>0123"
    assert [r["request_id"] for r in request_lines(lines)] == [
        "abc123def456",
        odd.headers["X-Request-Id"],
    ]


def test_the_calendar_feeds_secret_stays_out_of_the_logs(world: World, lines: io.StringIO) -> None:
    url = world.patient.post(f"/api/patients/{world.patient_id}/calendar-feed").get_json()["url"]
    path = url.split("localhost", 1)[1]
    assert world.anonymous.get(path).status_code == 200
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in lines.getvalue()
    assert request_lines(lines)[-1]["route"] == "/api/calendar/<token>.ics"


def test_a_worker_cycles_lines_carry_its_ids(lines: io.StringIO) -> None:
    with log_context(worker_id="host:1", cycle_id="dispatch-abc"):
        logging.getLogger("reminders").info("cycle done", extra={"counts": {"sent": 2}})
    logging.getLogger("reminders").info("outside")
    inside, outside = records(lines)
    assert inside["cycle_id"] == "dispatch-abc" and inside["worker_id"] == "host:1"
    assert inside["counts"] == {"sent": 2}
    assert "cycle_id" not in outside


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="COMPANION_LOG_FORMAT"):
        dict_config("xml")
