"""An admin enrols a second factor in a real browser, then signs in again with a code (issue 16).

The app runs as in production for admins (REQUIRE_2FA_ADMINS): after the password the admin
can only reach the enrolment page. The test reads the key shown for manual entry and computes
the codes with pyotp at the app's frozen clock, as the phone would. The pages are checked with
the site's own CSP (no bypass): the QR code is an inline SVG and the print button's script loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy.orm import Session

from guichet.clock import FrozenClock
from guichet.db import make_engine
from tests.conftest import NOW
from tests.e2e.conftest import CHROMIUM, axe_violations, horizontal_overflow, login, overflowing_elements, serve
from tests.factories import PASSWORD, Factory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def server(clone_database: Callable[[str], str]) -> Iterator[tuple[str, str, FrozenClock]]:
    from guichet.web import create_app

    url = clone_database("two_factor")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        email = Factory(db, now=NOW).user("admin").email
    engine.dispose()
    clock = FrozenClock(NOW)
    app = create_app(clock=clock, overrides={
        "TESTING": False, "DATABASE_URL": url, "SECRET_KEY": "two-factor-secret", "WTF_CSRF_ENABLED": True,
        "REQUIRE_2FA_ADMINS": True})
    with serve(app) as base:
        yield base, email, clock


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def check_page(page: Any, problems: list[str]) -> None:
    overflow = horizontal_overflow(page)
    if overflow > 0:
        problems.append(f"{page.url}: {overflow} px of horizontal scrolling at 1280 px {overflowing_elements(page)}")
    count, report = axe_violations(page)
    if count:
        problems.append(f"{page.url}: {count} axe violation(s)\n{report}")


def test_an_admin_enrols_then_signs_in_with_a_code(browser: Any, server: tuple[str, str, FrozenClock]) -> None:
    base, email, clock = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    problems: list[str] = []
    try:
        # the password alone leads to the enrolment page, and nowhere else
        login(page, base, email, PASSWORD)
        assert page.url == f"{base}/compte/double-authentification"
        page.goto(f"{base}/coordination/demandes")
        assert page.url == f"{base}/compte/double-authentification"
        expect(page.get_by_text("Votre rôle impose la double authentification")).to_be_visible()
        qr = page.get_by_role("img", name="QR code à scanner avec votre application d'authentification")
        box = qr.bounding_box()
        assert box is not None and box["width"] > 150 and box["height"] > 150
        check_page(page, problems)

        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        totp = pyotp.TOTP(secret)
        page.get_by_label("Code à 6 chiffres affiché par l'application").fill(totp.at(clock()))
        page.get_by_role("button", name="Activer la double authentification").click()
        expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
        codes = re.findall(r"[a-z2-9]{5}-[a-z2-9]{5}", page.locator(".recovery-codes").inner_text())
        assert len(codes) == 10
        expect(page.get_by_role("button", name="Imprimer les codes")).to_be_visible()  # print.js ran under the CSP
        check_page(page, problems)
        page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
        assert page.url == f"{base}/coordination/"

        page.get_by_role("link", name="Double authentification").click()
        expect(page.get_by_text("10 sur 10")).to_be_visible()
        check_page(page, problems)
        page.get_by_role("button", name="Se déconnecter").click()

        # signing in again: the code of the next 30 seconds
        clock.advance(seconds=30)
        login(page, base, email, PASSWORD)
        assert page.url == f"{base}/connexion/code"
        page.goto(f"{base}/coordination/")  # half signed in: nothing is open yet
        assert page.url.startswith(f"{base}/connexion")
        page.goto(f"{base}/connexion/code")
        check_page(page, problems)
        page.get_by_label("Code de vérification").fill(totp.at(clock()))
        page.get_by_role("button", name="Valider le code").click()
        assert page.url == f"{base}/coordination/"
        page.get_by_role("button", name="Se déconnecter").click()

        # without the phone: a recovery code, once
        login(page, base, email, PASSWORD)
        page.get_by_label("Code de vérification").fill(codes[0])
        page.get_by_role("button", name="Valider le code").click()
        assert page.url == f"{base}/coordination/"
        expect(page.get_by_text("il vous en reste 9")).to_be_visible()
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert not csp_errors, csp_errors
