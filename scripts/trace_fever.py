"""Follow a fever report from its POST to the care-team webhook: the project files it passes
through, in order, and whether the worker enters any module twice (docs/performance.md,
"Following a fever report").

A patient POSTs a fever (`POST /api/patients/<id>/symptoms`, on SQLite in a temporary folder);
one dispatch cycle then sends its alerts, the webhook to a real receiver on loopback. Every
Python call is watched (sys.setprofile, and threading.setprofile for the sending threads):

- request side: the project files on the stack when the webhook's outbox row is written
  (`outbox.enqueue`), from the route down;
- worker side: the cycle's stack down to the alerts lane's run, and every call from one project
  file into another during that run (a *stop*), on the worker's thread and its sending threads
  (a sending thread continues the file that handed it the send). A module is *entered twice*
  when it is called into from two files, or from below itself (a climb back up: it is already
  on the stack when called), or appears twice on the cycle's stack down to the run.

Engine hooks called by SQLAlchemy (not by our code), and what they call, are left out (listed
apart): they run for every statement, on every path.

    .venv/bin/python scripts/trace_fever.py
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROJECT = (str(ROOT / "server") + "/", str(ROOT / "reminders") + "/")
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
SECRET = "webhook-secret-for-tests"  # noqa: S105 (a test receiver's)


def project_file(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    name = frame.f_code.co_filename
    return name[len(str(ROOT)) + 1 :] if name.startswith(PROJECT) else None


def project_stack(frame: FrameType | None) -> list[str]:
    """The project files on the stack, outermost first, repeats next to each other merged."""
    files: list[str] = []
    while frame is not None:
        name = project_file(frame)
        if name is not None and (not files or files[-1] != name):
            files.append(name)
        frame = frame.f_back
    return files[::-1]


def in_library_callback(frame: FrameType | None) -> bool:
    """True when `frame` (project code) runs under a library that project code called, which
    called back into ours: up the stack, project code, a library, project code again."""
    while frame is not None and project_file(frame) is not None:
        frame = frame.f_back
    while frame is not None and project_file(frame) is None:
        frame = frame.f_back
    return frame is not None


class Tracer:
    def __init__(self) -> None:
        self.enqueue_stacks: list[list[str]] = []
        self.worker_prefix: list[str] = []
        self.stops: list[tuple[str, str, str]] = []  # (from, into, function)
        self.climbs: list[tuple[str, str]] = []
        self.hooks: Counter[str] = Counter()
        self.in_alerts = False
        self.lock = threading.Lock()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        into = project_file(frame)
        if into is None:
            return
        code = frame.f_code
        if code.co_name == "enqueue" and into == "server/services/outbox.py":
            rows = frame.f_locals.get("rows") or []
            if any(row.get("channel") == "webhook" for row in rows):
                self.enqueue_stacks.append(project_stack(frame))
        if code.co_name == "run" and into == "reminders/delivery.py":
            lane = getattr(frame.f_locals.get("self"), "lane", None)
            if getattr(lane, "name", None) == "alerts" and not self.worker_prefix:
                self.worker_prefix = project_stack(frame)
                self.in_alerts = True
        if not self.in_alerts:
            return
        caller = frame.f_back
        came_from = project_file(caller)
        if came_from is None:
            if threading.current_thread() is threading.main_thread():
                # called by a library (an engine hook, an event): not a step of the path
                self.hooks[f"{into}:{code.co_name}"] += 1
            return  # a sending thread starts in the file that handed it the send
        if in_library_callback(caller):
            return  # what such a hook calls in turn
        if came_from == into:
            return
        with self.lock:
            self.stops.append((came_from, into, code.co_name))
            if into in project_stack(caller):
                self.climbs.append((came_from, into))

    def returned(self, frame: FrameType, event: str, arg: Any) -> None:
        if (
            event == "return"
            and frame.f_code.co_name == "run"
            and self.in_alerts
            and project_file(frame) == "reminders/delivery.py"
        ):
            self.in_alerts = False


def scenario(tracer: Tracer) -> dict[str, int]:
    from reminders.cycle import run_cycle
    from server import create_app
    from server.api.push import vapid
    from server.extensions import db
    from server.notify.webpush import WebPushSender
    from tests.conftest import _migrate, app_config
    from tests.support.channels import loopback_channels
    from tests.support.webhook_receiver import WebhookReceiver
    from tests.support.world import World, add_anc

    folder = Path(tempfile.mkdtemp(prefix="trace-fever-"))
    url = f"sqlite:///{folder / 'companion.sqlite3'}"
    logging.disable(logging.INFO)
    _migrate(url, folder)
    app = create_app(app_config(url, folder / "instance"))
    receiver = WebhookReceiver().start()
    with app.app_context():
        world = World.build(app)
        # recent counts and a bowel movement: the fever is the only red flag
        add_anc(world.clinician, world.patient_id, 2000, "2026-11-25T09:00:00+00:00")
        add_anc(world.other_clinician, world.other_patient_id, 2000, "2026-11-25T09:00:00+00:00")
        for patient, who in ((world.patient, world.patient_id),):
            patient.post(
                f"/api/patients/{who}/bowel-movements",
                json={"occurred_at": "2026-11-25T11:00:00+00:00", "bristol_type": 4},
            )
        with app.test_request_context():
            key = vapid()
        channels = loopback_channels(
            push=WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=2),
            webhook_url=receiver.url,
            webhook_secret=SECRET,
        )

        def profile(frame: FrameType, event: str, arg: Any) -> None:
            tracer(frame, event, arg)
            tracer.returned(frame, event, arg)

        sys.setprofile(profile)
        threading.setprofile(profile)
        try:
            response = world.patient.post(
                f"/api/patients/{world.patient_id}/symptoms",
                json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
            )
            counts = run_cycle(
                db.session, NOW, app.extensions["companion.content"], "w1", channels
            ).counts
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
        channels.close()
        db.session.remove()
        db.engine.dispose()
    receiver.stop()
    assert response.status_code == 201, response.get_json()
    opened = [d.document for d in receiver.deliveries]
    assert [d["event"] for d in opened] == ["escalation.opened"], opened
    return counts


def main() -> None:
    tracer = Tracer()
    counts = scenario(tracer)
    [request] = tracer.enqueue_stacks
    worker_files = list(dict.fromkeys([*tracer.worker_prefix, *(s[1] for s in tracer.stops)]))
    request_files = list(dict.fromkeys(request))
    files = list(dict.fromkeys([*request_files, *worker_files]))
    edges = Counter((came_from, into) for came_from, into, _ in tracer.stops)
    callers: dict[str, set[str]] = {}
    for came_from, into in edges:
        callers.setdefault(into, set()).add(came_from)
    prefix = tracer.worker_prefix
    twice = sorted(
        {name for name, by in callers.items() if len(by) > 1}
        | {into for _, into in tracer.climbs}
        | {name for name in prefix if prefix.count(name) > 1}
    )
    print("request side (the route to the webhook's outbox row), the stack:")
    print("   " + " -> ".join(request))
    print("worker side, the cycle to the alerts lane:")
    print("   " + " -> ".join(tracer.worker_prefix))
    print(
        f"worker side, calls from one file into another in the alerts lane ({len(tracer.stops)}):"
    )
    for (came_from, into), n in edges.items():
        functions = sorted({f for c, i, f in tracer.stops if (c, i) == (came_from, into)})
        print(f"   {came_from} -> {into} x{n} ({', '.join(functions)})")
    print(f"called by a library, not on the path (engine hooks, ...): {dict(tracer.hooks)}")
    print(f"cycle counts: {counts}")
    print()
    print(f"project files, POST to webhook: {len(files)}")
    print(f"  request side {len(request_files)}: {' '.join(request_files)}")
    print(f"  worker side {len(worker_files)}: {' '.join(worker_files)}")
    print(f"worker side: {len(tracer.stops)} calls between files, {len(edges)} distinct")
    print(f"  climbs back up (into a file already on the stack): {len(tracer.climbs)}")
    print(f"  modules entered twice (from two files, or from below): {twice or 'none'}")
    for name in twice:
        print(f"     {name} from {sorted(callers.get(name, ()))}")


if __name__ == "__main__":
    main()
