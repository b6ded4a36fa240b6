"""The clinical blueprint the resources' modules add their routes to (one name and tag in the
API document, endpoints `clinical.<view>`), and what their rules share."""

from __future__ import annotations

from server.api.access import current_actor
from server.api.common import blueprint
from server.policy import Actor

blp = blueprint("clinical", "Dose plans, doses, diaries, lab results and blood tests")

READERS = {"patient", "caregiver", "clinician", "admin"}
LOGGERS = {"patient", "caregiver"}
CARE_TEAM = {"clinician", "admin"}
BASE = "/patients/<int:patient_id>"


def signed_in_actor() -> Actor:
    """Who asks (a route on a patient's records is only reached signed in)."""
    actor = current_actor()
    assert actor is not None
    return actor
