"""Issue 14: every signal the product holds is read -- whose result counts, a temperature alone,
fever while the count is low, obstruction from the diary, the heart markers, levels, the first
low count, the baseline's age and the UK traffic light. Each test names the defect it pins
(RULES.md section 7 and the guideline line)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.extensions import db
from server.models import Escalation, LabResult, OutboxMessage, SymptomReport, User
from tests.support.clock import FakeClock
from tests.support.world import ApiClient, World, activate, add_anc, enrol_patient

AT = "2026-11-25T09:00:00+00:00"
LATER = "2026-11-25T10:00:00+00:00"
NOW = "2026-11-25T11:00:00+00:00"


def lab(client, patient_id: int, test: str, value: float, unit: str, at: str = AT, **extra):
    return client.post(
        f"/api/patients/{patient_id}/lab-results",
        json={"test": test, "value": value, "unit": unit, "collected_at": at, **extra},
    )


def report(world: World, body: dict, client=None):
    return (client or world.patient).post(
        f"/api/patients/{world.patient_id}/symptoms", json={"occurred_at": NOW, **body}
    )


def rules_of(response) -> dict[str, str]:
    return {flag["rule"]: flag["severity"] for flag in response.get_json()["red_flags"]}


def escalations() -> dict[str, str]:
    return {e.rule: e.severity for e in db.session.query(Escalation).all()}


def summary(world: World, patient_id: int | None = None) -> dict:
    return world.clinician.get(f"/api/patients/{patient_id or world.patient_id}").get_json()


# --- 1. whose result counts (RULES.md 7 "Whose result counts") -------------------------------


def test_a_patients_own_copy_does_not_unlock_the_first_plan(world: World) -> None:
    """Defect: a patient-entered 2000 unlocked the first plan (RULES.md 2 baseline; L89)."""
    assert add_anc(world.patient, world.patient_id, 2000, AT).status_code == 201
    response = world.clinician.put(
        f"/api/patients/{world.patient_id}/dose-plan",
        json={
            "start_date": "2026-11-26",
            "times": ["21:00"],
            "titration": "standard",
            "target_mg_per_day": 300,
        },
    )
    assert response.status_code == 422, response.get_json()
    assert "baseline_anc" in response.get_json()["error"]["fields"]


def test_a_mistyped_copy_never_replaces_the_clinic_result(world: World) -> None:
    """Defect: "4.0 x10^9/L" for 0.4 replaced a clinic ANC of 400: the band turned normal and
    the next test moved from tomorrow to 7 days away (RULES.md 7; guideline L139, L147)."""
    clinic = add_anc(world.clinician, world.patient_id, 400, AT)
    assert clinic.get_json()["interpretation"]["band"] == "severe"
    copy = add_anc(world.patient, world.patient_id, 4.0, LATER, unit="10^9/L")
    assert copy.status_code == 201
    assert copy.get_json()["source"] == "patient"
    status = summary(world)
    assert status["status"]["anc_band"] == "severe"
    assert status["next_blood_test"]["due_date"] == "2026-11-26"
    assert status["next_blood_test"]["days_away"] == 1
    # the copy far from the clinic's value on the same day is shown to the team
    assert escalations()["result_discrepancy"] == "routine"
    listed = world.clinician.get(f"/api/patients/{world.patient_id}/lab-results").get_json()
    mine = next(item for item in listed["items"] if item["source"] == "patient")
    assert mine["discrepancy"]["clinic_value"] == 400


def test_a_copy_far_from_a_later_clinic_result_of_the_same_day_is_a_discrepancy(
    world: World,
) -> None:
    add_anc(world.caregiver, world.patient_id, 2100, AT)
    assert "result_discrepancy" not in escalations()
    add_anc(world.clinician, world.patient_id, 1400, LATER)
    assert escalations()["result_discrepancy"] == "routine"


def test_a_copy_close_to_the_clinic_value_is_no_discrepancy(world: World) -> None:
    add_anc(world.clinician, world.patient_id, 2000, AT)
    add_anc(world.patient, world.patient_id, 2.1, LATER, unit="10^9/L")
    assert "result_discrepancy" not in escalations()


def test_a_low_copy_without_a_clinic_count_that_day_asks_the_team_to_check(world: World) -> None:
    add_anc(world.patient, world.patient_id, 400, AT)
    assert escalations() == {"reported_low_count": "urgent"}
    assert summary(world)["status"]["anc_band"] is None


@pytest.mark.parametrize("reader", ["patient", "caregiver"])
def test_clinician_action_text_never_reaches_the_patients_side(world: World, reader: str) -> None:
    """Defect: "Stop clozapine now" reached the patient's and caregiver's callers."""
    add_anc(world.clinician, world.patient_id, 400, AT)
    client = getattr(world, reader)
    base = f"/api/patients/{world.patient_id}"
    for path in (f"{base}/lab-results", f"{base}/blood-tests"):
        text = client.get(path).get_data(as_text=True)
        assert "Stop clozapine" not in text and "action_text" not in text
    item = client.get(f"{base}/lab-results").get_json()["items"][0]
    advice = item["interpretation"]["advice"]
    assert advice["code"] == "anc_severe" and len(advice["text"]) > 40
    own = add_anc(client, world.patient_id, 450, LATER).get_json()
    assert "action_text" not in own["interpretation"]
    # the care team still reads the clinician's action
    team = world.clinician.get(f"{base}/lab-results").get_json()["items"]
    assert any("Stop clozapine" in (i["interpretation"] or {}).get("action_text", "") for i in team)


# --- 2. symptom reports (RULES.md 7 "Temperature alone") -------------------------------------


def test_a_temperature_alone_is_a_report_and_raises_fever(world: World) -> None:
    """Defect: 38.6 C with nothing ticked was refused with 422 "Length must be between 1 and
    30" (RULES.md 4 fever >= 38.0 C; guideline L302)."""
    response = report(world, {"symptoms": [], "temperature_c": 38.6})
    assert response.status_code == 201, response.get_json()
    assert rules_of(response) == {"fever": "urgent"}
    assert escalations() == {"fever": "urgent"}


