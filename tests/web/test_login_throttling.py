"""Login: growing delays instead of a lock anyone can trigger, the same work for every failure,
a notice to the owner, and no common password anywhere."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from guichet.accounts import users
from guichet.accounts.common_passwords import is_common_password
from guichet.models import Notification
from tests.factories import PASSWORD


def _fail(db, email, now, ip="203.0.113.1", times=1):
    for _ in range(times):
        with pytest.raises(users.LoginFailed):
            users.authenticate(db, email, "wrong-password", now=now, ip=ip)


def test_failures_slow_down_the_address_but_never_lock_the_owner_out(db, factory, now):
    user = factory.user("staff")
    _fail(db, user.email, now, times=4)
    with pytest.raises(users.LoginThrottled) as throttled:
        users.authenticate(db, user.email, PASSWORD, now=now, ip="203.0.113.1")
    assert 0 < throttled.value.seconds <= 16 and "Réessayez dans" in str(throttled.value)
    # the owner, at another address, signs in at once: the attacker locked nobody out
    assert users.authenticate(db, user.email, PASSWORD, now=now, ip="198.51.100.2") is user
    # and the attacker's delay ends by itself
    assert users.authenticate(db, user.email, PASSWORD, now=now + timedelta(seconds=20), ip="203.0.113.1") is user


def test_delays_grow_and_are_capped(db, factory, now):
    user = factory.user("staff")
    waits = []
    at = now
    for _ in range(16):
        try:
            users.authenticate(db, user.email, "wrong-password", now=at, ip="203.0.113.1")
        except users.LoginThrottled as exc:
            waits.append(exc.seconds)
            at += timedelta(seconds=exc.seconds)
        except users.LoginFailed:
            pass
    assert waits == sorted(waits) and waits[0] < waits[-1] <= 15 * 60 + 1


def test_unknown_addresses_are_throttled_exactly_like_real_ones(db, factory, now):
    user = factory.user("staff")
    _fail(db, user.email, now, times=4)
    _fail(db, "personne@exemple.fr", now, times=4)
    for email in (user.email, "personne@exemple.fr"):
        with pytest.raises(users.LoginThrottled) as exc:
            users.authenticate(db, email, "x", now=now, ip="203.0.113.1")
        assert exc.value.seconds == 2


def _timed(db, email, password, now, ip):
    started = time.perf_counter()
    with pytest.raises(users.AccountError):
        users.authenticate(db, email, password, now=now, ip=ip)
    return time.perf_counter() - started


def test_unknown_inactive_and_throttled_accounts_cost_one_argon2_verification(db, factory, now, monkeypatch):
    calls = []
    real = users._hasher

    class CountingHasher:
        def verify(self, stored, password):
            calls.append(1)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(users, "_hasher", CountingHasher())
    inactive = factory.user("staff")
    inactive.is_active = False
    active = factory.user("staff")
    _fail(db, active.email, now, ip="192.0.2.9", times=4)  # throttled from that address
    calls.clear()
    for email, ip in (("personne@exemple.fr", "192.0.2.1"), (inactive.email, "192.0.2.1"),
                      (active.email, "192.0.2.9"), (active.email, "192.0.2.2")):
        with pytest.raises(users.AccountError):
            users.authenticate(db, email, "wrong-password", now=now, ip=ip)
    assert calls == [1, 1, 1, 1]


def test_the_owner_is_told_after_repeated_failures(db, factory, now):
    user = factory.user("staff")
    _fail(db, user.email, now, times=2, ip="203.0.113.1")
    _fail(db, user.email, now, times=3, ip="203.0.113.2")
    notice = db.scalar(select(Notification).where(Notification.recipient_user_id == user.id))
    assert notice.template == "login_failures" and notice.context["failures"] == 5


def test_the_login_page_says_when_to_try_again(client, factory):
    user = factory.user("staff")
    for _ in range(4):
        client.post("/connexion", data={"email": user.email, "password": "wrong"})
    page = client.post("/connexion", data={"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    assert "Trop de tentatives de connexion. Réessayez dans" in page


@pytest.mark.parametrize("password", ["Password123!", "Azerty123456!", "Motdepasse1!", "P@ssw0rd2026!",
                                      "Soleil2026!!", "Jetaime12345?", "Azertyuiop123!", "MarseilleOM13!!"])
def test_common_passwords_are_refused(password):
    assert is_common_password(password)
    with pytest.raises(users.WeakPassword) as exc:
        users.check_password_policy(password)
    assert "plus répandus" in str(exc.value)


@pytest.mark.parametrize("password", [PASSWORD, "Tulipe-Orage-Velo-38", "Kx7!mPq2#rLw"])
def test_uncommon_passwords_are_accepted(password):
    assert not is_common_password(password)
    users.check_password_policy(password)
