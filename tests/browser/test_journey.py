"""A person's whole journey through the example council site, in headless Chromium.

Sign in, step up for each of the three attribute scopes (declining one), see
"your details", let the 4-hour session end, sign in again, and sign out through
ScotAccount. Every page gets a screenshot (wide and at 320 CSS pixels), an
axe-core scan (any serious or critical violation fails the test) and a reflow
check (no horizontal scrolling at 320 px, WCAG 1.4.10).

The example site runs in a live-server thread of this process and the fake
ScotAccount in two more, so one ``time_machine`` travel moves both clocks at
once: the app's session clock and the fake's (ScotAccount's own 4-hour session,
and every token it issues). Chromium's clock is left alone, as a person's
would be; nothing the journey relies on reads it.

Needs Debian's ``chromium`` (``/usr/bin/chromium``, or ``SCOTACCOUNT_CHROMIUM``),
the ``playwright`` Python package (dependency group ``browser``; it drives the
installed Chromium, no browser download) and axe-core (``npm ci`` in
``tests/browser``); skips, saying which is missing, otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.flow_helpers import EXAMPLE_PROJECT

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(os.environ.get("SCOTACCOUNT_BROWSER_ARTEFACTS", HERE / "artefacts"))
CHROMIUM = os.environ.get("SCOTACCOUNT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: axe-core rule tags checked: WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
WIDE, NARROW = 1024, 320
FOUR_HOURS = 4 * 60 * 60

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _missing() -> str | None:
    """Why this machine cannot run the test, or None."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install --group browser)"
    if not AXE.exists():
        return f"axe-core not installed in {HERE} (npm ci --prefix tests/browser)"
    return None


@dataclass
class Journey:
    """The browser tab, and what every page visited has shown so far."""

    page: Any
    base_url: str
    folder: Path
    step: int = 0
    violations: list[str] = field(default_factory=list)
    overflowing: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        """Screenshot, axe-core scan and 320 px reflow check of the page now shown."""
        self.step += 1
        label = f"{self.step:02d}-{name}"
        page = self.page
        page.wait_for_load_state("load")
        page.set_viewport_size({"width": WIDE, "height": 800})
        page.screenshot(path=self.folder / f"{label}.png", full_page=True)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
        for violation in results["violations"]:
            if violation["impact"] in FAILING_IMPACTS:
                targets = [node["target"] for node in violation["nodes"]]
                self.violations.append(
                    f"{label} {page.url}: {violation['id']} ({violation['impact']}) {targets}"
                )
        page.set_viewport_size({"width": NARROW, "height": 640})
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            self.overflowing.append(f"{label} {page.url}: {widths[0]}px wide at {widths[1]}px")
        page.screenshot(path=self.folder / f"{label}-320.png", full_page=True)
        page.set_viewport_size({"width": WIDE, "height": 800})

    def path(self) -> str:
        url: str = self.page.url
        return url.removeprefix(self.base_url)


def artefacts_folder(name: str) -> Path:
    """An emptied folder for one test's screenshots; printed so a person can find them."""
    folder = ARTEFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    print(f"\nBrowser test screenshots: {folder}")
    return folder


@pytest.fixture
def example_live_server(settings) -> Iterator[str]:
    """The example council site, served (static files too) from a thread of this process."""
    if str(EXAMPLE_PROJECT) not in sys.path:
        sys.path.insert(0, str(EXAMPLE_PROJECT))
    settings.INSTALLED_APPS = [
        "council",  # first, so its scotaccount/base.html wins, as in the example project
        *settings.INSTALLED_APPS,
        "django.contrib.staticfiles",
    ]
    settings.ROOT_URLCONF = "council.urls"
    settings.LOGIN_REDIRECT_URL = "council:apply"
    settings.STATIC_URL = "/static/"
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    # As Django's LiveServerTestCase: an in-memory SQLite database is shared with the thread.
    overrides = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in overrides.values():
        conn.inc_thread_sharing()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, overrides, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base_url = f"http://127.0.0.1:{server.port}"
    settings.SCOTACCOUNT_REDIRECT_URI = f"{base_url}/scotaccount/callback/"
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = f"{base_url}/scotaccount/logged-out/"
    try:
        yield base_url
    finally:
        server.terminate()
        # Request threads close the shared connection as they finish: let them, first. Only
        # this server's: the fake's threads serve Chromium's keep-alive connections until the
        # fake stops, so waiting for every request thread cost 10 s a test.
        for thread in list(getattr(server.httpd, "_threads", ())):
            thread.join(timeout=10)
        for conn in overrides.values():
            conn.dec_thread_sharing()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": WIDE, "height": 800})
            context.set_default_timeout(15_000)
            yield context.new_page()
        finally:
            browser.close()


