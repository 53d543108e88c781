"""Login throttling: growing delays per address, per typed e-mail and per (e-mail, address) pair.

A hard lock after five failures let anyone lock any account for everyone, and told which
addresses exist. Here a person at one address gets a few free tries on one e-mail, then waits
1 s, 2 s, 4 s … up to ``max_delay``; the same address trying many e-mails, or many addresses
trying one e-mail, are slowed down too, after more failures. The typed e-mail is counted
whether or not an account has it, so the delays reveal nothing. Counts fade after a day
without failure.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from guichet.models import LoginThrottle
from guichet.timeutil import as_utc

#: free failures before delays start, per kind of key
FREE_FAILURES = {"pair": 3, "address": 20, "account": 50}
FORGET_AFTER = timedelta(days=1)


def _keys(email: str, ip: str | None) -> dict[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    address = ip or "unknown"
    return {"pair": f"pair:{digest}|{address}", "address": f"address:{address}", "account": f"account:{digest}"}


def wait_seconds(db: Session, email: str, ip: str | None, *, now: datetime) -> int:
    """Seconds before this e-mail may be tried again from this address (0: now)."""
    rows = db.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(_keys(email, ip).values())))
    waits = [(as_utc(r.blocked_until_dt) - now).total_seconds() for r in rows if r.blocked_until_dt is not None]
    return max([0, *(int(w) + 1 for w in waits if w > 0)])


def record_failure(db: Session, email: str, ip: str | None, *, now: datetime, max_delay: timedelta) -> int:
    """Count one failure on every key and set their delays; return the e-mail's failure count."""
    account_failures = 0
    for kind, key in _keys(email, ip).items():
        row = db.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_dt=now)
            db.add(row)
        elif now - as_utc(row.last_failure_dt) > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_dt = now
        over = row.failures - FREE_FAILURES[kind]
        if over > 0:
            row.blocked_until_dt = now + min(timedelta(seconds=2 ** min(over - 1, 20)), max_delay)
        if kind == "account":
            account_failures = row.failures
    db.flush()
    return account_failures


def record_success(db: Session, email: str, ip: str | None) -> None:
    """The right password: this person's pair and the account's count start again."""
    keys = _keys(email, ip)
    db.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([keys["pair"], keys["account"]])))
