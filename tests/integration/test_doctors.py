"""GP registration, invitation, capacity declarations and the GP's inbox (guichet/doctors/practitioners.py)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from guichet.accounts import users
from guichet.assignment import proposals
from guichet.doctors import capacity, practitioners
from guichet.identifiers import rpps_with_key
from guichet.models import AuditEvent, Doctor, Notification, PairExclusion, User

LINK = "https://guichet.test/invitation/{}".format


def register(db, territory, now, **overrides):
    values = dict(rpps=rpps_with_key("1000000042"), first_name="Claire", last_name="Martin",
                  email="claire.martin@exemple.fr", practice_address="4 rue du Moulin", commune_insee="26223")
    values.update(overrides)
    return practitioners.register_doctor(db, territory, now=now, **values)


# --- registration -------------------------------------------------------------------


def test_registration_places_the_practice_at_its_commune_and_creates_an_uninvited_account(db, factory, now):
    territory = factory.territory()
    doctor = register(db, territory, now, rpps=" 1000 0000 42" + rpps_with_key("1000000042")[-1])
    assert doctor.rpps == rpps_with_key("1000000042")
    assert (doctor.lat, doctor.lon) == (doctor.commune.lat, doctor.commune.lon) and doctor.lat is not None
    assert doctor.territory_id == territory.id
    account = db.scalar(select(User).where(User.doctor_id == doctor.id))
    assert account.role == "doctor" and account.password_hash is None and account.territory_id is None


@pytest.mark.parametrize(("rpps", "message"), [
    ("1234", "11 chiffres"),
    ("1000000042A", "11 chiffres"),
    ("10000000420", None),  # filled in below with a wrong key
])
def test_registration_refuses_an_invalid_rpps(db, factory, now, rpps, message):
    territory = factory.territory()
    if message is None:
        good = rpps_with_key("1000000042")
        rpps = good[:-1] + str((int(good[-1]) + 1) % 10)
        message = "clé de contrôle"
    with pytest.raises(practitioners.DoctorError, match=message) as info:
        register(db, territory, now, rpps=rpps)
    assert info.value.field == "rpps"
    assert db.scalar(select(Doctor).where(Doctor.territory_id == territory.id)) is None


def test_registration_refuses_a_second_gp_with_the_same_rpps(db, factory, now):
    territory = factory.territory()
    register(db, territory, now)
    with pytest.raises(practitioners.DoctorError, match="Un médecin avec ce numéro RPPS est déjà inscrit.") as info:
        register(db, territory, now, email="autre@exemple.fr")
    assert info.value.field == "rpps"


def test_a_concurrent_duplicate_rpps_is_caught_by_the_database(db, factory, now, monkeypatch):
    territory = factory.territory()
    register(db, territory, now)
    # the check before insert sees nothing (as if the other registration were not committed yet)
    real_scalar = db.scalar
    monkeypatch.setattr(db, "scalar", lambda stmt, *a, **k: None if "doctors.rpps" in str(stmt) else
                        real_scalar(stmt, *a, **k))
    with pytest.raises(practitioners.DoctorError, match="déjà inscrit") as info:
        register(db, territory, now, email="autre@exemple.fr")
    assert info.value.field == "rpps"
    monkeypatch.undo()
    db.rollback()  # as the view does: nothing of the failed registration remains
    assert db.scalar(select(User).where(User.email == "autre@exemple.fr")) is None


def test_registration_refuses_a_commune_outside_the_staff_territory(db, factory, now):
    territory = factory.territory()
    with pytest.raises(practitioners.DoctorError, match="n'appartient pas au territoire") as info:
        register(db, territory, now, commune_insee="26307")  # Saint-Jean-en-Royans, same postal code
    assert info.value.field == "commune_insee"


def test_registration_refuses_an_email_that_already_has_an_account(db, factory, now):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    with pytest.raises(practitioners.DoctorError, match="Un compte existe déjà") as info:
        register(db, territory, now, email=staff.email.upper())
    assert info.value.field == "email"


def test_postal_code_lookup_keeps_only_the_communes_of_the_territory(db, factory):
    territory = factory.territory(insee=("26059", "26117", "26074"))
    assert [c.insee for c in practitioners.territory_communes(db, territory, "26190")] == ["26059", "26117"]
    assert [c.insee for c in practitioners.territory_communes(db, territory, "26 420")] == ["26074"]
    with pytest.raises(practitioners.DoctorError, match="aucune commune du territoire"):
        practitioners.territory_communes(db, territory, "75001")
    with pytest.raises(practitioners.DoctorError, match="5 chiffres"):
        practitioners.territory_communes(db, territory, "261")


def test_invitation_link_lets_the_gp_choose_a_password_and_a_new_one_replaces_it(db, factory, now):
    territory = factory.territory()
    doctor = register(db, territory, now)
    first = practitioners.send_invitation(db, doctor, now=now, link_for=LINK)
    assert first.template == "invitation" and first.recipient_email == "claire.martin@exemple.fr"
    first_token = first.context["link"].rsplit("/", 1)[1]
    second = practitioners.send_invitation(db, doctor, now=now + timedelta(hours=1), link_for=LINK)
    second_token = second.context["link"].rsplit("/", 1)[1]
    assert first.id != second.id
    with pytest.raises(users.InvalidToken):
        users.peek_token(db, first_token, now=now + timedelta(hours=2))
    user = users.use_token(db, second_token, "Une phrase de passe assez longue !", now=now + timedelta(hours=2))
    assert user.doctor_id == doctor.id
    with pytest.raises(practitioners.DoctorError, match="déjà activé"):
        practitioners.send_invitation(db, doctor, now=now, link_for=LINK)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "doctor.invite", AuditEvent.object_id == doctor.id))


# --- capacity ---------------------------------------------------------------------------


@pytest.fixture
def gp(factory):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    return territory, doctor


def send(db, factory, territory, doctor, decl, now, patient=None, **request_fields):
    request = factory.request(patient=patient or factory.patient(territory=territory), **request_fields)
    p = proposals.create_draft(db, request, doctor, now=now, declaration_id=decl.id, distance_km=4.0)
    proposals.approve_and_send(db, p, now=now)
    return p


def declare(db, doctor, now, **fields):
    values = dict(new_patients=5, valid_until=date(2027, 3, 31), max_km=10)
    values.update(fields)
    return practitioners.declare_capacity(db, doctor, now=now, **values)


def test_remaining_is_declared_minus_accepted_minus_pending(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now, new_patients=5)
    accepted = send(db, factory, territory, doctor, decl, now)
    proposals.accept(db, accepted, now=now)
    send(db, factory, territory, doctor, decl, now)
    send(db, factory, territory, doctor, decl, now)
    declined = send(db, factory, territory, doctor, decl, now)
    proposals.decline(db, declined, now=now)
    summary = capacity.summary(db, decl)
    assert (summary.declared, summary.accepted, summary.pending, summary.remaining) == (5, 1, 2, 2)


def test_lowering_below_pending_needs_a_choice_and_saves_nothing_without_it(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now, new_patients=3)
    for _ in range(2):
        send(db, factory, territory, doctor, decl, now)
    with pytest.raises(practitioners.PendingChoiceNeeded) as info:
        declare(db, doctor, now, new_patients=1)
    assert info.value.pending == 2
    assert capacity.current_declaration(db, doctor.id) is decl


def test_lowering_and_keeping_moves_the_pending_proposals_to_the_new_declaration(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now, new_patients=3)
    pending = [send(db, factory, territory, doctor, decl, now) for _ in range(2)]
    new = declare(db, doctor, now, new_patients=1, pending_action="keep")
    assert all(p.status == "sent" and p.declaration_id == new.id for p in pending)
    assert capacity.summary(db, new).pending == 2 and capacity.summary(db, new).remaining == 0
    assert decl.superseded_dt == now


def test_lowering_and_returning_sends_pending_proposals_back_to_the_waiting_list(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now, new_patients=3)
    pending = [send(db, factory, territory, doctor, decl, now) for _ in range(2)]
    new = declare(db, doctor, now, new_patients=0, pending_action="return")
    for p in pending:
        assert p.status == "cancelled" and p.cancel_reason == practitioners.CAPACITY_LOWERED_REASON
        assert p.request.status == "waiting"
    # sent back by the GP's choice, not declined: the pair may be proposed again later
    assert db.scalar(select(PairExclusion)) is None
    assert new.committed == 0 and capacity.summary(db, new).remaining == 0


def test_a_figure_at_or_above_pending_keeps_them_without_asking(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now, new_patients=3)
    p = send(db, factory, territory, doctor, decl, now)
    new = declare(db, doctor, now, new_patients=1, pending_action="return")
    assert p.status == "sent" and p.declaration_id == new.id


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"new_patients": 51}, "new_patients", "entre 0 et 50"),
    ({"new_patients": -1}, "new_patients", "entre 0 et 50"),
    ({"valid_until": date(2026, 11, 24)}, "valid_until", "date à venir"),
    ({"max_km": 12}, "max_km", "distances proposées"),
    ({"is_priority_only": True, "priority_flags": []}, "priority_flags", "au moins une situation"),
    ({"is_priority_only": True, "priority_flags": ["waiting_days"]}, "priority_flags", "situations proposées"),
    ({"languages": ["xx"]}, "languages", "langues proposées"),
])
def test_a_declaration_out_of_range_is_refused_with_a_french_message(db, now, gp, fields, field, message):
    _, doctor = gp
    with pytest.raises(practitioners.DoctorError, match=message) as info:
        declare(db, doctor, now, **fields)
    assert info.value.field == field
    assert capacity.current_declaration(db, doctor.id) is None


def test_priority_flags_offered_are_the_territory_weighted_ones(db, factory, now):
    territory = factory.territory()
    territory.settings = {"priority_weights": {"pregnancy": 0}}
    flags = practitioners.territory_flags(territory)
    assert "ald" in flags and "pregnancy" not in flags and "waiting_days" not in flags


def test_pause_keeps_the_counts_and_stops_new_approvals_until_resumed(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now, new_patients=3)
    first = send(db, factory, territory, doctor, decl, now)
    proposals.accept(db, first, now=now)
    waiting = send(db, factory, territory, doctor, decl, now)
    practitioners.set_paused(db, doctor, True, now=now)
    assert capacity.current_declaration(db, doctor.id) is decl and decl.is_paused
    summary = capacity.summary(db, decl)
    assert (summary.accepted, summary.pending) == (1, 1)
    request = factory.request(patient=factory.patient(territory=territory))
    draft = proposals.create_draft(db, request, doctor, now=now, declaration_id=decl.id)
    with pytest.raises(capacity.NoCurrentDeclaration):
        proposals.approve_and_send(db, draft, now=now)
    assert waiting.status == "sent"  # already sent: still the GP's to answer
    # a new figure while paused stays paused: only "resume" lifts the pause
    new = declare(db, doctor, now, new_patients=4)
    assert new.is_paused
    practitioners.set_paused(db, doctor, False, now=now)
    assert not new.is_paused and capacity.is_open(new, now.date())


def test_pause_without_a_declaration_is_refused(db, now, gp):
    _, doctor = gp
    with pytest.raises(practitioners.DoctorError, match="pas encore déclaré"):
        practitioners.set_paused(db, doctor, True, now=now)


def test_history_lists_every_declaration_newest_first(db, now, gp):
    _, doctor = gp
    first = declare(db, doctor, now - timedelta(days=10), new_patients=2)
    second = declare(db, doctor, now, new_patients=4)
    assert [d for d, _ in practitioners.declaration_history(db, doctor.id)] == [second, first]


# --- inbox --------------------------------------------------------------------------


def test_inbox_lists_this_gp_proposals_to_answer_then_accepted_ones_awaiting_follow_up(db, factory, now, gp):
    territory, doctor = gp
    other = factory.doctor(territory=territory)
    decl = declare(db, doctor, now, new_patients=5)
    other_decl = factory.declaration(other, 5)
    later = send(db, factory, territory, doctor, decl, now)
    sooner = send(db, factory, territory, doctor, decl, now - timedelta(days=3))
    accepted = send(db, factory, territory, doctor, decl, now)
    proposals.accept(db, accepted, now=now)
    done = send(db, factory, territory, doctor, decl, now)
    proposals.accept(db, done, now=now)
    proposals.record_follow_up(db, done, now=now, first_consultation=True, mt_declared=True)
    send(db, factory, territory, other, other_decl, now)
    request = factory.request(patient=factory.patient(territory=territory))
    proposals.create_draft(db, request, doctor, now=now, declaration_id=decl.id)  # not yet sent
    to_answer, follow_up = practitioners.inbox(db, doctor.id)
    assert to_answer == [sooner, later]
    assert follow_up == [accepted]


def test_what_the_gp_sees_before_accepting_holds_no_identity(db, factory, now, gp):
    territory, doctor = gp
    decl = declare(db, doctor, now)
    patient = factory.patient(territory=territory, birth_date=date(1950, 3, 14), is_ald=True)
    p = send(db, factory, territory, doctor, decl, now, patient=patient, waited_days=40)
    view = practitioners.proposal_view(p, now=now)
    assert view.age_group == "70–79 ans"
    assert view.commune == "Oriol-en-Royans" and view.distance_km == 4.0
    assert view.flags == ["Affection de longue durée (ALD)", "70 ans ou plus"]
    assert view.waiting_days == 40
    text = repr(view.__dict__ | {"proposal": None})
    assert patient.birth_name not in text and "1950" not in text and patient.phone not in text



def test_registration_sends_nothing_by_itself(db, factory, now):
    territory = factory.territory()
    register(db, territory, now)
    assert db.scalar(select(Notification).where(Notification.template == "invitation")) is None
