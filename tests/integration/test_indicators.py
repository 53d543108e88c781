"""Monthly indicators on a hand-built data set whose figures are known."""

from datetime import UTC, date, datetime

from guichet.models import CapacityDeclaration, Proposal, RequestEvent
from guichet.reporting import indicators


def at(month, day):
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


def test_indicators_on_a_known_data_set(db, factory, now):
    territory = factory.territory()
    a = factory.doctor(territory=territory)
    b = factory.doctor(territory=territory)
    db.add_all([
        CapacityDeclaration(doctor=a, new_patients=5, declared_dt=at(9, 15), superseded_dt=at(11, 5)),
        CapacityDeclaration(doctor=a, new_patients=3, declared_dt=at(11, 5)),
        CapacityDeclaration(doctor=b, new_patients=2, declared_dt=at(10, 20)),
    ])

    def request(channel, submitted, kind="mt", **patient):
        r = factory.request(patient=factory.patient(territory=territory, **patient), kind=kind, channel=channel)
        r.submitted_dt = submitted
        return r

    r1 = request("web", at(10, 1), is_ald=True, birth_date=date(1950, 1, 1))
    r2 = request("phone", at(10, 5), is_css=True, birth_date=date(1990, 1, 1))
    request("import", at(11, 3), birth_date=date(1990, 1, 1))
    r4 = request("web", at(11, 20), kind="snp")
    # another territory's data never counts
    factory.request(patient=factory.patient(), channel="web").submitted_dt = at(10, 2)

    db.add_all([
        Proposal(request=r1, doctor=a, status="accepted", sent_dt=at(10, 11), created_dt=at(10, 11), answered_dt=at(10, 21)),
        Proposal(request=r2, doctor=b, status="declined", sent_dt=at(10, 9), created_dt=at(10, 9), answered_dt=at(10, 12)),
        Proposal(request=r2, doctor=a, status="accepted", sent_dt=at(11, 2), created_dt=at(11, 2), answered_dt=at(11, 10)),
        RequestEvent(request=r4, at_dt=at(11, 20), actor="staff", kind="status", from_status="waiting",
                     to_status="booked"),
    ])
    booked = factory.slot(a, start=at(11, 21))
    booked.status, booked.request_id = "booked", r4.id
    factory.slot(a, start=at(11, 22))
    factory.slot(b, start=at(11, 23), status="cancelled")
    db.flush()

    rows = indicators.compute(db, territory, 2026, now=now)
    assert [r.month for r in rows] == [date(2026, m, 1) for m in range(1, 12)]
    sep, octo, nov = rows[8], rows[9], rows[10]

    assert octo.received == {"mt": {"web": 1, "phone": 1}, "snp": {}}
    assert nov.received == {"mt": {"import": 1}, "snp": {"web": 1}}
    assert (octo.placed, octo.placed_ald, octo.placed_70, octo.placed_css) == (1, 1, 1, 0)
    assert (nov.placed, nov.placed_ald, nov.placed_70, nov.placed_css) == (1, 0, 0, 1)
    assert octo.median_days_to_proposal == 7.0  # first sendings after 10 and 4 days
    assert nov.median_days_to_proposal is None
    assert octo.median_days_to_acceptance == 20.0 and nov.median_days_to_acceptance == 36.0
    assert (octo.declined, nov.declined) == (1, 0)
    assert (nov.snp_handled, nov.slots_offered, nov.slots_used) == (1, 2, 1)
    assert (sep.capacity_declared, octo.capacity_declared, nov.capacity_declared) == (5, 7, 5)
    assert (octo.capacity_used, nov.capacity_used) == (1, 1)
    assert rows[7].capacity_declared == 0

    lines = "".join(indicators.csv_lines(rows)).splitlines()
    assert lines[10] == "2026-10;2;1;1;0;0;1;1;1;0;7;20;1;0;0;0;7;1"
    assert lines[11] == "2026-11;1;0;0;1;1;1;0;0;1;;36;0;1;2;1;5;1"


def test_months_stop_at_the_current_month(db, factory, now):
    territory = factory.territory()
    assert len(indicators.compute(db, territory, 2026, now=now)) == 11
    assert len(indicators.compute(db, territory, 2025, now=now)) == 12
    assert indicators.compute(db, territory, 2027, now=now) == []