def test_a_normal_temperature_alone_is_recorded_without_a_flag(world: World) -> None:
    response = report(world, {"symptoms": [], "temperature_c": 36.9})
    assert response.status_code == 201
    assert response.get_json()["red_flags"] == []
    assert db.session.query(SymptomReport).one().temperature_c == 36.9


def test_a_bad_temperature_is_refused_on_its_own_field_and_chest_pain_still_counts(
    world: World,
) -> None:
    """Defect: an implausible temperature refused the whole report, chest pain included."""
    response = report(world, {"symptoms": ["chest_pain"], "temperature_c": 55.0})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert rules_of(response) == {"chest_pain": "emergency"}
    assert list(body["refused_fields"]) == ["temperature_c"]
    assert "between 30 and 45" in body["refused_fields"]["temperature_c"][0]
    saved = db.session.query(SymptomReport).one()
    assert saved.symptoms == ["chest_pain"] and saved.temperature_c is None
    assert escalations() == {"chest_pain": "emergency"}


def test_a_bad_temperature_alone_is_422_on_its_field_and_writes_nothing(world: World) -> None:
    response = report(world, {"symptoms": [], "temperature_c": 101.2})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["temperature_c"]
    assert db.session.query(SymptomReport).count() == 0


# --- 3. rules that combine signals -----------------------------------------------------------


