"""The intake service: priority from the answers, territory, duplicates, nothing half-saved."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from guichet.models import Notification, Patient, PatientRequest
from guichet.requests import intake

BASE = "https://guichet.example"


def mt(**overrides):
    values = dict(
        birth_name="Martin", first_names="Jeanne", birth_date=date(1980, 5, 2), sex="F",
        phone="06 12 34 56 78", email="jeanne@exemple.fr", address="1 rue Haute",
        postal_code="26190", commune_insee="26223", is_consented=True,
    )
    values.update(overrides)
    return intake.MtRequestData(**values)


def snp(**overrides):
    values = dict(
        birth_name="Bernard", first_names="Luc", birth_date=date(1990, 1, 1), sex="M",
        phone="0612345678", commune_insee="26223", postal_code="26190", is_consented=True,
        snp_category="pain", snp_reason="Mal au dos", snp_since="today",
        availability=[("today", "evening")],
    )
    values.update(overrides)
    return intake.SnpRequestData(**values)


def rows(db):
    return (db.scalar(select(func.count()).select_from(Patient)),
            db.scalar(select(func.count()).select_from(PatientRequest)))


def test_priority_score_adds_the_weight_of_each_answer(db, factory, now):
    factory.territory()
    req = intake.submit_mt_request(
        db, mt(birth_date=date(1950, 1, 1), is_ald=True, is_css=True, is_disabled=True,
               hospital_discharge_date=now.date() - timedelta(days=10),
               previous_mt_left_date=date(2026, 6, 30)),
        channel="web", now=now, base_url=BASE,
    )
    assert req.priority_breakdown == {
        "ald": 300, "age_70": 200, "css": 150, "hospital_discharge": 150, "disability": 100,
        "previous_mt_left": 50, "waiting_days": 0,
    }
    assert req.priority_score == 1 + 300 + 200 + 150 + 150 + 100 + 50


def test_priority_uses_the_territory_weights(db, factory, now):
    territory = factory.territory()
    territory.settings = {"priority_weights": {"ald": 1000, "pregnancy": 0}}
    db.flush()
    req = intake.submit_mt_request(db, mt(is_ald=True, is_pregnant=True), channel="web", now=now, base_url=BASE)
    assert req.priority_breakdown["ald"] == 1000 and req.priority_breakdown["pregnancy"] == 0
    assert req.priority_score == 1001


def test_an_old_hospital_discharge_no_longer_counts(db, factory, now):
    factory.territory()
    req = intake.submit_mt_request(
        db, mt(hospital_discharge_date=now.date() - timedelta(days=200)), channel="web", now=now, base_url=BASE)
    assert "hospital_discharge" not in req.priority_breakdown


def test_online_and_phone_mt_requests_join_the_waiting_list_at_once(db, factory, now):
    factory.territory()
    web = intake.submit_mt_request(db, mt(), channel="web", now=now, base_url=BASE)
    phone = intake.submit_mt_request(db, mt(first_names="Paul"), channel="phone", now=now, base_url=BASE,
                                     user_id=None)
    assert (web.status, phone.status) == ("waiting", "waiting")
    assert web.events[0].actor == "patient" and phone.events[0].actor == "staff"


def test_a_territory_may_ask_a_coordinator_to_review_online_mt_requests_first(db, factory, now):
    territory = factory.territory()
    territory.settings = {**(territory.settings or {}), "mt_web_review": True}
    db.flush()
    web = intake.submit_mt_request(db, mt(), channel="web", now=now, base_url=BASE)
    phone = intake.submit_mt_request(db, mt(first_names="Paul"), channel="phone", now=now, base_url=BASE,
                                     user_id=None)
    assert (web.status, phone.status) == ("submitted", "waiting")


def test_acknowledgement_carries_the_tracking_link_built_from_base_url(db, factory, now):
    factory.territory()
    req = intake.submit_mt_request(db, mt(), channel="web", now=now, base_url=BASE + "/")
    mail = db.scalar(select(Notification).where(Notification.request_id == req.id))
    assert mail.context["tracking_url"] == f"{BASE}/suivi/{req.tracking_token}"
    assert "Jeanne" not in str(mail.context)  # no identity in the outbox context


def test_letter_preference_queues_a_letter_instead_of_an_email(db, factory, now):
    factory.territory()
    req = intake.submit_mt_request(db, mt(email=None, phone=None, contact_preference="letter"),
                                   channel="phone", now=now, base_url=BASE)
    mail = db.scalar(select(Notification).where(Notification.request_id == req.id))
    assert mail.channel == "letter" and mail.recipient_email is None


def test_invalid_answers_raise_with_every_field_and_store_nothing(db, factory, now):
    factory.territory()
    before = rows(db)
    with pytest.raises(intake.InvalidRequest) as exc:
        intake.submit_mt_request(
            db, mt(birth_name=" ", phone="12", email=None, is_consented=False, max_km=15,
                   children_birth_dates=[date(2001, 1, 1)]),
            channel="web", now=now, base_url=BASE)
    assert set(exc.value.errors) == {"birth_name", "phone", "is_consented", "max_km", "children_birth_dates"}
    assert rows(db) == before


def test_out_of_territory_raises_and_stores_nothing(db, factory, now):
    factory.territory()
    before = rows(db)
    with pytest.raises(intake.OutOfTerritory):
        intake.submit_mt_request(db, mt(commune_insee="75101", postal_code="75001"),
                                 channel="web", now=now, base_url=BASE)
    assert rows(db) == before


def test_commune_choices_refuses_a_postal_code_no_territory_serves(db, factory):
    factory.territory()
    with pytest.raises(intake.OutOfTerritory):
        intake.commune_choices(db, "75001")
    labels = [c.label for c in intake.commune_choices(db, "26190")]
    assert "Oriol-en-Royans" in labels and len(labels) > 4  # served and unserved alike


def test_staff_of_another_territory_get_wrong_territory(db, factory, now):
    factory.territory()
    other = factory.territory(insee=("38185",))
    with pytest.raises(intake.WrongTerritory):
        intake.submit_mt_request(db, mt(), channel="phone", now=now, base_url=BASE,
                                 expected_territory_id=other.id)


@pytest.mark.parametrize(
    "second",
    [
        {"birth_name": "MARTIN"},
        {"first_names": "jéanne"},
        {"birth_name": "Durand", "usage_name": "Martin"},
    ],
)
def test_duplicates_are_found_whatever_the_case_accents_or_name_used(db, factory, now, second):
    factory.territory()
    first = intake.submit_mt_request(db, mt(), channel="web", now=now, base_url=BASE)
    before = rows(db)
    with pytest.raises(intake.DuplicateRequest) as exc:
        intake.submit_mt_request(db, mt(**second), channel="web", now=now, base_url=BASE)
    assert exc.value.existing.id == first.id
    assert rows(db) == before


def test_different_birth_date_or_kind_is_not_a_duplicate(db, factory, now):
    factory.territory()
    intake.submit_mt_request(db, mt(), channel="web", now=now, base_url=BASE)
    intake.submit_mt_request(db, mt(birth_date=date(1981, 5, 2)), channel="web", now=now, base_url=BASE)
    intake.submit_snp_request(db, snp(birth_name="Martin", first_names="Jeanne", birth_date=date(1980, 5, 2)),
                              channel="web", now=now, base_url=BASE)


def test_duplicate_reminder_is_sent_once_a_day(db, factory, now):
    factory.territory()
    intake.submit_mt_request(db, mt(), channel="web", now=now, base_url=BASE)
    for moment in (now, now + timedelta(hours=2), now + timedelta(days=1)):
        with pytest.raises(intake.DuplicateRequest):
            intake.submit_mt_request(db, mt(), channel="web", now=moment, base_url=BASE)
    count = db.scalar(select(func.count()).where(Notification.template == "request_exists"))
    assert count == 2


def test_snp_availability_is_stored_as_paris_days(db, factory, now):
    factory.territory()
    late = now.replace(hour=23, minute=30)  # 00:30 the next day in Paris
    req = intake.submit_snp_request(db, snp(availability=[("today", "morning"), ("tomorrow", "evening")]),
                                    channel="web", now=late, base_url=BASE)
    assert req.snp_availability == [{"day": "2026-11-25", "period": "morning"},
                                    {"day": "2026-11-26", "period": "evening"}]