def sign_in_at_scotaccount(journey: Journey, persona: str) -> None:
    """The fake's persona page, then its consent page (sign-in only: nothing to share)."""
    page = journey.page
    page.get_by_test_id("sign-in-form").wait_for()
    journey.check(f"scotaccount-sign-in-{persona}")
    page.get_by_test_id(f"persona-{persona}").check()
    page.get_by_test_id("sign-in-submit").click()
    page.get_by_test_id("consent-form").wait_for()
    journey.check("scotaccount-consent-sign-in")
    page.get_by_test_id("consent-allow").click()


def consent_at_scotaccount(journey: Journey, name: str, *, share: bool = True) -> None:
    """A step-up: ScotAccount still knows the person, so it asks only for consent."""
    page = journey.page
    page.get_by_test_id("consent-form").wait_for()
    assert page.get_by_test_id("sign-in-form").count() == 0
    journey.check(f"scotaccount-consent-{name}")
    page.get_by_test_id("consent-allow" if share else "consent-cancel").click()


def test_a_person_signs_in_steps_up_declines_expires_and_signs_out(
    telemetry,  # the OpenTelemetry SDK, as run_demo.py installs it (before the browser starts)
    browser_page,
    example_live_server,
    request,
):
    fake = request.getfixturevalue("fake_scotaccount")  # registers the live server's URIs
    try:
        walk_the_journey(browser_page, example_live_server, fake)
    finally:
        # Before the live server stops: Chromium's open connections hold its threads.
        browser_page.context.close()