@pytest.mark.parametrize(
    ("anc", "symptoms", "expected"),
    [
        # RULES.md 7 "Neutropenic fever"; guideline L139-L140, L302
        (400, ["fever"], {"fever": "emergency"}),
        (700, ["fever"], {"fever": "emergency"}),
        (700, ["sore_throat"], {"sore_throat": "emergency"}),
        (1200, ["fever"], {"fever": "urgent"}),
        (2000, ["sore_throat"], {"sore_throat": "urgent"}),
    ],
)
def test_fever_while_the_clinic_count_is_low_is_an_emergency(
    world: World, anc: float, symptoms: list[str], expected: dict
) -> None:
    """Defect: fever during severe neutropenia was only "urgent, contact your team today"."""
    add_anc(world.clinician, world.patient_id, anc, AT)
    response = report(world, {"symptoms": symptoms})
    assert {r: s for r, s in rules_of(response).items() if r in expected} == expected
    if "emergency" in expected.values():
        flag = response.get_json()["red_flags"][0]
        assert flag["advice_code"] == "neutropenic_fever" and flag["call_now"] is True
        assert "today" not in flag["advice"]
        # the patient's summary and the care team's list show the same words
        opened = world.patient.get(f"/api/patients/{world.patient_id}").get_json()
        [shown] = [f for f in opened["open_red_flags"] if f["rule"] == flag["rule"]]
        assert (shown["severity"], shown["title"]) == ("emergency", flag["title"])
        listed = world.clinician.get("/api/escalations").get_json()["escalations"]
        [team] = [e for e in listed if e["rule"] == flag["rule"]]
        assert team["title"] == flag["title"] and "neutropenic" in team["clinician_advice"]


def test_a_patients_low_copy_does_not_make_fever_an_emergency(world: World) -> None:
    add_anc(world.clinician, world.patient_id, 2000, AT)
    add_anc(world.patient, world.patient_id, 300, LATER)
    assert rules_of(report(world, {"symptoms": ["fever"]}))["fever"] == "urgent"


@pytest.mark.parametrize(
    ("last_movement", "flag"),
    [
        # RULES.md 7 "Obstruction from the diary": no movement for 48 h or more
        ("2026-11-23T11:00:00+00:00", True),  # 48 h before the report
        ("2026-11-23T11:01:00+00:00", False),  # 47 h 59 min
        ("2026-11-20T08:00:00+00:00", True),
    ],
)
def test_pain_and_vomiting_without_a_bowel_movement_for_48h_is_obstruction(
    world: World, last_movement: str, flag: bool
) -> None:
    """Defect: abdominal pain and vomiting with no bowel movement for days raised nothing
    unless "constipation" was also ticked (guideline L221, L232; MHRA)."""
    world.patient.post(
        f"/api/patients/{world.patient_id}/bowel-movements",
        json={"occurred_at": last_movement, "bristol_type": 2},
    )
    response = report(world, {"symptoms": ["abdominal_pain", "vomiting"]})
    assert ("bowel_obstruction_signs" in rules_of(response)) is flag
    if flag:
        assert rules_of(response)["bowel_obstruction_signs"] == "emergency"


def test_a_movement_logged_after_the_report_does_not_hide_the_gap_before_it(
    world: World,
) -> None:
    world.patient.post(
        f"/api/patients/{world.patient_id}/bowel-movements",
        json={"occurred_at": "2026-11-21T08:00:00+00:00", "bristol_type": 2},
    )
    world.patient.post(
        f"/api/patients/{world.patient_id}/bowel-movements",
        json={"occurred_at": "2026-11-25T10:55:00+00:00", "bristol_type": 6},
    )
    response = report(
        world, {"occurred_at": "2026-11-25T09:00:00+00:00", "symptoms": ["swollen_belly"]}
    )
    assert rules_of(response)["bowel_obstruction_signs"] == "emergency"


def test_unusual_tiredness_in_days_1_to_28_is_a_heart_warning_sign(world: World) -> None:
    """Defect: "unusually tired or weak" in days 1-28 raised nothing (guideline L174)."""
    # Alex started on 2026-11-01: 25 November is day 25
    assert rules_of(report(world, {"symptoms": ["unusual_tiredness"]})) == {
        "cardiac_symptoms": "urgent"
    }


