"""The calendar feed: a revocable secret URL serving upcoming blood tests as iCalendar.

A convenience for the patient's own calendar, never the safety channel: reminders and
escalations do not depend on it. Nothing clinical goes into it (it leaves the app).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.models import Patient
from server.models_exports import CalendarFeed
from server.policy import Actor
from server.services import appointments
from server.services import state as states
from server.services.content import Content, fill
from server.services.errors import NotFound
from server.services.formats import Formats

BLOOD_TESTS = ("anc", "wbc_neutrophils")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(session: Session, actor: Actor, patient: Patient, now: dt.datetime) -> str:
    """A new secret token (returned once, only its hash stored); any previous feed is revoked."""
    revoke_feeds(session, patient, now, commit=False)
    token = secrets.token_urlsafe(32)
    session.add(
        CalendarFeed(
            patient_id=patient.id,
            token_hash=token_hash(token),
            created_by_id=actor.user_id,
            created_at=now,
        )
    )
    session.commit()
    return token


def revoke_feeds(session: Session, patient: Patient, now: dt.datetime, commit: bool = True) -> int:
    """Revoke every live feed of the patient; returns how many were live."""
    result = session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.patient_id == patient.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if commit:
        session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def feed_patient(session: Session, token: str) -> Patient:
    """The patient behind a live token; unknown and revoked tokens are both 404."""
    if not token or len(token) > 100:
        raise NotFound("No such calendar.")
    feed = session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    ).first()
    if feed is None:
        raise NotFound("No such calendar.")
    patient = session.get(Patient, feed.patient_id)
    if patient is None:
        raise NotFound("No such calendar.")
    return patient


def calendar_for(session: Session, patient: Patient, now: dt.datetime, content: Content) -> bytes:
    """Upcoming blood tests as all-day events and clinic appointments at their time, with the
    patient's VTIMEZONE; no values, no drug names. The words are `content`'s language (the one
    the feed was made in), its dates written for that language from CLDR."""
    words = content.words("calendar")
    formats = Formats(content.language)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Companion//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", words["name"])
    cal.add("x-wr-timezone", patient.timezone)
    today = states.today_for(patient, now)
    cal.add_component(
        icalendar.Timezone.from_tzid(
            patient.timezone,
            first_date=today - dt.timedelta(days=1),
            last_date=today + dt.timedelta(days=400),
        )
    )
    for item in states.schedule(session, patient, now):
        if item.test not in BLOOD_TESTS:
            continue
        event = icalendar.Event()
        # the uid is stable per patient and due date, never the patient's name or a value
        event.add("uid", f"blood-test-{patient.id}-{item.due_date.isoformat()}@companion")
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", item.due_date)
        event.add("dtend", item.due_date + dt.timedelta(days=1))
        event.add("summary", words["blood_test"])
        event.add(
            "description",
            fill(words["blood_test_description"], date=formats.long_date(item.due_date)),
        )
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    zone = ZoneInfo(patient.timezone)
    for booked in appointments.upcoming(session, patient, now):
        event = icalendar.Event()
        event.add("uid", f"appointment-{booked.id}@companion")
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", booked.starts_at.astimezone(zone))
        event.add(
            "dtend",
            (booked.starts_at + dt.timedelta(minutes=booked.duration_minutes)).astimezone(zone),
        )
        title = appointments.title(booked.kind, content)
        event.add("summary", title)
        event.add(
            "description",
            fill(
                words["appointment_description"],
                title=title,
                date=formats.long_date(booked.starts_at.astimezone(zone).date()),
                time=formats.time(booked.starts_at, patient.timezone),
            ),
        )
        if booked.place:
            event.add("location", booked.place)
        cal.add_component(event)
    return cal.to_ical()
