"""Rate limits: keyed on the real client address behind trusted proxies, shared by all workers."""

import pytest

from tests.conftest import TEST_REDIS_URL, create_test_app


def _tracking_hits(client, n, **headers):
    return [client.get("/suivi/" + "B" * 32, headers=headers).status_code for _ in range(n)]


def _app(sessions, database_url, **overrides):
    app = create_test_app(sessions, database_url, RATE_LIMIT_TRACKING_PER_HOUR=2, **overrides)
    app.extensions["guichet"]["ratelimiter"].reset()
    return app


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(sessions, database_url):
    app = _app(sessions, database_url, PROXY_HOPS=1)
    client = app.test_client()
    assert _tracking_hits(client, 3, **{"X-Forwarded-For": "203.0.113.7"}) == [404, 404, 429]
    # another person behind the same proxy is not blocked by the first one
    assert _tracking_hits(client, 1, **{"X-Forwarded-For": "198.51.100.9"}) == [404]


def test_a_client_cannot_escape_the_limit_by_forging_forwarded_for(sessions, database_url):
    app = _app(sessions, database_url, PROXY_HOPS=1)
    client = app.test_client()
    # the proxy appends the real address: only the last hop is trusted
    hits = [client.get("/suivi/" + "B" * 32, headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.7"}).status_code
            for i in range(3)]
    assert hits == [404, 404, 429]


def test_without_a_proxy_forwarded_for_is_ignored(sessions, database_url):
    app = _app(sessions, database_url)
    client = app.test_client()
    hits = [client.get("/suivi/" + "B" * 32, headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
            for i in range(3)]
    assert hits == [404, 404, 429]


def test_audit_rows_record_the_real_client_address(sessions, database_url, db, factory):
    from sqlalchemy import select

    from guichet.models import AuditEvent

    app = _app(sessions, database_url, PROXY_HOPS=1)
    user = factory.user("staff")
    app.test_client().post("/connexion", data={"email": user.email, "password": "wrong"},
                           headers={"X-Forwarded-For": "203.0.113.44"})
    ips = set(db.scalars(select(AuditEvent.ip).where(AuditEvent.user_id == user.id)))
    assert ips == {"203.0.113.44"}


@pytest.mark.skipif(not TEST_REDIS_URL, reason="GUICHET_TEST_REDIS_URL is not set (CI sets it)")
def test_two_workers_share_the_counts_in_redis(sessions, database_url):
    worker_a = _app(sessions, database_url)
    worker_b = create_test_app(sessions, database_url, RATE_LIMIT_TRACKING_PER_HOUR=2)
    assert _tracking_hits(worker_a.test_client(), 2) == [404, 404]
    assert _tracking_hits(worker_b.test_client(), 1) == [429]


def test_the_limit_answer_is_in_french(sessions, database_url):
    app = _app(sessions, database_url)
    client = app.test_client()
    _tracking_hits(client, 2)
    response = client.get("/suivi/" + "B" * 32)
    assert response.status_code == 429 and "Trop de tentatives" in response.get_data(as_text=True)
