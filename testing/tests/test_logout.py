"""/authorize/logout: signed id_token_hint (expiry tolerated), registered URI, state echoed."""

from __future__ import annotations

import jwt
import requests

from testing.tests.support import (
    LOGOUT_URI,
    TIMEOUT,
    Flow,
    fake_fixture,
    make_fake,
    tokens_for,
)

fake = fake_fixture()


def logout(fake, **params):
    return requests.get(
        fake.end_session_endpoint,
        params={name: value for name, value in params.items() if value is not None},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def test_state_is_echoed_and_the_session_ends(fake):
    id_token = tokens_for(fake, Flow())["id_token"]
    response = logout(
        fake, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URI, state="s1"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOGOUT_URI}?state=s1"
    sid = jwt.decode(id_token, options={"verify_signature": False})["sid"]
    assert fake.journal.last("logout").issued == {"sid": sid}


def test_expired_hint_is_tolerated(fake):
    id_token = tokens_for(fake, Flow())["id_token"]
    fake.clock.advance(3600)
    response = logout(fake, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URI)
    assert response.status_code == 302
    assert response.headers["Location"] == LOGOUT_URI


def test_without_a_return_uri_a_signed_out_page_is_shown(fake):
    response = logout(fake, id_token_hint=tokens_for(fake, Flow())["id_token"])
    assert response.status_code == 200
    assert 'data-testid="signed-out"' in response.text


def test_unregistered_return_uri_is_refused(fake):
    id_token = tokens_for(fake, Flow())["id_token"]
    response = logout(
        fake, id_token_hint=id_token, post_logout_redirect_uri="http://evil.example/"
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "logout.post_logout_redirect_uri" in fake.journal.last("logout").failed_rules


def test_missing_hint_is_refused(fake):
    response = logout(fake, post_logout_redirect_uri=LOGOUT_URI)
    assert response.status_code == 400
    assert fake.journal.last("logout").failed_rules == ["logout.id_token_hint_present"]


def test_forged_hint_is_refused(fake):
    id_token = tokens_for(fake, Flow())["id_token"]
    head, payload, signature = id_token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    response = logout(fake, id_token_hint=forged, post_logout_redirect_uri=LOGOUT_URI)
    assert response.status_code == 400
    assert fake.journal.last("logout").failed_rules == ["logout.id_token_hint_signature"]


def test_hint_from_another_provider_is_refused(fake):
    with make_fake() as other:
        foreign = tokens_for(other, Flow())["id_token"]
    response = logout(fake, id_token_hint=foreign, post_logout_redirect_uri=LOGOUT_URI)
    assert response.status_code == 400
