"""The cycle's sending step: what the outbox has due is claimed and sent (the cycle hands over
how: reminders/delivery.py). Its question is the claim's own selection (services/outbox.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement

from server.services import outbox
from server.services.steps.base import CycleRun, Step


class Sending(Step):
    name = "sending"

    def due(self) -> Sequence[ColumnElement[bool]]:
        return [outbox.due_messages().exists()]

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        return {"now": now}

    def run(self, cycle: CycleRun) -> dict[str, int]:
        if cycle.send is None:
            return {}
        return dict(cycle.send(cycle.session, cycle.now))
