"""Browser fixtures shared by the end-to-end tests: Debian chromium, a live server, axe."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Run the real application in a thread on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["guichet"]["engine"].dispose()


@contextmanager
def demo_server(clone_database: Callable[[str], str], label: str, **overrides: Any) -> Iterator[tuple[str, str]]:
    """The demo territory in a database of its own, served by the real application (CSRF on, clock
    frozen at the tests' NOW); yields (base URL, database URL)."""
    from sqlalchemy.orm import Session

    from guichet.clock import FrozenClock
    from guichet.db import make_engine
    from guichet.demo import load_demo
    from guichet.web import create_app
    from tests.conftest import NOW

    url = clone_database(label)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        load_demo(db, now=NOW)
    engine.dispose()
    app = create_app(clock=FrozenClock(NOW), overrides={
        "TESTING": False, "DATABASE_URL": url, "SECRET_KEY": f"{label}-secret", "WTF_CSRF_ENABLED": True,
        **overrides})
    with serve(app) as base:
        yield base, url


def _browser_environment() -> dict[str, str]:
    """The environment of the browser: ours, without libfaketime.

    CI runs the suite a second time with the machine's clock moved by libfaketime, which is
    preloaded into every child process. Chromium under it stops loading pages (its real-time
    and monotonic clocks disagree); the date checks are about our server, which keeps it.
    """
    return {name: value for name, value in os.environ.items()
            if name != "LD_PRELOAD" and not name.startswith(("FAKETIME", "DONT_FAKE"))}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            env=_browser_environment(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


def axe_violations(page: Any) -> tuple[int, str]:
    """Run axe-core (WCAG 2.1 A/AA, colour contrast included) on the page."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG},
                                       "resultTypes": ["violations"]})
    return results.violations_count, results.generate_report()


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def overflowing_elements(page: Any) -> list[str]:
    """The innermost elements sticking out on the right: what to fix when the page scrolls sideways."""
    return list(page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > width + 1);
        return out.filter(e => !out.some(o => o !== e && e.contains(o))).slice(0, 5)
                  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': '
                            + (e.textContent || '').trim().slice(0, 60));
    }"""))


def login(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


class Mailbox:
    """A real SMTP server (aiosmtpd) receiving what the outbox delivery job sends.

    The page after an online request shows no link: a patient's journey goes on from the
    e-mail, so the browser tests read the link in the message as the patient receives it.
    """

    def __init__(self, port: int) -> None:
        from tests.integration.test_delivery import Collector, mail_settings

        self.collector = Collector()
        self.settings = mail_settings(port)

    def last_text(self, engine: Any, recipient: str) -> str:
        """Deliver the outbox now, then the plain text of the newest e-mail to `recipient`."""
        from guichet.db import make_sessionmaker
        from guichet.messaging import delivery
        from tests.conftest import NOW

        while delivery.deliver_due(make_sessionmaker(engine), now=NOW + timedelta(hours=1), settings=self.settings)["sent"]:
            pass  # batch after batch: a demo territory has more messages waiting than one batch
        received = [mail for to, mail in self.collector.messages if recipient in to]
        assert received, f"no e-mail reached {recipient}"
        return str(received[-1].get_body(("plain",)).get_content())

    def tracking_link(self, engine: Any, recipient: str) -> str:
        found = re.search(r"https?://\S+/suivi/[A-Za-z0-9_-]+", self.last_text(engine, recipient))
        assert found, f"no tracking link in the e-mail to {recipient}"
        return found.group(0)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    from tests.integration.test_delivery import free_port

    box = Mailbox(free_port())
    controller = Controller(box.collector, hostname="127.0.0.1", port=box.settings["SMTP_PORT"])
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
