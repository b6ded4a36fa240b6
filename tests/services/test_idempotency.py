"""Idempotency-Key: the same key from the same user answers once, even when racing."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from server.extensions import db
from server.models import Clinic
from server.services.errors import Conflict
from server.services.idempotency import Claim, fingerprint, run_once
from tests.support.clock import FakeClock
from tests.support.world import care_team_user


def _clinic_maker(name: str, now):
    def work():
        clinic = Clinic(name=name, monitoring_profile="guideline", settings={}, created_at=now)
        db.session.add(clinic)
        db.session.flush()
        return clinic

    return work


def _present(clinic: Clinic) -> dict:
    return {"id": clinic.id, "name": clinic.name}


@pytest.fixture
def user_id(app: Flask) -> int:
    from server.models import User

    care_team_user(app, "dr@example.org", "Home")
    return db.session.query(User.id).scalar()


def test_the_same_key_answers_the_first_result_and_creates_nothing_new(
    app: Flask, clock: FakeClock, user_id: int
) -> None:
    claim = Claim(user_id, "key-1", "test", fingerprint({"a": 1}), _present)
    first = run_once(db.session, claim, clock.now, _clinic_maker("A", clock.now))
    again = run_once(db.session, claim, clock.now, _clinic_maker("B", clock.now))
    assert not first.replayed and again.replayed
    assert again.answer == first.answer and again.status == 201
    assert db.session.query(Clinic).filter(Clinic.name.in_(["A", "B"])).count() == 1


def test_a_key_reused_for_another_request_is_a_conflict(
    app: Flask, clock: FakeClock, user_id: int
) -> None:
    run_once(
        db.session,
        Claim(user_id, "k", "test", "h1", _present),
        clock.now,
        _clinic_maker("A", clock.now),
    )
    with pytest.raises(Conflict):
        run_once(
            db.session,
            Claim(user_id, "k", "test", "h2", _present),
            clock.now,
            _clinic_maker("B", clock.now),
        )
    db.session.rollback()
    assert db.session.query(Clinic).filter(Clinic.name == "B").count() == 0


def test_a_failed_first_attempt_leaves_the_key_free(
    app: Flask, clock: FakeClock, user_id: int
) -> None:
    claim = Claim(user_id, "k2", "test", "h", _present)

    def failing():
        raise Conflict("no")

    with pytest.raises(Conflict):
        run_once(db.session, claim, clock.now, failing)
    db.session.rollback()
    outcome = run_once(db.session, claim, clock.now, _clinic_maker("C", clock.now))
    assert not outcome.replayed and outcome.answer["name"] == "C"


def test_concurrent_duplicates_create_one_record_and_never_fail(
    app: Flask, clock: FakeClock, user_id: int
) -> None:
    claim = Claim(user_id, "racing", "test", "h", _present)
    results, errors = [], []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcome = run_once(db.session, claim, clock.now, _clinic_maker("R", clock.now))
                results.append(outcome)
            except Exception as exc:  # pragma: no cover - the assertion below reports it
                errors.append(exc)
            finally:
                db.session.remove()

    db.session.commit()  # end this session's transaction: SQLite has one writer at a time
    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 6
    assert sum(not r.replayed for r in results) == 1
    assert len({r.answer["id"] for r in results}) == 1
    assert db.session.query(Clinic).filter(Clinic.name == "R").count() == 1
