"""`/metrics` in Prometheus's text format (prometheus-client), for a clinic's monitoring.

Reached with `Authorization: Bearer <COMPANION_METRICS_TOKEN>` or from an address in
`COMPANION_METRICS_ALLOW` (addresses or networks, e.g. `10.0.0.0/8`); with neither configured
the path does not exist. The figures are read from the database on each scrape
(`server.services.operations`), so any web worker answers for the whole deployment."""

from __future__ import annotations

import hmac
import ipaddress
import math
from collections.abc import Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from server.services.operations import Operations

CONTENT_TYPE = CONTENT_TYPE_LATEST
# acknowledgement time buckets, seconds: 1, 5, 15, 30 minutes, 1, 4, 12, 24 hours
ACK_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 43200.0, 86400.0)


def enabled(token: str | None, allow: list[str]) -> bool:
    return bool(token) or bool(allow)


def may_scrape(
    token: str | None, allow: list[str], authorization: str | None, address: str | None
) -> bool:
    """The right bearer token, or an allowed address (the client's, behind trusted proxies)."""
    if token and authorization:
        scheme, _, sent = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip(), token):
            return True
    if not address or not allow:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(entry, strict=False) for entry in allow)


def _age(value: float | None) -> float:
    """An age for the exposition: +Inf when there was never anything (so an alert fires)."""
    return math.inf if value is None else value


def _counts(
    name: str, help_text: str, label: str, known: tuple[str, ...], counts: Mapping[str, int]
) -> GaugeMetricFamily:
    """A gauge by `label`: every `known` value (0 when none counted) and any other counted."""
    family = GaugeMetricFamily(name, help_text, labels=[label])
    for value in sorted({*known, *counts}):
        family.add_metric([value], counts.get(value, 0))
    return family


class OperationsCollector(Collector):
    """One snapshot as metric families."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def collect(self) -> Iterator[Metric]:
        ops = self.operations
        yield _counts(
            "companion_outbox_due_messages",
            "Messages due and not sent yet (waiting for a worker or for another attempt)",
            "channel",
            ("push", "webhook", "email"),
            ops.due_messages,
        )
        yield GaugeMetricFamily(
            "companion_outbox_oldest_due_age_seconds",
            "How long the oldest message due and not sent has waited (0 when none)",
            value=ops.oldest_due_age or 0.0,
        )
        outcomes = GaugeMetricFamily(
            "companion_outbox_outcomes_last_hour",
            "Messages finished in the last hour, by channel and outcome",
            labels=["channel", "outcome"],
        )
        for (channel, outcome), count in sorted(ops.outcomes.items()):
            outcomes.add_metric([channel, outcome], count)
        yield outcomes
        times = sorted(ops.acknowledgement_seconds)
        buckets = [(str(bound), float(sum(t <= bound for t in times))) for bound in ACK_BUCKETS]
        buckets.append(("+Inf", float(len(times))))
        yield HistogramMetricFamily(
            "companion_escalation_acknowledgement_seconds",
            "Time from an escalation opening to its acknowledgement (acknowledged in 7 days)",
            buckets=buckets,
            sum_value=sum(times),
        )
        yield _counts(
            "companion_escalations_unacknowledged",
            "Open escalations nobody has acknowledged yet, by severity",
            "severity",
            ("emergency", "urgent", "routine"),
            ops.unacknowledged,
        )
        yield GaugeMetricFamily(
            "companion_escalation_oldest_unacknowledged_age_seconds",
            "How long the oldest unacknowledged escalation has been open (0 when none)",
            value=ops.oldest_unacknowledged_age or 0.0,
        )
        yield GaugeMetricFamily(
            "companion_worker_heartbeat_age_seconds",
            "Seconds since a worker last finished a dispatch cycle (+Inf before any)",
            value=_age(ops.heartbeat_age),
        )


def render(operations: Operations) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OperationsCollector(operations))
    return generate_latest(registry)
