"""The hostile scenarios, each keyed by its id in the security catalogue (docs/security.md).

Every check is black-box: it acts as browsers and as a hostile or faulty
ScotAccount would, over HTTP, and judges only what a browser or the database's
public models would show. None calls the app's internals, so a council's
backend subclass, middleware and templates are all in the path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import override_settings
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from scotaccount_django.attributes import get_verified_attributes
from scotaccount_django_testing.selftest.site import Browser, Site, expect

ADDRESS = "scotaccount.address"
EMAIL = "scotaccount.email"
ATTRIBUTES = "scotaccount:attributes"
#: ``next`` values that must never take anyone off the site (forms listed under H1).
OPEN_REDIRECTS = ("https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil")
#: ``LOGOUT_REDIRECT_URL`` while G5 runs: only a genuine post-logout return may go there.
SIGNED_OUT_MARKER = "/scotaccount-selftest/signed-out/"
#: The session lifetime the catalogue requires (G2), and one second more.
FOUR_HOURS_AND_A_SECOND = 4 * 3600 + 1


@dataclass(frozen=True)
class Check:
    """One scenario: its catalogue id, a title, and the one line a reviewer reads."""

    id: str
    title: str
    explanation: str
    run: Callable[[Site], None]


def _refused(site: Site, browser: Browser, what: str) -> None:
    """The browser is not signed in, and the hostile token did reach the project."""
    expect(site.tokens_issued() > 0, f"inconclusive: the {what} never reached the project")
    expect(not browser.is_signed_in(), f"the project signed the browser in with {what}")


def _id_token_fault(fault: str, what: str) -> Callable[[Site], None]:
    def run(site: Site) -> None:
        site.fake.scenarios.add(fault)
        browser = site.browser()
        site.sign_in(browser)
        _refused(site, browser, what)

    return run


def _sign_in_works(site: Site) -> None:
    browser = site.signed_in()
    expect(browser.get(site.after_sign_in).status_code < 500, "the page after sign-in failed")


def _replayed_callback(site: Site) -> None:
    browser = site.browser()
    callback = site.at_scotaccount(site.start(browser))
    browser.visit(callback)
    expect(browser.is_signed_in(), "the ordinary sign-in did not sign in")
    # The same browser, signed out (its session cookie gone, its flow cookie kept): replay.
    del browser.cookies[settings.SESSION_COOKIE_NAME]
    _not_exchanged(site, lambda: browser.visit(callback), "a replayed callback")
    expect(not browser.is_signed_in(), "a replayed callback signed the browser in again")


def _not_exchanged(site: Site, visit: Callable[[], object], what: str) -> None:
    """``visit`` sends no code to the token endpoint: the project refused it by itself.

    ScotAccount's codes are single-use, so a replay would fail there anyway; a
    project that sends it on has lost its own defence.
    """
    before = len(site.fake.journal.for_endpoint("token"))
    visit()
    expect(
        len(site.fake.journal.for_endpoint("token")) == before,
        f"{what} was sent on to ScotAccount's token endpoint (only the provider stopped it)",
    )


def _another_browser(site: Site) -> None:
    attacker = site.browser()
    callback = site.at_scotaccount(site.start(attacker), persona="seonaid")
    victim = site.signed_in("morag")
    victim_user = victim.session.get(SESSION_KEY)
    _not_exchanged(site, lambda: victim.visit(callback), "a callback from another browser")
    expect(
        victim.session.get(SESSION_KEY) == victim_user,
        "a callback started in another browser changed who this browser is signed in as",
    )
    fresh = site.browser()
    fresh.visit(callback)
    expect(not fresh.is_signed_in(), "a callback started in another browser signed it in")


def _open_next(site: Site) -> None:
    for target in OPEN_REDIRECTS:
        browser = site.browser()
        response = site.sign_in(browser, next=target)
        expect(browser.is_signed_in(), f"inconclusive: a sign-in with next={target!r} failed")
        location = response.get("Location", "")
        expect(
            url_has_allowed_host_and_scheme(location, allowed_hosts={site.host}),
            f"next={target!r} sent the signed-in person to {location!r}",
        )


def _never_merged(site: Site) -> None:
    browser = site.signed_in("morag")
    first = browser.session.get(SESSION_KEY)
    response = site.sign_in(browser, persona="seonaid")
    expect(
        browser.session.get(SESSION_KEY) != first,
        "a sign-in finished as another person left the browser in the first person's "
        f"account (the callback answered {response.status_code})",
    )


def _step_up(site: Site, browser: Browser, scopes: list[str]) -> None:
    authorize = site.start(browser, ATTRIBUTES, scope=scopes, next=site.after_sign_in)
    browser.visit(site.at_scotaccount(authorize))


def _user(browser: Browser) -> object:
    return get_user_model()._default_manager.get(pk=browser.session[SESSION_KEY])


def _claims_fault(fault: str, what: str) -> Callable[[Site], None]:
    def run(site: Site) -> None:
        browser = site.signed_in()
        site.fake.scenarios.add(fault)
        _step_up(site, browser, [ADDRESS])
        expect(
            site.fake.journal.for_endpoint("attributes") != [],
            f"inconclusive: the {what} never reached the project",
        )
        held = get_verified_attributes(_user(browser))  # type: ignore[arg-type]
        expect(not held, f"the project stored attributes from {what}: {sorted(held)}")

    return run


def _not_re_requested(site: Site) -> None:
    browser = site.signed_in()
    _step_up(site, browser, [ADDRESS])
    held = get_verified_attributes(_user(browser))  # type: ignore[arg-type]
    expect(ADDRESS in held, "an ordinary step-up for the address did not store it")
    authorize = site.start(browser, ATTRIBUTES, scope=[ADDRESS, EMAIL], next=site.after_sign_in)
    scopes = parse_qs(urlsplit(authorize).query).get("scope", [""])[0].split()
    expect(ADDRESS not in scopes, f"a step-up asked ScotAccount again for a held scope: {scopes}")
    again = browser.get(reverse(ATTRIBUTES), {"scope": ADDRESS, "next": site.after_sign_in})
    expect(
        not again.get("Location", "").startswith(site.fake.issuer),
        "a step-up for nothing but held scopes went to ScotAccount",
    )


def _four_hours(site: Site) -> None:
    browser = site.signed_in()
    with time_machine.travel(time.time() + FOUR_HOURS_AND_A_SECOND, tick=False):
        # A page that needs the signed-in person (sessions may be checked when first read).
        browser.get(reverse(ATTRIBUTES), {"scope": EMAIL, "next": site.after_sign_in})
    expect(not browser.is_signed_in(), "the session was still signed in after 4 hours")


def _logout_state(site: Site) -> None:
    with override_settings(LOGOUT_REDIRECT_URL=SIGNED_OUT_MARKER):
        browser = site.signed_in()
        response = browser.post(reverse("scotaccount:logout"))
        expect(not browser.is_signed_in(), "logout did not end the session here")
        location = response.get("Location", "")
        expect(
            location.startswith(site.fake.end_session_endpoint),
            f"logout did not go on to ScotAccount's end-session endpoint ({response.status_code})",
        )
        state = parse_qs(urlsplit(location).query).get("state", [""])[0]
        expect(len(state) >= 22, "logout sent ScotAccount no unguessable state")
        other = site.signed_in("seonaid")
        for which, value in (("a forged", "forged"), ("another browser's", state)):
            returned = other.get(reverse("scotaccount:logged_out"), {"state": value})
            expect(
                returned.get("Location") != SIGNED_OUT_MARKER and other.is_signed_in(),
                f"a post-logout return with {which} state was taken for a genuine one",
            )
        genuine = browser.get(reverse("scotaccount:logged_out"), {"state": state})
        expect(
            genuine.get("Location") == SIGNED_OUT_MARKER,
            "inconclusive: the genuine post-logout return did not reach LOGOUT_REDIRECT_URL",
        )
        again = browser.get(reverse("scotaccount:logged_out"), {"state": state})
        expect(again.get("Location") != SIGNED_OUT_MARKER, "a logout state was accepted twice")


def _front_channel(site: Site) -> None:
    morag = site.signed_in("morag")
    sid = site.fake.journal.last("token").issued["sid"]
    seonaid = site.signed_in("seonaid")
    url = reverse("scotaccount:frontchannel_logout")
    site.browser().get(url, {"iss": site.fake.issuer, "sid": "not-a-sid-it-issued"})
    expect(morag.is_signed_in(), "a front-channel logout with an unknown sid ended a session")
    site.browser().get(url, {"iss": "https://evil.example", "sid": sid})
    expect(morag.is_signed_in(), "a front-channel logout from another issuer ended a session")
    site.browser().get(url, {"iss": site.fake.issuer, "sid": sid})
    expect(not morag.is_signed_in(), "ScotAccount's front-channel logout did not end the session")
    expect(seonaid.is_signed_in(), "a front-channel logout ended someone else's session too")


CHECKS: list[Check] = [
    Check(
        "D1",
        "A normal sign-in works (positive control)",
        "An untampered sign-in must succeed, or no refusal below means anything.",
        _sign_in_works,
    ),
    Check(
        "D2",
        "Forged ID token",
        "An ID token whose signature bytes were altered must be refused.",
        _id_token_fault("id_token_bad_signature", "an ID token with a forged signature"),
    ),
    Check(
        "D3",
        "Unsigned ID token (alg none)",
        "An ID token with `alg: none` and no signature must be refused.",
        _id_token_fault("id_token_alg_none", "an unsigned ID token"),
    ),
    Check(
        "D4",
        "Algorithm confusion (HS256 keyed with the public key)",
        "An ID token HMAC-signed with ScotAccount's public key must be refused.",
        _id_token_fault("id_token_hs256_public_key", "an HS256 ID token keyed with a public key"),
    ),
    Check(
        "D6",
        "Wrong issuer",
        "An ID token whose `iss` is not exactly ScotAccount's must be refused.",
        _id_token_fault("id_token_wrong_iss", "an ID token from the wrong issuer"),
    ),
    Check(
        "D7",
        "Wrong audience",
        "An ID token issued to another client must be refused.",
        _id_token_fault("id_token_wrong_aud", "an ID token for another client"),
    ),
    Check(
        "D9",
        "Expired ID token",
        "An ID token that expired an hour ago must be refused.",
        _id_token_fault("id_token_expired", "an expired ID token"),
    ),
    Check(
        "D12",
        "Wrong nonce",
        "An ID token whose `nonce` is not this flow's must be refused (token injection).",
        _id_token_fault("id_token_wrong_nonce", "an ID token with another flow's nonce"),
    ),
    Check(
        "B3",
        "Callback from another browser (login CSRF)",
        "A callback started in the attacker's browser must not sign anyone in elsewhere.",
        _another_browser,
    ),
    Check(
        "B4",
        "Replayed callback",
        "A callback URL used once must not sign anyone in a second time.",
        _replayed_callback,
    ),
    Check(
        "H1",
        "Open `next` redirect",
        "`next` pointing off the site must never be followed after sign-in.",
        _open_next,
    ),
    Check(
        "K3",
        "A sign-in finished as someone else",
        "A flow started by one person and finished as another must never leave the second "
        "in the first's account (catches a linking hook that trusts `request.user`).",
        _never_merged,
    ),
    Check(
        "F4",
        "claimsToken for another person",
        "Verified attributes whose `sub` is another person's must be discarded.",
        _claims_fault("claims_wrong_sub", "a claimsToken for another person"),
    ),
    Check(
        "F2",
        "Tampered claimsToken",
        "A claimsToken whose signature does not verify must be discarded unread.",
        _claims_fault("claims_bad_signature", "a tampered claimsToken"),
    ),
    Check(
        "A1",
        "Attributes re-requested",
        "A step-up must ask ScotAccount only for attributes not already held.",
        _not_re_requested,
    ),
    Check(
        "G2",
        "4-hour session lifetime",
        "A session must end 4 hours after sign-in, whatever the person does.",
        _four_hours,
    ),
    Check(
        "G5",
        "Logout `state`",
        "Logout sends a fresh state; a return with a forged, foreign or used state is not "
        "taken for a genuine one.",
        _logout_state,
    ),
    Check(
        "FCL",
        "Front-channel logout",
        "ScotAccount's front-channel logout ends exactly the session its `sid` names.",
        _front_channel,
    ),
]
