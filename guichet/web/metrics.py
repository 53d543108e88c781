"""Prometheus metrics at /metrics, behind a bearer token (METRICS_TOKEN; empty: no endpoint).

Request latencies are measured in each process (prometheus_client's multiprocess mode
adds up gunicorn's workers when PROMETHEUS_MULTIPROC_DIR is set: see deploy/). Queue
sizes, the outbox backlog and the jobs' last runs are read from the database at scrape
time (guichet.jobs.health.snapshot), so the scheduler's process needs no exporter.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from guichet.jobs import health
from guichet.web.session import get_session, request_now

REQUEST_SECONDS = Histogram(
    "guichet_http_request_duration_seconds", "Time to answer an HTTP request.",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class DatabaseCollector(Collector):
    """Figures read from the database when Prometheus scrapes."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        state = health.snapshot(get_session(), now=request_now(), settings=self.settings)
        queue = GaugeMetricFamily("guichet_open_requests", "Open requests by kind and status.",
                                  labels=["kind", "status"])
        for (kind, status), count in sorted(state.queue.items()):
            queue.add_metric([kind, status], count)
        yield queue
        yield GaugeMetricFamily("guichet_outbox_due_messages", "E-mails due to leave now.",
                                value=state.outbox_due)
        yield GaugeMetricFamily("guichet_outbox_oldest_due_seconds",
                                "How long the oldest due e-mail has waited.", value=state.outbox_oldest_due_seconds)
        duration = GaugeMetricFamily("guichet_job_last_duration_seconds", "Duration of each job's latest run.",
                                     labels=["job"])
        started = GaugeMetricFamily("guichet_job_last_start_timestamp_seconds",
                                    "Start of each job's latest run (Unix time).", labels=["job"])
        late = GaugeMetricFamily("guichet_job_late", "1 when the job has not started for twice its period.",
                                 labels=["job"])
        for job in state.jobs:
            if job.last_duration_seconds is not None:
                duration.add_metric([job.job_id], job.last_duration_seconds)
            if job.last_started is not None:
                started.add_metric([job.job_id], job.last_started.timestamp())
            late.add_metric([job.job_id], 1 if job.is_late else 0)
        yield from (duration, started, late)


def init_metrics(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None and request.endpoint != "metrics":
            REQUEST_SECONDS.labels(request.method, request.endpoint or "unknown",
                                   str(response.status_code)).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", endpoint="metrics")
    def metrics() -> Any:
        token = str(current_app.config.get("METRICS_TOKEN") or "")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token:
            abort(404)
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(403)
        process: CollectorRegistry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            process = CollectorRegistry()
            MultiProcessCollector(process)  # every gunicorn worker's request latencies
        database = CollectorRegistry()
        database.register(DatabaseCollector(current_app.config))
        # two expositions one after the other are one valid exposition (distinct metric names)
        return Response(generate_latest(process) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST)
