"""API keys of a partner's software: made and revoked by the admin, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet import vocabulary
from guichet.accounts import audit
from guichet.models import ApiKey, ApiScope, Partner
from guichet.requests.validation import clean_text

#: every key starts so, which lets secret scanners recognise a leaked one
KEY_PREFIX = "gck_"


class ApiKeyError(ValueError):
    """A French message explaining why the key cannot be made or used."""


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` is shown once to the admin and never stored."""

    key: ApiKey
    secret: str


def _hash(secret: str) -> str:
    # A 256-bit random secret needs no slow hash: SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(secret.encode()).hexdigest()


def list_keys(db: Session, partner: Partner) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).where(ApiKey.partner_id == partner.id).order_by(ApiKey.id.desc())))


def create_key(db: Session, partner: Partner, *, label: str, scope: str, now: datetime,
               by_id: int | None) -> NewKey:
    """Make a key for the partner's software (raises ApiKeyError)."""
    clean = clean_text(label)
    if not clean:
        raise ApiKeyError("Indiquez à quel logiciel cette clé est destinée.")
    if scope not in vocabulary.API_SCOPES:
        raise ApiKeyError("Choisissez les droits de la clé : lecture, ou lecture et envoi de demandes.")
    if not partner.is_active:
        raise ApiKeyError("Cette organisation est désactivée : réactivez-la d'abord.")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(partner_id=partner.id, label=clean[:100], prefix=secret[:12], key_hash=_hash(secret),
                 scope=scope, created_dt=now, created_by_id=by_id)
    db.add(key)
    db.flush()
    audit.record(db, "api_key.create", now=now, user_id=by_id, object_type="api_key", object_id=key.id,
                 territory_id=partner.territory_id, partner_id=partner.id, scope=scope)
    return NewKey(key=key, secret=secret)


def revoke_key(db: Session, key: ApiKey, *, now: datetime, by_id: int | None) -> None:
    """Stop a key at once; revoking twice changes nothing."""
    if key.revoked_dt is None:
        key.revoked_dt = now
        audit.record(db, "api_key.revoke", now=now, user_id=by_id, object_type="api_key", object_id=key.id,
                     territory_id=key.partner.territory_id, partner_id=key.partner_id)
    db.flush()


def authenticate(db: Session, secret: str, *, now: datetime) -> ApiKey | None:
    """The active key with this secret, its partner active too; None otherwise."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    key = db.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(secret)))
    if key is None or key.revoked_dt is not None or not key.partner.is_active:
        return None
    key.last_used_dt = now
    return key


def allows(key: ApiKey, scope: str) -> bool:
    """A write key may also read."""
    return key.scope == ApiScope.WRITE or scope == ApiScope.READ
