"""What the API layer asks about the request in hand: the app's clock, and whether the request
is still in its read phase (who is signed in, which patient) or in its use case's work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import cast

from flask import current_app, g


def now() -> dt.datetime:
    """The current instant, from the app's clock (tests fix it)."""
    clock = cast(Callable[[], dt.datetime], current_app.extensions["companion.clock"])
    return clock()


def begin_read_phase() -> None:
    """Until the view runs, the request's statements only read who asks (see end_read_phase)."""
    g.read_phase = True


def end_read_phase() -> None:
    """From here on the request's statements are the use case's: on SQLite the next one takes
    the single write lock (see `server._sqlite_single_writer`), held only for the use case's
    work; the objects read stay loaded. PostgreSQL keeps one transaction for the request."""
    g.read_phase = False


def in_read_phase() -> bool:
    return bool(g.get("read_phase"))
