"""What the API layer asks about the request in hand: the app's clock, and whether the request
is still in its read phase (who is signed in, which patient) or in its use case's work.

The read phase is a context variable owned here, not a Flask global: the database runtime's
SQLite hook (server/db.py) is handed `in_read_phase` and asks it before each statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from typing import cast

from flask import Flask, current_app

_READ_PHASE: ContextVar[bool] = ContextVar("companion_read_phase", default=False)


def now() -> dt.datetime:
    """The current instant, from the app's clock (tests fix it)."""
    clock = cast(Callable[[], dt.datetime], current_app.extensions["companion.clock"])
    return clock()


def begin_read_phase() -> None:
    """Until the view runs, the request's statements only read who asks (see end_read_phase)."""
    _READ_PHASE.set(True)


def end_read_phase() -> None:
    """From here on the request's statements are the use case's: on SQLite the next one takes
    the single write lock (see `server.db.sqlite_single_writer`), held only for the use case's
    work; the objects read stay loaded. PostgreSQL keeps one transaction for the request."""
    _READ_PHASE.set(False)


def in_read_phase() -> bool:
    """Whether the request in hand is still reading who asks (False outside a request)."""
    return _READ_PHASE.get()


def init_app(app: Flask) -> None:
    """A request refused in its read phase ends it too (a server thread serves the next one)."""
    app.teardown_request(lambda _exc: end_read_phase())
