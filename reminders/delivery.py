"""The delivery runtime: how messages leave the outbox.

Two lanes, each with its own claims and threads: `alerts` (escalations, on every channel)
and `reminders` (everything else), so that a care-team alert never waits behind a reminder.
`companion worker` runs each lane as its own job; `drain` (one dispatch cycle, `tick`) runs
the alerts first.

Within a lane:
- sends are scheduled per origin (a push service, a webhook host, the mail server): at most
  `per_origin` at once to any one push service, and one at a time, in order, to a webhook
  or mail server, so a slow origin holds its own slots and no one else's;
  every request has a total deadline and reads a few KiB of the reply at most
  (server/notify/transport.py);
- each outcome is recorded as its send completes (a message's status when its last send is
  done; before that, each subscription it reached, which its next send skips), the sending
  threads handing results back through one queue; a send starts only while fewer than
  `in_flight` sends are made but not recorded: a worker killed at any moment has sent at
  most `in_flight` messages that another worker will send again;
- the claims held while their sends wait have their lease extended, so a claim never expires
  under a worker that is still on it; should one expire all the same (a worker stalled for a
  third of the lease), the messages another worker took over are dropped from this one's
  queues, not sent twice.
"""

from __future__ import annotations

import datetime as dt
import queue
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session

from reminders.dispatch import channels_of
from server.notify.channels import Channel, Outcome, Registry, Send, SendResult
from server.notify.webpush import WebPushSender
from server.services import outbox
from server.services.sends import Addressed, Underway, conclude, prepare

# a bound on one drain (a lane then ends and its next run goes on)
MAX_CLAIMED_PER_DRAIN = 200_000
CLAIM_SIZE = 500
# completed sends are recorded together when this many are done, or the oldest has waited
# this long, or nothing else is in flight (one commit for several outcomes)
RECORD_AFTER_SECONDS = 0.02
# while sends are still running, the outbox is looked at again this often (what came due in
# the meantime goes out beside a slow origin, not after it)
CLAIM_AGAIN_SECONDS = 0.5


@dataclass(frozen=True)
class Lane:
    """Which messages a lane claims (`kinds`, or every kind but `other_kinds`) and its bounds:
    sends at once to one origin, sends made and not yet recorded, claims held at once."""

    name: str
    kinds: frozenset[str] | None
    other_kinds: frozenset[str]
    per_origin: int
    in_flight: int
    held: int


ALERTS = Lane("alerts", frozenset({"escalation"}), frozenset(), 4, 8, 100)
REMINDERS = Lane("reminders", None, frozenset({"escalation"}), 16, 32, 1000)
LANES = (ALERTS, REMINDERS)


