"""/metrics: Prometheus exposition behind a token, request latencies and figures from the database."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import create_test_app
from tests.web.test_health import every_job_ran


def test_without_a_token_configured_there_is_no_metrics_endpoint(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token_and_show_latencies_queues_outbox_and_jobs(sessions, database_url, db, factory,
                                                                           clock):
    app = create_test_app(sessions, database_url, clock=clock, METRICS_TOKEN="s3cret-token")
    factory.request(status="waiting")
    every_job_ran(db, clock())
    client = app.test_client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    client.get("/")
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    latency = families["guichet_http_request_duration_seconds"]
    assert any(s.labels.get("endpoint") == "public.home" for s in latency.samples)
    queue = {(s.labels["kind"], s.labels["status"]): s.value for s in families["guichet_open_requests"].samples}
    assert queue[("mt", "waiting")] >= 1
    assert families["guichet_outbox_due_messages"].samples[0].value >= 0
    durations = {s.labels["job"]: s.value for s in families["guichet_job_last_duration_seconds"].samples}
    assert durations["delivery"] == 2.0
    assert {s.labels["job"]: s.value for s in families["guichet_job_late"].samples}["delivery"] == 0
