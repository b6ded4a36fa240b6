"""Other medicines' reminders and refill reminders end to end (issue 16, item 4): listed through
the API, found by the dispatch cycle, encrypted, pushed to the push service on loopback, and
decrypted there. Once each, on their minute, never a day early."""

from __future__ import annotations

import datetime as dt

from server.notify.webpush import WebPushSender
from tests.integration.test_reminders import at, push, sender, subscribe, tick
from tests.support.clock import FakeClock
from tests.support.push_service import PushService, Received
from tests.support.world import ApiClient, World, start_plan

__all__ = ["push", "sender"]  # the push service on loopback and the sender, as fixtures


def tagged(push: PushService, prefix: str, browser: dict | None = None) -> list[Received]:
    found = [r for r in push.received() if str(r.payload.get("tag", "")).startswith(prefix)]
    if browser is not None:
        sub_id = browser["endpoint"].rsplit("/", 1)[1]
        found = [r for r in found if r.subscription_id == sub_id]
    return found


def medicines(world: World) -> str:
    return f"/api/patients/{world.patient_id}/medicines"


def test_a_laxative_reminder_arrives_by_web_push_once(
    world: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    made = world.clinician.post(
        medicines(world),
        json={"kind": "laxative", "name": "Senna", "times": ["08:00", "20:00"], "stock": 30},
    )
    assert made.status_code == 201, made.get_json()
    browser = subscribe(world.patient, push)
    tick(world.app, sender, at("2026-11-25T19:59:00+00:00"))
    assert tagged(push, "medicine-") == []
    tick(world.app, sender, at("2026-11-25T20:00:00+00:00"))
    [message] = tagged(push, "medicine-", browser)
    # decrypted by the push service (RFC 8291): what the phone shows, nothing on the lock
    # screen that names the medicine
    assert message.payload["title"] == "Time for your other medicine"
    assert message.payload["kind"] == "dose" and message.payload["url"] == "/#today"
    assert "senna" not in str(message.payload).lower()
    assert message.headers["Urgency"] == "high" and int(message.headers["TTL"]) > 0
    # the same minute again, a second worker, a minute later: nothing more
    tick(world.app, sender, at("2026-11-25T20:00:00+00:00"), "w2")
    tick(world.app, sender, at("2026-11-25T20:01:00+00:00"))
    assert len(tagged(push, "medicine-")) == 1
    # marked taken before its time: tomorrow morning's is not sent; the evening's is
    clock.set(at("2026-11-26T07:50:00+00:00"))
    taken = ApiClient(world.app, "alex@example.org").post(
        f"/api/patients/{world.patient_id}/medicine-events",
        json={
            "medicine_id": made.get_json()["id"],
            "scheduled_at": "2026-11-26T08:00:00+00:00",
            "status": "taken",
            "at": "2026-11-26T07:50:00+00:00",
        },
    )
    assert taken.status_code == 201
    tick(world.app, sender, at("2026-11-26T08:00:00+00:00"))
    assert len(tagged(push, "medicine-")) == 1
    tick(world.app, sender, at("2026-11-26T20:00:00+00:00"))
    assert len(tagged(push, "medicine-")) == 2


def test_a_caregiver_who_logs_for_a_patient_without_a_login_is_reminded(
    world: World, push: PushService, sender: WebPushSender
) -> None:
    """Prompts go to whoever logs (RULES.md 7): Blake's clinic lists a laxative; Blake has a
    login, so Blake hears it, and the other clinic's patient nothing of Alex's."""
    made = world.other_clinician.post(
        f"/api/patients/{world.other_patient_id}/medicines",
        json={"kind": "laxative", "name": "Macrogol", "times": ["21:00"]},
    )
    assert made.status_code == 201
    blake = subscribe(world.other_patient, push)
    alex = subscribe(world.patient, push)
    tick(world.app, sender, at("2026-11-25T21:00:00+00:00"))
    assert len(tagged(push, "medicine-", blake)) == 1
    assert tagged(push, "medicine-", alex) == []


def test_a_refill_reminder_arrives_7_days_before_the_stock_runs_out_not_8(
    world: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    # one a day at 08:00 from tomorrow: 10 tablets cover 26 Nov - 5 Dec, out on 6 Dec
    made = world.clinician.post(
        medicines(world),
        json={"kind": "laxative", "name": "Lactulose", "times": ["08:00"], "stock": 10},
    )
    assert made.get_json()["runs_out_on"] == "2026-12-06"
    browser = subscribe(world.patient, push)
    carer = subscribe(world.caregiver, push)
    tick(world.app, sender, at("2026-11-28T09:00:00+00:00"))  # day 8 before
    tick(world.app, sender, at("2026-11-29T08:59:00+00:00"))
    assert tagged(push, "refill-") == []
    clock.set(at("2026-11-28T09:00:00+00:00"))
    answer = ApiClient(world.app, "alex@example.org").get(medicines(world)).get_json()
    assert answer["items"][0]["refill_due"] is False and answer["items"][0]["supply_note"] is None
    tick(world.app, sender, at("2026-11-29T09:00:00+00:00"))  # 7 days before, 09:00 London
    [message] = tagged(push, "refill-", browser)
    assert message.payload["title"] == "Time to get more medicine"
    assert message.payload["body"] == (
        "One of your medicines runs out in about a week. Order more now."
    )
    assert "lactulose" not in str(message.payload).lower()
    assert len(tagged(push, "refill-", carer)) == 1  # the caregiver hears it too
    for minute in ("09:00", "09:01", "12:00"):
        tick(world.app, sender, at(f"2026-11-29T{minute}:00+00:00"), "w2")
    assert len(tagged(push, "refill-")) == 2
    # a new count after the refill gets its own reminder, a week before the new date
    clock.set(at("2026-11-30T10:00:00+00:00"))
    recount = ApiClient(world.app, "alex@example.org").request(
        "PATCH", f"{medicines(world)}/{made.get_json()['id']}", json={"stock": 30}
    )
    assert recount.get_json()["runs_out_on"] == "2026-12-31"
    tick(world.app, sender, at("2026-12-23T09:00:00+00:00"))
    assert len(tagged(push, "refill-")) == 2
    tick(world.app, sender, at("2026-12-24T09:00:00+00:00"))
    assert len(tagged(push, "refill-")) == 4


def test_a_clozapine_refill_reminder_says_whether_the_blood_result_is_in(
    world: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    """RULES.md 3 and guideline L303: no current blood result, no supply. The reminder reads
    the monitoring schedule's next ANC against the day the stock runs out."""
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    made = world.clinician.post(
        medicines(world),
        json={"kind": "clozapine", "name": "Clozapine", "strength_mg": 25, "stock": 40},
    )
    assert made.status_code == 201, made.get_json()
    runs_out = dt.date.fromisoformat(made.get_json()["runs_out_on"])
    browser = subscribe(world.patient, push)
    blood = world.clinician.get(f"/api/patients/{world.patient_id}/blood-tests").get_json()
    anc_due = next(t for t in blood["upcoming"] if t["test"] == "anc")["due_date"]
    assert dt.date.fromisoformat(anc_due) <= runs_out  # weekly counts: a test falls due first
    remind_on = runs_out - dt.timedelta(days=7)
    day_before = (remind_on - dt.timedelta(days=1)).isoformat()
    tick(world.app, sender, at(f"{day_before}T09:00:00+00:00"))
    assert tagged(push, "refill-") == []
    tick(world.app, sender, at(f"{remind_on.isoformat()}T09:00:00+00:00"))
    [message] = tagged(push, "refill-", browser)
    assert message.payload["body"] == (
        "Your medicine runs out in about a week. The next supply needs a new blood test "
        "first: book it now."
    )
    assert "clozapine" not in str(message.payload).lower()
    clock.set(at(f"{remind_on.isoformat()}T09:05:00+00:00"))
    [item] = ApiClient(world.app, "alex@example.org").get(medicines(world)).get_json()["items"]
    assert item["blood_for_supply"] == "needed"
    assert item["supply_note"]["code"] == "clozapine_blood_needed"
    assert "blood test" in item["supply_note"]["text"]


def test_a_count_that_lasts_less_than_a_week_is_reminded_at_once_with_the_result_in(
    world: World, push: PushService, sender: WebPushSender
) -> None:
    """Two 25 mg tablets on a titration from tomorrow last a few days, and the clinic's count
    of today stays current past then (the next is due in a week): the reminder goes at once and
    says the blood result for the next supply is in."""
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    browser = subscribe(world.patient, push)
    made = world.clinician.post(
        medicines(world),
        json={"kind": "clozapine", "name": "Clozapine", "strength_mg": 25, "stock": 2},
    )
    runs_out = made.get_json()["runs_out_on"]
    assert runs_out is not None and runs_out < "2026-12-02"
    assert made.get_json()["blood_for_supply"] == "in"
    tick(world.app, sender, at("2026-11-25T12:00:00+00:00"))
    [message] = tagged(push, "refill-", browser)
    assert message.payload["body"] == (
        "Your medicine runs out in about a week. Your blood result for the next supply is in: "
        "order more now."
    )
    tick(world.app, sender, at("2026-11-25T12:01:00+00:00"), "w2")
    assert len(tagged(push, "refill-")) == 1
