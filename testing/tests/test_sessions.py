"""The fake behaves like ScotAccount to a person: a 4-hour session, redirect after POST, words."""

from __future__ import annotations

import re

import jwt
import pytest
import requests

from scotaccount_django_testing import PERSONAS
from testing.tests.support import (
    LOGOUT_URI,
    TIMEOUT,
    Flow,
    fake_fixture,
    query,
    token_request,
)

fake = fake_fixture()
RAW_SCOPES = ("scotaccount.gpg45.medium", "scotaccount.address", "scotaccount.email")


def request_id(page: str) -> str:
    return page.split('name="request_id" value="')[1].split('"')[0]


def sign_in(fake, browser, flow, persona="morag"):
    """Sign in on the persona page; returns the consent page the 303 leads to."""
    page = browser.get(flow.url(fake), timeout=TIMEOUT)
    assert 'data-testid="sign-in-form"' in page.text
    return browser.post(
        f"{fake.issuer}/authorize/sign-in",
        data={"request_id": request_id(page.text), "persona": persona},
        timeout=TIMEOUT,
    )


def consent(fake, browser, page, **extra):
    return browser.post(
        f"{fake.issuer}/authorize/consent",
        data={"request_id": request_id(page.text), "action": "allow", **extra},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def test_sign_in_form_redirects_after_the_post(fake):
    browser = requests.Session()
    page = browser.get(Flow().url(fake), timeout=TIMEOUT)
    response = browser.post(
        f"{fake.issuer}/authorize/sign-in",
        data={"request_id": request_id(page.text), "persona": "morag"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/authorize/consent?request_id=")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # Reloading the consent page (Back, Refresh) is a plain GET: no resubmission.
    again = browser.get(f"{fake.issuer}{response.headers['Location']}", timeout=TIMEOUT)
    assert again.status_code == 200
    assert 'data-testid="consent-form"' in again.text


def test_a_second_authorize_in_the_same_browser_asks_only_for_consent(fake):
    browser = requests.Session()
    consent(fake, browser, sign_in(fake, browser, Flow(), persona="seonaid"))
    step_up = Flow(scope="openid scotaccount.address")
    page = browser.get(step_up.url(fake), timeout=TIMEOUT)
    assert 'data-testid="sign-in-form"' not in page.text
    assert 'data-testid="consent-form"' in page.text
    assert "Seònaid" in page.text
    assert fake.journal.last("authorize").outcome == "consent page (signed in as seonaid)"
    done = consent(fake, browser, page, release="scotaccount.address")
    assert done.status_code == 302
    assert fake.journal.last("consent").issued["sub"] == PERSONAS["seonaid"].sub
    assert len(fake.journal.for_endpoint("sign_in")) == 1


def test_both_id_tokens_of_one_session_carry_the_same_sid(fake):
    browser = requests.Session()
    sids = []
    for flow in (Flow(), Flow(scope="openid scotaccount.email")):
        page = browser.get(flow.url(fake), timeout=TIMEOUT)
        if 'data-testid="sign-in-form"' in page.text:
            page = browser.post(
                f"{fake.issuer}/authorize/sign-in",
                data={"request_id": request_id(page.text), "persona": "morag"},
                timeout=TIMEOUT,
            )
        code = query(consent(fake, browser, page).headers["Location"])["code"]
        id_token = token_request(fake, code, flow).json()["id_token"]
        sids.append(jwt.decode(id_token, options={"verify_signature": False})["sid"])
    assert sids[0] == sids[1]


def test_the_session_ends_after_four_hours(fake):
    browser = requests.Session()
    consent(fake, browser, sign_in(fake, browser, Flow()))
    fake.clock.advance(4 * 3600 - 60)
    assert 'data-testid="consent-form"' in browser.get(Flow().url(fake), timeout=TIMEOUT).text
    fake.clock.advance(60)
    assert 'data-testid="sign-in-form"' in browser.get(Flow().url(fake), timeout=TIMEOUT).text


def test_logout_ends_the_browser_session(fake):
    browser = requests.Session()
    flow = Flow()
    code = query(consent(fake, browser, sign_in(fake, browser, flow)).headers["Location"])["code"]
    id_token = token_request(fake, code, flow).json()["id_token"]
    browser.get(
        fake.end_session_endpoint,
        params={"id_token_hint": id_token, "post_logout_redirect_uri": LOGOUT_URI},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert 'data-testid="sign-in-form"' in browser.get(Flow().url(fake), timeout=TIMEOUT).text


def test_consent_without_the_session_cookie_is_refused(fake):
    """The person is the session's: a form field cannot make them someone else."""
    browser = requests.Session()
    page = sign_in(fake, browser, Flow(), persona="morag")
    stranger = requests.post(
        f"{fake.issuer}/authorize/consent",
        data={"request_id": request_id(page.text), "persona": "no-address", "action": "allow"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert stranger.status_code == 400
    assert "Location" not in stranger.headers


def test_a_forged_persona_field_is_ignored(fake):
    browser = requests.Session()
    page = sign_in(fake, browser, Flow(), persona="morag")
    consent(fake, browser, page, persona="no-address")
    assert fake.journal.last("consent").issued["sub"] == PERSONAS["morag"].sub


def test_consent_page_without_a_session_shows_the_sign_in_page(fake):
    browser = requests.Session()
    page = browser.get(Flow().url(fake), timeout=TIMEOUT)
    response = requests.get(
        f"{fake.issuer}/authorize/consent",
        params={"request_id": request_id(page.text)},
        timeout=TIMEOUT,
    )
    assert 'data-testid="sign-in-form"' in response.text


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_pages_use_words_people_read(fake, persona):
    browser = requests.Session()
    scope = "openid " + " ".join(RAW_SCOPES)
    sign_in_page = browser.get(Flow(scope=scope).url(fake), timeout=TIMEOUT).text
    consent_page = sign_in(fake, browser, Flow(scope=scope), persona=persona).text
    for page in (sign_in_page, consent_page):
        visible = re.sub(r"<[^>]+>", " ", page)
        assert "`" not in visible
        for scope_name in RAW_SCOPES:
            assert scope_name not in visible
        assert PERSONAS[persona].sub not in visible
    assert "Your address" in consent_page
    # True of every persona, including those whose identity check failed.
    assert "Your name and date of birth, from your identity check" in consent_page


def test_pages_are_accessible_by_construction(fake):
    browser = requests.Session()
    pages = [browser.get(Flow(scope="openid scotaccount.email").url(fake), timeout=TIMEOUT)]
    pages.append(sign_in(fake, browser, Flow(scope="openid scotaccount.email")))
    for response in pages:
        html = response.text
        assert "<main>" in html
        assert 'name="viewport"' in html
        assert 'lang="en-GB"' in html
        assert ":focus{" in html
        for control_id in re.findall(r'<input type="(?:radio|checkbox)"[^>]* id="([^"]+)"', html):
            assert f'<label for="{control_id}">' in html
