"""Partners' services: referrals with consent and target delay, what is at risk, API keys."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from guichet.models import ApiKey, AuditEvent, RequestStatus
from guichet.partners import api_keys, referrals
from guichet.requests import intake
from guichet.workflow import change_request_status


def person(**overrides):
    values = dict(birth_name="Martin", first_names="Paul", birth_date=date(1948, 5, 2), sex="M",
                  phone="+33612345678", postal_code="26190", commune_insee="26223", filled_by="professional",
                  proxy_name="Infirmière de liaison", proxy_profession="CH de Valence", proxy_phone="0475000000",
                  is_consented=True)
    values.update(overrides)
    return intake.MtRequestData(**values)


@pytest.fixture
def partner(factory):
    return factory.partner(territory=factory.territory(insee=("26223", "26059")))


def test_a_fragile_discharge_referral_waits_with_priority_and_a_target(db, partner, now):
    urgency = referrals.Urgency(discharge_date=now.date() - timedelta(days=1), fragility_reason="stroke",
                                target_delay_days=7)
    referral = referrals.submit_referral(db, partner, person(), urgency, now=now, base_url="http://x")
    request = referral.request
    assert request.status == RequestStatus.WAITING and request.channel == "partner"
    assert request.priority_breakdown["hospital_discharge"] == 150
    assert referral.target_dt == now + timedelta(days=7)
    assert request.patient.filled_by == "professional" and request.is_consented


def test_without_consent_or_with_a_delay_but_no_fragility_nothing_is_stored(db, partner, now):
    with pytest.raises(intake.InvalidRequest) as caught:
        referrals.submit_referral(db, partner, person(is_consented=False),
                                  referrals.Urgency(target_delay_days=5), now=now, base_url="http://x")
    assert set(caught.value.errors) >= {"is_consented", "fragility_reason"}
    assert db.scalars(select(referrals.Referral)).all() == []


def test_a_commune_of_another_territory_is_refused(db, factory, partner, now):
    factory.territory(insee=("38185",))
    with pytest.raises(intake.WrongTerritory):
        referrals.submit_referral(db, partner, person(postal_code="38000", commune_insee="38185"),
                                  referrals.Urgency(), now=now, base_url="http://x")


def test_at_risk_lists_fragile_referrals_near_their_target_until_a_gp_is_found(db, partner, now):
    urgency = referrals.Urgency(fragility_reason="cardiac", target_delay_days=3)
    referral = referrals.submit_referral(db, partner, person(), urgency, now=now, base_url="http://x")
    referrals.submit_referral(db, partner, person(birth_name="Autre"), referrals.Urgency(), now=now,
                              base_url="http://x")
    tid = partner.territory_id
    assert referrals.at_risk(db, tid, now=now) == []  # target in 3 days, margin 2
    later = now + timedelta(days=1, hours=1)
    assert referrals.at_risk(db, tid, now=later) == [referral]
    assert referrals.is_overdue(referral, now + timedelta(days=4))
    change_request_status(db, referral.request, RequestStatus.PROPOSED, now=later, actor="system")
    change_request_status(db, referral.request, RequestStatus.MATCHED, now=later, actor="system")
    assert referrals.at_risk(db, tid, now=later) == []
    figures = referrals.fragile_figures(db, tid, now - timedelta(days=1), now + timedelta(days=1))
    assert (figures.referred, figures.found_in_time, figures.found_late) == (1, 1, 0)
    assert referrals.partner_status(referral) == "Médecin trouvé"


def test_a_partner_reads_only_its_own_referrals(db, factory, partner, now):
    other = factory.partner(territory=partner.territory)
    mine = referrals.submit_referral(db, partner, person(), referrals.Urgency(), now=now, base_url="http://x")
    theirs = referrals.submit_referral(db, other, person(birth_name="Autre"), referrals.Urgency(), now=now,
                                       base_url="http://x")
    assert referrals.for_partner(db, partner.id) == [mine]
    assert referrals.get_for_partner(db, partner.id, theirs.id) is None


def test_an_api_key_is_shown_once_stored_hashed_and_stops_when_revoked(db, partner, now):
    new = api_keys.create_key(db, partner, label="Logiciel de sortie", scope="read", now=now, by_id=None)
    stored = db.get(ApiKey, new.key.id)
    assert new.secret.startswith("gck_") and new.secret not in (stored.key_hash, stored.prefix)
    assert len(new.secret) > 40 and stored.prefix == new.secret[:12]
    assert api_keys.authenticate(db, new.secret, now=now) == stored
    assert api_keys.authenticate(db, new.secret + "x", now=now) is None
    assert not api_keys.allows(stored, "write") and api_keys.allows(stored, "read")
    api_keys.revoke_key(db, stored, now=now, by_id=None)
    assert api_keys.authenticate(db, new.secret, now=now) is None
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "api_key")).all()
    assert actions == ["api_key.create", "api_key.revoke"]


def test_a_key_of_a_deactivated_partner_stops_working(db, partner, now):
    new = api_keys.create_key(db, partner, label="Logiciel", scope="write", now=now, by_id=None)
    partner.is_active = False
    assert api_keys.authenticate(db, new.secret, now=now) is None
    with pytest.raises(api_keys.ApiKeyError):
        api_keys.create_key(db, partner, label="Autre", scope="read", now=now, by_id=None)
