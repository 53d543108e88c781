"""Second factor (issue 16): enrolment, codes of the app's clock only, no replay, single-use recovery codes."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from guichet.accounts import staff_admin, two_factor, users
from guichet.messaging import notifications
from guichet.models import AuditEvent, Notification, RecoveryCode, Role
from tests.factories import PASSWORD

LIMITS = {"max_delay": timedelta(minutes=15), "notice_after": 5}
IP = "203.0.113.9"


def code_at(user, at, steps=0):
    return pyotp.TOTP(user.totp_secret).at(at, counter_offset=steps)


def enrol(db, user, clock):
    two_factor.pending_secret(db, user)
    codes = two_factor.confirm_enrolment(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    clock.advance(seconds=30)  # the next code is a new one
    return codes


def actions(db, user):
    return [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)
                                         .order_by(AuditEvent.id))]


def test_enrolment_needs_the_apps_current_code_and_gives_ten_single_use_codes(db, factory, clock):
    user = factory.user("admin")
    secret = two_factor.pending_secret(db, user)
    assert two_factor.pending_secret(db, user) == secret  # a reload keeps the QR code already scanned
    assert len(secret) == 32 and not user.has_second_factor
    uri = two_factor.provisioning_uri(user, secret)
    assert uri.startswith("otpauth://totp/Guichet%20CPTS:") and f"secret={secret}" in uri
    with pytest.raises(two_factor.InvalidCode, match="pas le bon"):
        two_factor.confirm_enrolment(db, user, "000000" if code_at(user, clock()) != "000000" else "111111",
                                     now=clock(), ip=IP, **LIMITS)
    assert not user.has_second_factor

    codes = two_factor.confirm_enrolment(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS)

    assert user.has_second_factor and user.totp_enrolled_dt == clock()
    assert len(codes) == 10 and len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    stored = db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(stored) & {c.replace("-", "") for c in codes}  # only hashes
    assert "two_factor.enrol" in actions(db, user)


def test_a_code_passes_once_within_one_step_of_the_app_clock(db, factory, clock):
    user = factory.user("staff")
    enrol(db, user, clock)
    clock.advance(minutes=2)
    # one step early or late (a phone's clock a little off) is accepted…
    assert two_factor.complete_login(db, user, code_at(user, clock(), steps=-1), now=clock(), ip=IP,
                                     **LIMITS) == "totp"
    clock.advance(seconds=60)
    assert two_factor.complete_login(db, user, code_at(user, clock(), steps=1), now=clock(), ip=IP,
                                     **LIMITS) == "totp"
    # … two steps away is not
    clock.advance(minutes=5)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_login(db, user, code_at(user, clock(), steps=-2), now=clock(), ip=IP, **LIMITS)
    assert user.last_login_dt is not None


def test_a_used_code_cannot_be_replayed(db, factory, clock):
    user = factory.user("admin")
    enrol(db, user, clock)
    code = code_at(user, clock())
    two_factor.complete_login(db, user, code, now=clock(), ip=IP, **LIMITS)
    with pytest.raises(two_factor.CodeAlreadyUsed, match="déjà de servir"):
        two_factor.complete_login(db, user, code, now=clock() + timedelta(seconds=10), ip=IP, **LIMITS)
    # nor an older one still inside the window
    with pytest.raises(two_factor.CodeAlreadyUsed):
        two_factor.complete_login(db, user, code_at(user, clock(), steps=-1), now=clock(), ip=IP, **LIMITS)
    # the next step's code passes
    clock.advance(seconds=30)
    assert two_factor.complete_login(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS) == "totp"
    failed = db.scalars(select(AuditEvent.detail).where(AuditEvent.user_id == user.id,
                                                        AuditEvent.action == "login_failed")).all()
    assert [d["cause"] for d in failed] == ["code_replayed", "code_replayed"]


def test_codes_follow_the_app_clock_not_the_machine(db, factory, clock):
    user = factory.user("staff")
    enrol(db, user, clock)
    clock.advance(days=400)  # the frozen clock far from the machine's time
    assert two_factor.complete_login(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS) == "totp"


def test_a_recovery_code_works_once_typed_loosely(db, factory, clock):
    user = factory.user("doctor")
    codes = enrol(db, user, clock)
    typed = codes[3].upper().replace("-", " ")
    assert two_factor.complete_login(db, user, typed, now=clock(), ip=IP, **LIMITS) == "recovery_code"
    assert two_factor.remaining_recovery_codes(db, user) == 9
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_login(db, user, codes[3], now=clock(), ip=IP, **LIMITS)
    used = db.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor.recovery_code_used"))
    assert used is not None and used.object_id == user.id and used.detail == {"remaining": 9}
    # no code, password or name in any audit row
    details = " ".join(str(e.detail) for e in db.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)))
    assert codes[3] not in details and user.email not in details


def test_renewed_recovery_codes_replace_the_old_ones(db, factory, clock):
    user = factory.user("staff")
    old = enrol(db, user, clock)
    new = two_factor.renew_recovery_codes(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    assert not set(old) & set(new)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_login(db, user, old[0], now=clock(), ip=IP, **LIMITS)
    assert two_factor.complete_login(db, user, new[0], now=clock(), ip=IP, **LIMITS) == "recovery_code"
    assert "two_factor.recovery_codes_renewed" in actions(db, user)


def test_disabling_needs_the_password_and_a_current_code(db, factory, clock):
    user = factory.user("staff")
    enrol(db, user, clock)
    with pytest.raises(users.LoginFailed):
        two_factor.disable(db, user, password="wrong-password", code=code_at(user, clock()), now=clock(), ip=IP,
                           **LIMITS)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.disable(db, user, password=PASSWORD, code="123", now=clock(), ip=IP, **LIMITS)
    assert user.has_second_factor
    two_factor.disable(db, user, password=PASSWORD, code=code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    assert not user.has_second_factor and user.totp_secret is None
    assert two_factor.remaining_recovery_codes(db, user) == 0
    assert "two_factor.disable" in actions(db, user)


def test_wrong_codes_go_through_the_login_throttling(db, factory, clock):
    user = factory.user("admin")
    enrol(db, user, clock)
    for _ in range(4):
        with pytest.raises(two_factor.InvalidCode):
            two_factor.complete_login(db, user, "not-a-code", now=clock(), ip=IP, **LIMITS)
    with pytest.raises(users.LoginThrottled) as throttled:
        two_factor.complete_login(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    assert throttled.value.seconds > 0
    # even the right password does not reset the delays while the code is still to come
    assert users.authenticate(db, user.email, PASSWORD, now=clock() + timedelta(seconds=5), ip=IP,
                              **LIMITS) is user
    with pytest.raises(users.LoginThrottled):
        two_factor.complete_login(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    clock.advance(seconds=20)
    assert two_factor.complete_login(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS) == "totp"


def test_the_password_alone_is_not_a_login_when_a_second_factor_is_enrolled(db, factory, clock):
    user = factory.user("staff")
    enrol(db, user, clock)
    users.authenticate(db, user.email, PASSWORD, now=clock(), ip=IP, **LIMITS)
    assert actions(db, user)[-1] == "login.password" and user.last_login_dt is None
    two_factor.complete_login(db, user, code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    login = db.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id, AuditEvent.action == "login")).one()
    assert login.detail == {"second_factor": "totp"} and user.last_login_dt == clock()


def test_an_admin_resets_a_lost_phone_and_the_sessions_end(db, factory, clock):
    territory = factory.territory()
    admin, user = factory.user("admin", territory), factory.user("staff", territory)
    enrol(db, user, clock)
    nonce = user.session_nonce
    with pytest.raises(staff_admin.UserAdminError):
        staff_admin.reset_two_factor(db, admin, now=clock(), by=admin)
    staff_admin.reset_two_factor(db, user, now=clock(), by=admin, ip=IP)
    assert not user.has_second_factor and user.session_nonce != nonce
    assert two_factor.remaining_recovery_codes(db, user) == 0
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor.reset"))
    assert event is not None and (event.user_id, event.object_id, event.territory_id) == (admin.id, user.id,
                                                                                           territory.id)
    with pytest.raises(staff_admin.UserAdminError, match="rien à réinitialiser"):
        staff_admin.reset_two_factor(db, user, now=clock(), by=admin)


@pytest.mark.parametrize(("role", "admins", "staff", "required"), [
    (Role.ADMIN, True, False, True), (Role.ADMIN, False, True, False), (Role.STAFF, True, False, False),
    (Role.STAFF, False, True, True), (Role.DOCTOR, True, True, False), (Role.PARTNER, True, True, False),
])
def test_who_must_enrol(factory, role, admins, staff, required):
    user = factory.user(role.value)
    assert two_factor.is_required(user, require_admins=admins, require_staff=staff) is required


def test_the_operator_resets_an_account_from_the_command_line(runner, db, factory, clock):
    """The only admin of a territory lost phone and codes: the server's operator resets it."""
    user = factory.user("admin")
    enrol(db, user, clock)
    result = runner.invoke(args=["reset-two-factor", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert "réinitialisée" in result.output
    db.refresh(user)
    assert not user.has_second_factor
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor.reset"))
    assert event.user_id is None and event.object_id == user.id and event.detail == {"via": "cli"}
    again = runner.invoke(args=["reset-two-factor", user.email])
    assert again.exit_code == 1 and "rien à réinitialiser" in again.output
    assert runner.invoke(args=["reset-two-factor", "personne@exemple.fr"]).exit_code == 1


def test_the_owner_is_told_of_a_disable_a_reset_and_a_recovery_code_used(db, factory, clock):
    territory = factory.territory()
    admin, user = factory.user("admin", territory), factory.user("staff", territory)
    codes = enrol(db, user, clock)
    two_factor.complete_login(db, user, codes[0], now=clock(), ip=IP, **LIMITS)
    two_factor.disable(db, user, password=PASSWORD, code=code_at(user, clock()), now=clock(), ip=IP, **LIMITS)
    enrol(db, user, clock)
    staff_admin.reset_two_factor(db, user, now=clock(), by=admin)
    sent = db.scalars(select(Notification).where(Notification.recipient_user_id == user.id)
                      .order_by(Notification.id)).all()
    assert [n.context["event"] for n in sent] == ["recovery_code", "disabled", "reset"]
    assert all(n.recipient_email == user.email and n.template == "two_factor_changed" for n in sent)
    for notice, words in zip(sent, ["Il vous en reste 9", "vient d'être désactivée", "Un administrateur"], strict=True):
        text, html = notifications.render("two_factor_changed", notice.context)
        assert words in text and words in html.replace("&#39;", "'")