@pytest.mark.parametrize(
    ("test", "value", "unit", "extra", "rule", "severity"),
    [
        # RULES.md 7 "Myocarditis markers" (Ronaldson 2011; guideline L113, L180)
        ("troponin", 84, "ng/L", {"upper_limit": 14}, "myocarditis_markers", "emergency"),
        ("troponin", 20, "ng/L", {"upper_limit": 14}, "myocarditis_markers", "urgent"),
        ("crp", 120, "mg/L", {}, "myocarditis_markers", "emergency"),
        ("crp", 60, "mg/L", {}, "myocarditis_markers", "urgent"),
        # RULES.md 7 "Clozapine level" (guideline L62, L128)
        ("trough_level", 1500, "ng/mL", {}, "clozapine_level_high", "urgent"),
        # RULES.md 7 "Liver tests" (guideline L288, L292)
        ("alt", 130, "U/L", {"upper_limit": 40}, "liver_tests_high", "routine"),
        ("alt", 130, "U/L", {"upper_limit": 40, "symptomatic": True}, "liver_tests_high", "urgent"),
    ],
)
def test_markers_and_levels_are_read(
    world: World, test: str, value: float, unit: str, extra: dict, rule: str, severity: str
) -> None:
    """Defect: troponin and CRP were stored and never read; a level of 1500 ng/mL raised
    nothing; ALT above 3x without symptoms was not shown to the team."""
    response = lab(world.clinician, world.patient_id, test, value, unit, **extra)
    assert response.status_code == 201, response.get_json()
    assert escalations() == {rule: severity}
    body = response.get_json()
    assert body["upper_limit"] == extra.get("upper_limit")
    assert body["interpretation"]["finding"]


def test_a_marker_taken_before_a_planned_retitration_is_read_on_its_own_days_day(
    world: World,
) -> None:
    """Defect: a troponin of 6x the upper limit on day 25 (Alex started on Nov 1), entered
    once a re-titration from Nov 27 was planned, was read as outside days 1-45 (its day
    counted from the re-titration: day -1) and raised urgent, not emergency (RULES.md 7
    "Myocarditis markers", Ronaldson 2011; guideline L113, L180; RULES.md 6: the watch
    starts again with the re-titration, not before it)."""
    base = f"/api/patients/{world.patient_id}"
    plan = {"times": ["21:00"], "target_mg_per_day": 300}
    steady = {**plan, "start_date": "2026-11-25", "kind": "maintenance"}
    assert world.clinician.put(f"{base}/dose-plan", json=steady).status_code == 200
    held = world.clinician.post(f"{base}/treatment-events", json={"action": "hold", "reason": "x"})
    assert held.status_code == 201
    add_anc(world.clinician, world.patient_id, 2000, "2026-11-25T08:00:00+00:00")
    again = {**plan, "start_date": "2026-11-27", "kind": "retitration"}
    assert world.clinician.put(f"{base}/dose-plan", json=again).status_code == 200
    response = lab(world.clinician, world.patient_id, "troponin", 84, "ng/L", upper_limit=14)
    assert response.status_code == 201, response.get_json()
    assert escalations() == {"myocarditis_markers": "emergency"}


def test_a_level_below_target_is_shown_to_the_team_without_an_alert(world: World) -> None:
    body = lab(world.clinician, world.patient_id, "trough_level", 300, "ng/mL").get_json()
    assert body["interpretation"]["finding"] == "below_target"
    assert escalations() == {}


def test_a_troponin_from_the_clinic_needs_its_upper_limit(world: World) -> None:
    response = lab(world.clinician, world.patient_id, "troponin", 84, "ng/L")
    assert response.status_code == 422
    assert "upper_limit" in response.get_json()["error"]["fields"]
    assert db.session.query(LabResult).count() == 0


def test_a_patients_copy_of_a_marker_raises_nothing(world: World) -> None:
    assert lab(world.patient, world.patient_id, "crp", 150, "mg/L").status_code == 201
    assert escalations() == {}


# --- 5. the first low count is confirmed within 24 h (RULES.md 7 "First low count") ----------


def test_a_first_low_count_is_due_again_the_next_day_and_prompts_the_patient(
    world: World,
) -> None:
    """Defect: a first low count was marked "confirm within 24 h" but the next test was set
    2-3 days out, and the repeat prompt was never sent (RULES.md 2; guideline L141)."""
    body = add_anc(world.clinician, world.patient_id, 1200, AT).get_json()
    assert body["interpretation"]["confirm_within_24h"] is True
    assert body["interpretation"]["next_test_due"] == "2026-11-26"
    login = db.session.query(User).filter_by(patient_id=world.patient_id).one()
    [prompt] = db.session.query(OutboxMessage).filter_by(kind="blood_test").all()
    assert prompt.recipient_user_id == login.id
    assert prompt.payload == {"prompt": "anc_repeat_within_24h"}
    # the repeat (second low count) goes back to the band's frequency: three times weekly
    again = add_anc(world.clinician, world.patient_id, 1250, "2026-11-25T10:30:00+00:00")
    assert again.get_json()["interpretation"]["confirm_within_24h"] is False
    assert again.get_json()["interpretation"]["next_test_due"] == "2026-11-27"
    assert db.session.query(OutboxMessage).filter_by(kind="blood_test").count() == 1


