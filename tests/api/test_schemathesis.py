"""schemathesis against the OpenAPI document, on both backends: every operation, data that fits
the document and data that does not, all of its checks, a fixed seed (derandomized) and a bound
on examples per operation and mode. No answer may be a server error or differ from what the
document describes (the error shape included)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from tests.support.world import PASSWORD, World

EXAMPLES = 8
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 17,
        "checks": {
            # a request the document allows may still break a rule the document cannot state
            # (a weak password, an expired code, a dose plan the titration rules refuse): the
            # contract's answer to that is 422, never a server error
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        },
    }
)


def _signed_in_headers(world: World) -> dict[str, str]:
    """A fresh session for each example: an example may sign out, or out of everywhere."""
    client = world.app.test_client()
    answer = client.post(
        "/api/session", json={"email": "dr.north@example.org", "password": PASSWORD}
    )
    cookie = client.get_cookie("companion_session")
    assert answer.status_code == 200 and cookie is not None
    return {
        # the WSGI transport does not undo gzip, which public content is served with
        "Accept-Encoding": "identity",
        "Cookie": f"companion_session={cookie.value}",
        "X-CSRF-Token": answer.get_json()["csrf_token"],
    }


def test_the_api_matches_its_openapi_document(world: World) -> None:
    # every example signs in: the per-address sign-in limit is for people, not for this test
    world.app.config["LOGIN_LIMIT_PER_ADDRESS"] = "100000 per minute"
    world.app.config["LOGIN_FAILURES_PER_SOURCE_AND_ACCOUNT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", world.app, config=CONFIG)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:
                case.call_and_validate(headers=_signed_in_headers(world))

            try:
                check()
            except Unsatisfiable:  # nothing to get wrong: an operation without parameters
                continue
            except BaseException as failure:  # collected, so one run shows them all
                if isinstance(failure, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} ({mode}): {str(failure)[:1500]}")
    assert operations > 50
    assert not failures, "\n\n".join(failures)