class Delivery:
    """One run of a lane for one worker: claims, sends and records until nothing is due."""

    def __init__(
        self,
        session: Session,
        channels: Registry,
        worker_id: str,
        lane: Lane,
        now: dt.datetime,
        *,
        lease: dt.timedelta | None = None,
        after_claim: Callable[[list[outbox.Claimed]], None] | None = None,
        begun: float | None = None,
    ) -> None:
        self.session = session
        self.channels = channels
        self.worker_id = worker_id
        self.lane = lane
        self.lease = lease or outbox.LEASE
        self.after_claim = after_claim  # a test stands in for a worker dying here
        self._started_at = now
        # the clock (time.monotonic) when `now` was taken: a cycle's steps may have run since
        self._started = time.monotonic() if begun is None else begun
        self.counts: Counter[str] = Counter()
        self._queues: dict[str, deque[Send]] = {}
        self._busy: Counter[str] = Counter()
        self._running = 0  # sends started and not finished
        self._finished: queue.SimpleQueue[tuple[Send, SendResult]] = queue.SimpleQueue()
        self._underway: dict[int, Underway] = {}
        self._taken_over: set[int] = set()  # messages another worker now holds
        self._done: list[tuple[Send, SendResult]] = []
        self._first_done_at = 0.0
        self._unrecorded = 0
        self._exhausted = False  # the last claim found less than it asked for
        self._claim_again_at = 0.0

    def now(self) -> dt.datetime:
        """The instant the run started at, moved on by the time it has taken: claims and
        their leases are counted from it (outcomes are recorded at the run's instant, as
        one dispatch cycle's)."""
        return self._started_at + dt.timedelta(seconds=time.monotonic() - self._started)

    def run(self) -> dict[str, int]:
        executor = ThreadPoolExecutor(
            max_workers=self.lane.in_flight, thread_name_prefix=f"send-{self.lane.name}"
        )
        renew_at = time.monotonic() + self.lease.total_seconds() / 3
        try:
            while True:
                self._claim_more()
                self._start_sends(executor)
                if not self._running and not self._done:
                    if self._exhausted:
                        break
                    continue  # what was claimed needed no send: claim more
                wake = min(renew_at, self._claim_again_at) if self._exhausted else renew_at
                timeout = wake - time.monotonic()
                if self._done:
                    timeout = self._first_done_at + RECORD_AFTER_SECONDS - time.monotonic()
                self._collect(max(timeout, 0))
                if self._done and self._time_to_record():
                    self._record()
                if time.monotonic() >= renew_at:
                    self._renew()
                    renew_at = time.monotonic() + self.lease.total_seconds() / 3
        finally:
            # a failure (the database, say) leaves the claims to expire; the threads finish
            # their sends and stop
            executor.shutdown(wait=False, cancel_futures=True)
        return dict(self.counts)

    # -- the steps ---------------------------------------------------------------------------

    def _claim_more(self) -> None:
        room = self.lane.held - len(self._underway)
        if room < min(CLAIM_SIZE, self.lane.held) // 2:
            return
        if self._exhausted and time.monotonic() < self._claim_again_at:
            return
        if self.counts["claimed"] >= MAX_CLAIMED_PER_DRAIN:
            self._exhausted, self._claim_again_at = True, float("inf")
            return
        want = min(CLAIM_SIZE, room)
        claimed = outbox.claim(
            self.session,
            self.worker_id,
            self.now(),
            want,
            kinds=self.lane.kinds,
            other_kinds=self.lane.other_kinds,
            lease=self.lease,
        )
        self._exhausted = len(claimed) < want
        self._claim_again_at = time.monotonic() + CLAIM_AGAIN_SECONDS
        if not claimed:
            # the empty claim's transaction (on SQLite the write lock) is not kept
            self.session.commit()
            return
        if self.after_claim is not None:
            self.after_claim(claimed)
        self.counts["claimed"] += len(claimed)
        batch = prepare(self.session, self.channels.content, claimed, self._started_at)
        self.session.commit()  # nothing held open while we wait on the network
        finished = batch.finished
        for message in batch.addressed:
            sends = routed(self.channels, message)
            if not sends:
                finished.append(conclude(message.underway))
                continue
            self._underway[message.underway.message_id] = message.underway
            for send in sends:
                self._queues.setdefault(send.origin, deque()).append(send)
        if finished:
            self.counts.update(
                outbox.record(self.session, self.worker_id, finished, self._started_at)
            )

    def _renew(self) -> None:
        """Extend the claims held; drop the queued sends of any another worker took over."""
        held = list(self._underway)
        kept = outbox.extend_claims(self.session, self.worker_id, held, self.now() + self.lease)
        lost = set(held) - kept
        if not lost:
            return
        self.counts["taken_over"] += len(lost)
        self._taken_over |= lost
        queued = Counter[int]()
        for origin, waiting in list(self._queues.items()):
            queued.update(s.message_id for s in waiting if s.message_id in lost)
            self._queues[origin] = deque(s for s in waiting if s.message_id not in lost)
        for message_id in lost:
            message = self._underway[message_id]
            # what is in flight is recorded (the status is not ours)
            message.left -= queued[message_id]
            if message.left == 0:
                del self._underway[message_id]

    def _start_sends(self, executor: ThreadPoolExecutor) -> None:
        for origin in list(self._queues):
            waiting = self._queues[origin]
            at_once = 1 if waiting and waiting[0].in_order else self.lane.per_origin
            while (
                waiting and self._busy[origin] < at_once and self._unrecorded < self.lane.in_flight
            ):
                executor.submit(self._send, waiting.popleft())
                self._running += 1
                self._busy[origin] += 1
                self._unrecorded += 1
            if not waiting:
                del self._queues[origin]

    def _send(self, send: Send) -> None:
        """On a sending thread: make the request, hand its result back."""
        try:
            result = self.channels[send.channel].send(send)
        except Exception as error:  # a sender that fails to answer is a failed send
            result = SendResult(Outcome.RETRY, None, None, f"send failed: {type(error).__name__}")
        self._finished.put((send, result))

    def _collect(self, timeout: float) -> None:
        """Sends finished by `timeout` (the first one waited for, the rest taken as they are)."""
        if not self._running:
            return
        try:
            finished = [
                self._finished.get(timeout=timeout) if timeout > 0 else self._finished.get_nowait()
            ]
        except queue.Empty:
            return
        while True:
            try:
                finished.append(self._finished.get_nowait())
            except queue.Empty:
                break
        if not self._done:
            self._first_done_at = time.monotonic()
        for send, result in finished:
            self._running -= 1
            self._busy[send.origin] -= 1
            self._done.append((send, result))

    def _time_to_record(self) -> bool:
        return (
            not self._running
            or len(self._done) >= self.lane.in_flight // 2
            or time.monotonic() - self._first_done_at >= RECORD_AFTER_SECONDS
        )

    def _record(self) -> None:
        """Deliveries at once; a message's status when its last send is done."""
        gone: list[int] = []
        results: list[outbox.Result] = []
        for send, result in self._done:
            message = self._underway[send.message_id]
            message.outcomes.append((send.subscription_id, result))
            message.left -= 1
            if send.subscription_id is not None and result.outcome is Outcome.GONE:
                gone.append(send.subscription_id)
            if message.left == 0:
                results.append(conclude(message))
                del self._underway[send.message_id]
        # a delivery is kept for a message that may be sent again (a send of it still to
        # come, a retry, a message another worker took over): that send skips the
        # subscription; a message that ends here is never sent again
        ended = {r.message_id for r in results if r.status != "retry"} - self._taken_over
        deliveries = [
            (send.message_id, send.subscription_id, result.status or 0)
            for send, result in self._done
            if send.subscription_id is not None
            and result.outcome is Outcome.DELIVERED
            and send.message_id not in ended
        ]
        now = self._started_at
        self.counts.update(
            outbox.record(self.session, self.worker_id, results, now, deliveries=deliveries)
        )
        if gone:
            outbox.forget_subscriptions(self.session, gone, now)
        self._unrecorded -= len(self._done)
        self._done = []