def test_the_repeat_prompt_goes_to_the_caregivers_when_the_patient_has_no_login(
    world: World,
) -> None:
    other = enrol_patient(world.clinician, "Robin")
    invite = world.clinician.post(f"/api/patients/{other['id']}/caregiver-invites").get_json()
    assert activate(world.app, invite["code"], "kim@example.org").status_code == 201
    add_anc(world.clinician, other["id"], 900, AT)
    carer = db.session.query(User).filter_by(email="kim@example.org").one()
    [prompt] = db.session.query(OutboxMessage).filter_by(kind="blood_test").all()
    assert prompt.recipient_user_id == carer.id


# --- 6. the baseline's age (RULES.md 7 "Baseline") -------------------------------------------


@pytest.mark.parametrize(
    ("baseline_at", "ok"),
    [
        ("2026-01-25T09:00:00+00:00", False),  # 10 months before: the defect
        ("2026-11-14T09:00:00+00:00", False),  # 11 days before the start
        ("2026-11-15T09:00:00+00:00", True),  # 10 days before
        ("2026-11-25T09:00:00+00:00", True),
    ],
)
def test_a_baseline_older_than_10_days_before_the_start_does_not_count(
    world: World, baseline_at: str, ok: bool
) -> None:
    """Defect: a baseline ANC from 10 months before the start was accepted."""
    add_anc(world.clinician, world.patient_id, 2000, baseline_at)
    response = world.clinician.put(
        f"/api/patients/{world.patient_id}/dose-plan",
        json={
            "start_date": "2026-11-25",
            "times": ["21:00"],
            "titration": "standard",
            "target_mg_per_day": 300,
        },
    )
    assert (response.status_code == 200) is ok, response.get_json()
    if not ok:
        message = response.get_json()["error"]["fields"]["baseline_anc"][0]
        assert "10 days" in message


# --- 7. the UK profile (RULES.md 2 and 7, uk-smpc) -------------------------------------------


@pytest.fixture
def uk(world: World) -> World:
    response = world.admin.put("/api/clinic/settings", json={"monitoring_profile": "uk-smpc"})
    assert response.status_code == 200, response.get_json()
    return world


def test_a_wbc_on_its_own_is_read_by_the_traffic_light(uk: World) -> None:
    """Defect: a WBC entered as its own test was ignored."""
    body = lab(uk.clinician, uk.patient_id, "wbc", 2.8, "10^9/L").get_json()
    assert body["interpretation"]["traffic_light"] == "red"
    assert summary(uk)["status"]["anc_band"] == "severe"
    assert escalations() == {"anc_severe": "emergency"}


def later(world: World, clock: FakeClock, instant: dt.datetime) -> ApiClient:
    """Move the clock on; the care team's session has timed out, so sign in again."""
    clock.set(instant)
    return ApiClient(world.app, "dr.north@example.org")


def test_after_red_tests_stay_daily_until_two_greens(uk: World, clock: FakeClock) -> None:
    """Defect: after red, one green returned to fortnightly instead of daily (UK SmPC)."""
    lab(uk.clinician, uk.patient_id, "anc", 1.2, "10^9/L", wbc=3.1)
    clinician = later(uk, clock, dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC))
    first = lab(
        clinician, uk.patient_id, "anc", 2.5, "10^9/L", "2026-11-26T09:00:00+00:00", wbc=4.5
    ).get_json()
    assert first["interpretation"]["traffic_light"] == "green"
    assert first["interpretation"]["next_test_due"] == "2026-11-27"
    clinician = later(uk, clock, dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC))
    second = lab(
        clinician, uk.patient_id, "anc", 2.6, "10^9/L", "2026-11-27T09:00:00+00:00", wbc=4.6
    ).get_json()
    assert second["interpretation"]["next_test_due"] == "2026-12-04"  # weekly (week 4)


