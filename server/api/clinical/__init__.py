"""Dose plans, doses and dose events; diaries; lab results and blood tests: one blueprint
(`blueprint.py`), one module per resource, each matching its API tests (tests/api/test_<module>)."""

# isort: off
# the resources' routes, in the order the API document lists them
from server.api.clinical import dose_plans, doses, diary, labs, appointments
from server.api.clinical.blueprint import blp

# isort: on

__all__ = ["appointments", "blp", "diary", "dose_plans", "doses", "labs"]