def routed(channels: Registry, message: Addressed) -> list[Send]:
    """The sends of an addressed message: each recipient its channel finds somewhere to send
    to (a webhook or mail server may not be configured), its words made then."""
    channel = channels[message.underway.channel]
    underway = message.underway
    underway.retries_refusals, underway.nowhere = channel.retries_refusals, channel.nowhere
    sends = []
    for subscription_id, to, body in message.to:
        route = channel.route(to)
        if route is not None:
            destination, origin = route
            sends.append(
                Send(
                    underway.message_id,
                    channel.name,
                    origin,
                    destination,
                    body(),
                    subscription_id,
                    channel.in_order,
                )
            )
    underway.left = len(sends)
    return sends


def drain(
    session: Session,
    sender: WebPushSender | Registry | Iterable[Channel],
    worker_id: str,
    now: dt.datetime,
    lanes: tuple[Lane, ...] = LANES,
    *,
    begun: float | None = None,
) -> dict[str, int]:
    """Send everything due now, lane by lane (alerts first). `begun`: the time.monotonic()
    at which `now` was taken, when not just now (see Delivery.now)."""
    channels = channels_of(sender)
    totals: Counter[str] = Counter()
    for lane in lanes:
        totals.update(Delivery(session, channels, worker_id, lane, now, begun=begun).run())
    return {key: value for key, value in totals.items() if value}


@dataclass(frozen=True)
class Outlet:
    """What a dispatch cycle's sending step sends by (server/services/steps/sending.py): the
    drain, by these channels, in this worker's name. `begun` as in `drain`."""

    sender: WebPushSender | Registry | Iterable[Channel]
    worker_id: str
    begun: float | None = None

    def __call__(self, session: Session, now: dt.datetime) -> dict[str, int]:
        return drain(session, self.sender, self.worker_id, now, begun=self.begun)