def test_one_sample_entered_as_two_tests_is_one_green_after_red(
    uk: World, clock: FakeClock
) -> None:
    """Defect: after red, the neutrophils and the WBC of one sample, entered as two tests,
    counted as two greens: daily tests ended after a single green sample and the next count
    moved a week away (RULES.md 2 uk-smpc and 7 "after red, tests are daily until two
    greens")."""
    lab(uk.clinician, uk.patient_id, "anc", 1.2, "10^9/L", wbc=3.1)
    clinician = later(uk, clock, dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC))
    sample = "2026-11-26T09:00:00+00:00"
    lab(clinician, uk.patient_id, "anc", 2.5, "10^9/L", sample)
    body = lab(clinician, uk.patient_id, "wbc", 4.5, "10^9/L", sample).get_json()
    assert body["interpretation"]["traffic_light"] == "green"
    assert body["interpretation"]["next_test_due"] == "2026-11-27"
    status = clinician.get(f"/api/patients/{uk.patient_id}").get_json()
    assert status["next_blood_test"]["due_date"] == "2026-11-27"
    clinician = later(uk, clock, dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC))
    second = lab(
        clinician, uk.patient_id, "anc", 2.6, "10^9/L", "2026-11-27T09:00:00+00:00", wbc=4.6
    ).get_json()
    assert second["interpretation"]["next_test_due"] == "2026-12-04"  # two greens: weekly


def test_each_step_down_waits_for_the_care_team(uk: World, clock: FakeClock) -> None:
    """Defect: the schedule stepped down (weekly -> every 2 weeks at week 19) without the care
    team confirming (RULES.md 3 uk-smpc)."""
    # Alex started on 2026-11-01; week 19 begins on 2027-03-07
    clinician = later(uk, clock, dt.datetime(2027, 3, 8, 12, 0, tzinfo=dt.UTC))
    body = lab(
        clinician, uk.patient_id, "anc", 2.5, "10^9/L", "2027-03-08T09:00:00+00:00", wbc=4.5
    ).get_json()
    assert body["interpretation"]["next_test_due"] == "2027-03-15"  # still weekly
    base = f"/api/patients/{uk.patient_id}"
    tasks = clinician.get(f"{base}/care-tasks").get_json()["items"]
    assert [(t["kind"], t["detail"]["to_interval_days"]) for t in tasks] == [("anc_step_down", 14)]
    assert clinician.get("/api/care-tasks").get_json()["items"] == tasks
    patient = ApiClient(uk.app, "alex@example.org")
    assert patient.get(f"{base}/care-tasks").status_code == 403
    assert (
        clinician.post(f"{base}/care-tasks/anc_step_down:2026-11-01:53/confirm").status_code == 404
    )
    done = clinician.post(f"{base}/care-tasks/{tasks[0]['id']}/confirm")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["next_blood_test"]["due_date"] == "2027-03-22"
    again = clinician.post(f"{base}/care-tasks/{tasks[0]['id']}/confirm")
    assert again.status_code == 200 and again.get_json() == done.get_json()
    assert clinician.get(f"{base}/care-tasks").get_json()["items"] == []
    assert clinician.get(base).get_json()["next_blood_test"]["due_date"] == "2027-03-22"


def test_ben_patients_get_no_no_rechallenge_wording_under_the_uk_profile(uk: World) -> None:
    """Defect: BEN patients got "no rechallenge" although UK BEN cut-offs are not encoded."""
    ben = enrol_patient(uk.clinician, "Bea", ben=True)
    body = lab(uk.clinician, ben["id"], "anc", 1.2, "10^9/L").get_json()
    assert body["interpretation"]["traffic_light"] == "red"
    assert "rechallenge" not in body["interpretation"]["action_text"].lower()
    assert body["interpretation"]["action"] != "stop_no_rechallenge"
    general = lab(uk.clinician, uk.patient_id, "anc", 1.2, "10^9/L").get_json()
    assert "no rechallenge" in general["interpretation"]["action_text"].lower()
