"""``/metrics`` for Prometheus, behind its own bearer token (``WAITLIST_METRICS_TOKEN``).

Request latency is measured in this process (each web replica is scraped on its own); the queue,
contact states and review backlog are counted from the database at scrape time
(`app.reports.operations`), so every replica reports the same service-wide numbers.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.db import utcnow
from app.reports.operations import OperationsSnapshot, operations_snapshot
from app.web.deps import SessionDep, SettingsDep

router = APIRouter(include_in_schema=False)

# Webhooks must answer Twilio within its 15 s timeout and should take milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class _SnapshotCollector(Collector):
    """Service-wide counts, read once per scrape in the request's own session."""

    def __init__(self, snapshot: OperationsSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot
        campaigns = GaugeMetricFamily(
            "waitlist_campaigns", "Campaigns by status", labels=["status"]
        )
        for status, count in snapshot.campaigns.items():
            campaigns.add_metric([status.value], count)
        yield campaigns
        attempts = GaugeMetricFamily(
            "waitlist_contact_attempts",
            "Contact attempts of unfinished campaigns by state",
            labels=["status"],
        )
        for attempt_status, count in snapshot.attempts.items():
            attempts.add_metric([attempt_status.value], count)
        yield attempts
        yield GaugeMetricFamily(
            "waitlist_queue_due",
            "Planned attempts of running campaigns that are due now (the work queue)",
            value=snapshot.due_now,
        )
        yield GaugeMetricFamily(
            "waitlist_queue_oldest_due_seconds",
            "How long the oldest due attempt has waited (0 when none)",
            value=snapshot.oldest_due_seconds,
        )
        review = GaugeMetricFamily(
            "waitlist_review_open",
            "Open review items by reason and whether they are past their due time",
            labels=["reason", "overdue"],
        )
        for (reason, overdue), count in sorted(snapshot.review_open.items()):
            review.add_metric([reason, "true" if overdue else "false"], count)
        yield review
        worklist = GaugeMetricFamily(
            "waitlist_worklist_overdue",
            "Open worklist tasks past their due date, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(snapshot.worklist_overdue.items()):
            worklist.add_metric([reason], count)
        yield worklist


class Metrics:
    """One per app: the request-latency histogram of this process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._latency = Histogram(
            "waitlist_http_request_duration_seconds",
            "Time to answer a request, by route template",
            labelnames=["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, route: str, method: str, seconds: float) -> None:
        """Record one request (``route`` is the template, never the raw path)."""
        self._latency.labels(route=route, method=method).observe(seconds)

    def observer(self) -> Callable[[str, str, float], None]:
        """What the request middleware calls after each request."""
        return self.observe


@router.get("/metrics")
def metrics(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """Prometheus text format; 404 unless a metrics token is configured, 401 without it."""
    expected = settings.metrics_token
    if expected is None:
        raise HTTPException(status_code=404)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected.get_secret_value()}".encode()):
        raise HTTPException(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    recorder: Metrics = request.app.state.metrics
    counts = CollectorRegistry(auto_describe=True)
    counts.register(_SnapshotCollector(operations_snapshot(session, now=utcnow())))
    body = generate_latest(recorder.registry) + generate_latest(counts)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