def walk_the_journey(page, example_live_server, fake):
    started = time.monotonic()
    folder = artefacts_folder("journey")
    journey = Journey(page, example_live_server, folder)

    page.goto(f"{example_live_server}/")
    journey.check("home")
    page.get_by_test_id("start").click()
    sign_in_at_scotaccount(journey, "morag")
    page.get_by_test_id("apply-title").wait_for()
    assert journey.path() == "/apply/"
    journey.check("apply")

    # Step up for identity (a mixin-protected page).
    page.get_by_test_id("identity").click()
    consent_at_scotaccount(journey, "identity")
    page.get_by_test_id("verified-name").wait_for()
    assert page.get_by_test_id("verified-name").inner_text() == "Morag MacDonald"
    journey.check("identity")

    # Step up for the address (a decorator-protected page).
    page.goto(f"{example_live_server}/apply/")
    page.get_by_test_id("permit").click()
    consent_at_scotaccount(journey, "address")
    page.get_by_test_id("permit-address").wait_for()
    assert "G62 7AA" in page.get_by_test_id("permit-address").inner_text()
    journey.check("permit")

    # Step up for the email, and decline it.
    page.goto(f"{example_live_server}/your-details/")
    journey.check("your-details-before")
    page.get_by_test_id("share-more").click()
    consent_at_scotaccount(journey, "email", share=False)
    page.get_by_test_id("your-details-title").wait_for()
    held = page.get_by_test_id("held").inner_text()
    assert "Your address" in held
    assert "Your name and date of birth" in held
    assert "Your email address: you chose not to share it" in (
        page.get_by_test_id("unavailable").inner_text()
    )
    journey.check("your-details")

    # Four hours pass: the session ends here and at ScotAccount.
    with time_machine.travel(time.time() + FOUR_HOURS + 60, tick=True):
        page.goto(f"{example_live_server}/apply/")
        page.get_by_test_id("scotaccount-session-ended-title").wait_for()
        assert "4 hours" in page.get_by_test_id("scotaccount-session-ended-reason").inner_text()
        journey.check("session-ended")
        page.get_by_test_id("scotaccount-session-ended-sign-in").click()
        sign_in_at_scotaccount(journey, "morag")
        page.get_by_test_id("apply-title").wait_for()
        assert journey.path() == "/apply/"

        # Sign out, here and at ScotAccount.
        page.goto(f"{example_live_server}/scotaccount/logout/")
        journey.check("sign-out")
        page.get_by_test_id("sign-out").click()
        page.get_by_test_id("scotaccount-logged-out-title").wait_for()
        journey.check("signed-out")
    assert fake.journal.last("logout").outcome == "signed out"

    # The figures an operations team would scrape, as `make demo` points out.
    page.goto(f"{example_live_server}/metrics")
    figures = page.locator("body").inner_text().splitlines()
    for series, label in (
        ("scotaccount_sign_ins_total{", 'scotaccount_outcome="success"'),
        ("scotaccount_step_ups_total{", 'scotaccount_outcome="declined"'),
        ("scotaccount_logouts_total{", 'scotaccount_logout_route="session_expired"'),
        ("scotaccount_logouts_total{", 'scotaccount_logout_route="rp_initiated"'),
        ("scotaccount_provider_request_duration_seconds_count{", 'endpoint="attributes"'),
    ):
        assert any(line.startswith(series) and label in line for line in figures), series

    print(f"Browser journey: {journey.step} pages in {time.monotonic() - started:.1f}s")
    (folder / "report.json").write_text(
        json.dumps(
            {"violations": journey.violations, "overflowing": journey.overflowing}, indent=2
        ),
        encoding="utf-8",
    )
    assert not journey.violations, "\n".join(journey.violations)
    assert not journey.overflowing, "\n".join(journey.overflowing)


def test_the_pages_for_things_going_wrong(browser_page, example_live_server, request):
    """Cancelling sign-in, then a detail ScotAccount could not check: the pages that say so."""
    request.getfixturevalue("fake_scotaccount")
    try:
        walk_the_unhappy_paths(browser_page, example_live_server)
    finally:
        browser_page.context.close()


def walk_the_unhappy_paths(page, example_live_server):
    journey = Journey(page, example_live_server, artefacts_folder("going-wrong"))
    page.goto(f"{example_live_server}/apply/")
    page.get_by_test_id("sign-in-form").wait_for()
    page.get_by_test_id("persona-idv-failed").check()
    page.get_by_test_id("sign-in-submit").click()
    consent_at_scotaccount(journey, "cancel-sign-in", share=False)
    page.get_by_test_id("scotaccount-error-title").wait_for()
    journey.check("sign-in-cancelled")
    page.get_by_test_id("scotaccount-retry").click()  # keeps next=/apply/
    consent_at_scotaccount(journey, "sign-in-again")
    page.get_by_test_id("apply-title").wait_for()
    page.get_by_test_id("identity").click()
    consent_at_scotaccount(journey, "identity-check-failed")
    page.get_by_test_id("scotaccount-unavailable-title").wait_for()
    journey.check("identity-unavailable")
    page.get_by_test_id("scotaccount-continue").click()
    page.get_by_test_id("apply-title").wait_for()
    assert not journey.violations, "\n".join(journey.violations)
    assert not journey.overflowing, "\n".join(journey.overflowing)


def test_the_checks_catch_an_inaccessible_page(browser_page, tmp_path):
    """The journey's checks can fail: an unlabelled field and a fixed-width box are caught."""
    page = browser_page
    page.set_content(
        '<!doctype html><html lang="en"><title>Bad</title><main>'
        '<input type="text"><div style="width:600px">Too wide</div></main></html>'
    )
    journey = Journey(page, "", tmp_path)
    journey.check("bad")
    assert any(" label (critical)" in violation for violation in journey.violations)
    assert journey.overflowing
    assert (tmp_path / "01-bad.png").exists()
