"""Publication: anonymous public snapshot (no count under 5), median wait, daily digests."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from guichet.assignment import proposals
from guichet.jobs.runner import run_job
from guichet.messaging import publication
from guichet.models import Notification, PublishedWaitingList

SETTINGS = {"BASE_URL": "https://guichet.test"}


def waiting(factory, territory, commune, n, *, priority=False, waited_days=10, status="waiting"):
    for _ in range(n):
        patient = factory.patient(territory=territory, commune=commune, is_ald=priority,
                                  birth_date=date(1990, 1, 1))
        factory.request(patient, waited_days=waited_days, status=status)


def rows_by_insee(data):
    return {row["insee"]: row for row in data["rows"]}


def test_counts_under_five_are_never_published_and_totals_cannot_be_subtracted(db, factory, now):
    territory = factory.territory()
    waiting(factory, territory, "26223", 6)
    waiting(factory, territory, "26223", 2, priority=True)
    waiting(factory, territory, "26059", 7, priority=True, waited_days=30)
    waiting(factory, territory, "26059", 5)
    waiting(factory, territory, "26117", 1, status="to_contact")  # not reached yet: not on the list
    data = publication.build_snapshot(db, territory, now=now)
    rows = rows_by_insee(data)
    assert rows["26223"]["non_prioritaire"] == "6"
    assert rows["26223"]["prioritaire"] == "moins de 5"
    assert rows["26223"]["total"] == "au moins 6"  # 8 would reveal the hidden 2
    assert (rows["26059"]["prioritaire"], rows["26059"]["non_prioritaire"], rows["26059"]["total"]) == ("7", "5", "12")
    assert rows["26117"]["total"] == "moins de 5"  # empty communes look like small ones
    assert data["totals"]["prioritaire"] == "au moins 7"
    assert data["totals"]["non_prioritaire"] == "11"
    assert data["totals"]["total"] == "au moins 18"
    for value in re.findall(r"'(\d+)'", str(data["rows"]) + str(data["totals"])):
        assert int(value) >= 5
    assert data["median_wait_days"] == 10


def test_the_median_is_hidden_when_fewer_than_five_wait(db, factory, now):
    territory = factory.territory()
    waiting(factory, territory, "26223", 3)
    assert publication.build_snapshot(db, territory, now=now)["median_wait_days"] is None


def test_publishing_twice_the_same_day_keeps_one_snapshot(db, factory, now):
    territory = factory.territory()
    waiting(factory, territory, "26223", 5)
    publication.publish(db, territory, now=now)
    publication.publish(db, territory, now=now + timedelta(hours=1))
    count = db.scalar(select(func.count()).select_from(PublishedWaitingList)
                      .where(PublishedWaitingList.territory_id == territory.id))
    assert count == 1
    publication.publish(db, territory, now=now + timedelta(days=1))
    assert publication.latest(db, territory).publication_date == date(2026, 11, 25)


def test_coordinators_get_one_daily_digest_with_counts_only(db, factory, now):
    territory = factory.territory()
    coordinator = factory.user("staff", territory=territory)
    waiting(factory, territory, "26223", 3, waited_days=0)
    first = publication.publish_all(db, now=now, settings=SETTINGS)
    second = publication.publish_all(db, now=now + timedelta(hours=2), settings=SETTINGS)
    assert first["staff_digests"] >= 1 and second["staff_digests"] == 0
    [digest] = db.scalars(select(Notification).where(Notification.recipient_user_id == coordinator.id)).all()
    assert digest.context["new_requests"] == 3 and digest.context["waiting"] == 3
    assert "Dupont" not in str(digest.context)


def test_a_gp_with_pending_proposals_gets_a_digest_with_the_anonymous_count_nearby(db, factory, now):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory, commune="26223")
    declaration = factory.declaration(doctor, 3, max_km=20)
    idle = factory.doctor(territory=territory, commune="26223")
    waiting(factory, territory, "26223", 4)
    request = factory.request(factory.patient(territory=territory))
    proposal = proposals.create_draft(db, request, doctor, now=now, declaration_id=declaration.id, distance_km=1)
    proposals.approve_and_send(db, proposal, now=now)
    publication.publish_all(db, now=now, settings=SETTINGS)  # a Tuesday
    digests = db.scalars(select(Notification).where(Notification.template == "digest_gp")).all()
    assert [d.recipient_email for d in digests] == [doctor.email]
    assert digests[0].context["pending"] == 1 and digests[0].context["nearby"] == 5  # 4 waiting + the one proposed to them
    # on Monday, the GPs without proposals hear how many patients wait near them
    monday = now + timedelta(days=6)
    publication.publish_all(db, now=monday, settings=SETTINGS)
    emails = {d.recipient_email for d in db.scalars(select(Notification).where(Notification.template == "digest_gp"))}
    assert idle.email in emails


def test_the_publication_job_run_twice_gives_one_snapshot_and_one_digest(sessions, db, factory, now):
    territory = factory.territory()
    factory.user("staff", territory=territory)
    waiting(factory, territory, "26223", 5)
    db.commit()
    for _ in range(2):
        assert run_job("publication", sessions, now, settings=SETTINGS).outcome == "success"
    assert db.scalar(select(func.count()).select_from(Notification).where(
        Notification.template == "digest_staff", Notification.territory_id == territory.id)) == 1
    assert publication.latest(db, territory).data["totals"]["non_prioritaire"] == "5"


def test_a_total_made_only_of_small_counts_is_not_given_exactly():
    assert publication.mask_total([4, 4]) == "au moins 5"  # "8" would reveal both counts
    assert publication.mask_total([3, 0]) == "moins de 5"
    assert publication.mask_total([12, 0, 0]) == "12"
