"""A worker in its own process, for tests that kill it: the reminders lane at an instant,
run until nothing is due.

    python -m tests.support.drain_process DATABASE_URL INSTANCE_PATH NOW_ISO
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from reminders.delivery import REMINDERS, Delivery
from reminders.dispatch import Channels
from server import create_app
from server.extensions import db
from server.notify.vapid import vapid_for
from server.notify.webpush import WebPushSender
from tests.conftest import app_config


def main(url: str, instance: str, now_iso: str) -> None:
    app = create_app(app_config(url, Path(instance)))
    now = dt.datetime.fromisoformat(now_iso)
    with app.app_context():
        push = WebPushSender(
            vapid_for(None, app.instance_path), "mailto:care@example.org", allow_http=True
        )
        print("ready", flush=True)
        Delivery(db.session, Channels(push=push), "doomed-worker", REMINDERS, now).run()
        print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
