"""The request's audit event: every request on a patient's or a clinic's records, and every
public or signed-in route that touched a patient, leaves one (who, what, when, from where, and
the answer's status), refusals included.

One object per request, `RequestAudit` in `flask.g`: `access` says what to audit once it has
decided (`watch`), a view names a patient it could not know in advance (`audit_subject`) or the
patients a list showed (`audit_subjects`), a public route asks for an event (`audit_request`).
The event rides in the use case's own commit when its outcome is known up front; otherwise, or
when that commit fails or the answer differs, it is written after the request in its own short
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_limiter.util import get_remote_address
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.api.errors import error_response
from server.api.request_context import end_read_phase, in_read_phase, now
from server.extensions import db
from server.policy import Access, Actor
from server.services import audit


@dataclass(frozen=True)
class Anonymous:
    """Who a public route's audit event names: nobody signed in (a calendar app, say)."""

    role: str
    user_id: None = None


@dataclass
class RequestAudit:
    """This request's audit event, from the access decision to its write."""

    # what is audited: the route's rule, who asked, the patient in the path (None: nothing)
    rule: Access | None = None
    actor: Actor | Anonymous | None = None
    patient_id: int | None = None
    # the patient the view named once it knew (audit_subject), or those a list showed
    subject_id: int | None = None
    shown: list[int] = field(default_factory=list)
    # the status the route answers when its use case commits (the event rides in that commit)
    success_status: int | None = None
    # the status the event was committed with, once it is in the database
    committed_status: int | None = None

    def watch(self, rule: Access, actor: Actor | Anonymous, patient_id: int | None) -> None:
        """Audit this request under `rule`, asked by `actor`, about `patient_id`."""
        self.rule, self.actor, self.patient_id = rule, actor, patient_id

    def row(self, status: int | None) -> dict[str, Any] | None:
        """The pending event with the given outcome, or None if the request has none."""
        if self.rule is None or self.actor is None:
            return None
        patient_id = self.patient_id if self.subject_id is None else self.subject_id
        return request_audit_values(self.actor, patient_id, self.rule.action, status)

    def rows(self, status: int) -> list[dict[str, Any]]:
        """The request's events: one per patient a list showed (see `audit_subjects`)."""
        row = self.row(status)
        if row is None:
            return []
        if not self.shown or status >= 400:
            return [row]
        return [{**row, "patient_id": patient_id} for patient_id in self.shown]


def current() -> RequestAudit:
    """This request's audit (made on first use: a request that started before the hooks ran)."""
    found = g.get("request_audit")
    if found is None:
        found = g.request_audit = RequestAudit()
    return found


def _begin() -> None:
    """before_request: a fresh audit (g outlives a request when an app context is already
    pushed: tests, CLI)."""
    g.request_audit = RequestAudit()


def request_audit_values(
    actor: Actor | Anonymous, patient_id: int | None, action: str, status: int | None
) -> dict[str, Any]:
    """The audit event of this request (who, from where, when, which method and path)."""
    return audit.event_values(
        actor_id=actor.user_id,
        actor_role=actor.role,
        patient_id=patient_id,
        action=action,
        method=request.method,
        # nobody signed in: a public route, whose path may hold a secret (the calendar feed's)
        path=request.url_rule.rule
        if isinstance(actor, Anonymous) and request.url_rule is not None
        else request.path,
        address=get_remote_address(),
        now=now(),
        status=status,
    )


def _audit_in_use_case(session: Session) -> None:
    """before_commit: the audit event rides in the use case's own transaction (one commit per
    request), with the status the route answers on success. If that commit fails, the row is
    rolled back with it and `_write_audit` writes it afterwards with the real outcome."""
    if not has_request_context():
        return
    pending = g.get("request_audit")
    if pending is None or pending.committed_status is not None:
        return
    status = pending.success_status
    if status is None:
        return
    row = pending.row(status)
    if row is not None:
        audit.append(session, row)
        session.info["companion.audit_status"] = status


def _audit_committed(session: Session) -> None:
    """after_commit: remember that this request's audit event is in the database."""
    status = session.info.pop("companion.audit_status", None)
    if status is not None and has_request_context():
        current().committed_status = status


def _audit_rolled_back(session: Session) -> None:
    session.info.pop("companion.audit_status", None)


def _write_audit(response: Response) -> Response:
    """after_request: write the audit event of this request, with its outcome, in its own short
    transaction, unless the use case's commit already carried it with this very status (a
    refusal, a read, or an answer that differs from the one committed gets its own row)."""
    pending = current()
    if pending.rule is None or pending.committed_status == response.status_code:
        return response
    try:
        pending.success_status = None  # this commit is the event's own
        if in_read_phase():  # refused before its view ran
            end_read_phase()
        audit.write_many(db.session, pending.rows(response.status_code))
    except Exception:  # the trail must not silently miss a row: the caller is told it failed
        db.session.rollback()
        current_app.logger.exception("could not write an audit event")
        return error_response(500)
    return response


def audit_subject(patient_id: int) -> None:
    """Name the patient a request concerned when the route could not know it in advance."""
    current().subject_id = patient_id


def audit_subjects(patient_ids: Iterable[int]) -> None:
    """A list read: one audit event per patient it showed (none shown: one event, no patient)."""
    current().shown = sorted(set(patient_ids))


def audit_request(actor: Actor | Anonymous, patient_id: int | None) -> None:
    """Audit this request, on a route whose rule does not (a public or a signed-in route that
    touched a patient: an activation, a calendar feed read, an accepted invite)."""
    view = current_app.view_functions[request.endpoint or ""]
    current().watch(view.__access__, actor, patient_id)  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    if not event.contains(db.session, "before_commit", _audit_in_use_case):
        event.listen(db.session, "before_commit", _audit_in_use_case)
        event.listen(db.session, "after_commit", _audit_committed)
        event.listen(db.session, "after_rollback", _audit_rolled_back)
    app.before_request(_begin)
    app.after_request(_write_audit)
