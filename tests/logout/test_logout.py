"""Logout and the return from ScotAccount (SECURITY G3, G4, G5)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import Client

from scotaccount_django._internal import flows, sessions
from scotaccount_django.models import ScotAccountSession
from tests.flow_helpers import return_to_app, session_sid, signed_in_client

pytestmark = pytest.mark.django_db

LOGOUT = "/scotaccount/logout/"
LOGGED_OUT = "/scotaccount/logged-out/"
SIGNED_OUT_PAGE = b'data-testid="scotaccount-logged-out-title"'
UNREACHABLE = b'data-testid="scotaccount-logout-unreachable"'
STILL_SIGNED_IN = b'data-testid="scotaccount-still-signed-in"'
# Said only once ScotAccount's return has proved it signed the person out.
SCOTACCOUNT_CONFIRMED = b'data-testid="scotaccount-signed-out-of-scotaccount"'


@pytest.fixture
def person(fake_scotaccount):
    return signed_in_client(Client(enforce_csrf_checks=True), fake_scotaccount)


@pytest.fixture
def sign_outs():
    received = []

    def receiver(sender, request, user, **kwargs):
        received.append(getattr(user, "pk", None))

    user_logged_out.connect(receiver)
    yield received
    user_logged_out.disconnect(receiver)


def csrf_token(client):
    """The token from the confirm page's form, as a browser would submit it."""
    page = client.get(LOGOUT)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert match
    return match.group(1).decode()


def log_out(client):
    return client.post(LOGOUT, {"csrfmiddlewaretoken": csrf_token(client)})


def is_signed_in(client):
    return client.get("/signed-in/").content == b"signed in: True"


def test_get_only_asks_to_confirm(person):
    response = person.get(LOGOUT)
    assert response.status_code == 200
    assert b'data-testid="scotaccount-logout-submit"' in response.content
    assert b'method="post"' in response.content
    assert is_signed_in(person)


def test_g3_post_without_csrf_is_refused(person):
    response = person.post(LOGOUT)
    assert response.status_code == 403
    assert is_signed_in(person)


def test_post_with_a_foreign_csrf_token_is_refused(person, fake_scotaccount):
    other = signed_in_client(Client(enforce_csrf_checks=True), fake_scotaccount, "seonaid")
    response = person.post(LOGOUT, {"csrfmiddlewaretoken": csrf_token(other)})
    assert response.status_code == 403
    assert is_signed_in(person)


def test_g4_logout_redirects_to_scotaccount_with_exactly_the_three_parameters(
    person, fake_scotaccount, settings, sign_outs, django_capture_on_commit_callbacks
):
    id_token = person.session[sessions.ID_TOKEN]
    old_key = person.session.session_key
    user_pk = get_user_model().objects.get().pk
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        response = log_out(person)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        fake_scotaccount.end_session_endpoint
    )
    params = parse_qs(location.query, strict_parsing=True)
    assert sorted(params) == ["id_token_hint", "post_logout_redirect_uri", "state"]
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == [settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI]
    assert len(params["state"][0]) >= 43
    assert response["Cache-Control"] == "no-store"
    # The local session is gone before the browser is even sent to ScotAccount.
    assert not SessionStore().exists(old_key)
    assert not ScotAccountSession.objects.filter(session_key=old_key).exists()
    assert not is_signed_in(person)
    assert sign_outs == [user_pk]


def test_every_logout_gets_a_fresh_state(fake_scotaccount):
    states = set()
    for _ in range(2):
        client = signed_in_client(Client(), fake_scotaccount)
        location = client.post(LOGOUT)["Location"]
        states.update(parse_qs(urlsplit(location).query)["state"])
    assert len(states) == 2


def test_without_an_id_token_logout_ends_locally(
    client, sign_outs, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.create_user("staff", password="x")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOGOUT)
    assert response.status_code == 200
    assert SIGNED_OUT_PAGE in response.content
    assert UNREACHABLE not in response.content
    assert SCOTACCOUNT_CONFIRMED not in response.content  # never signed in there
    assert not is_signed_in(client)
    assert sign_outs == [user.pk]


def test_without_an_id_token_logout_goes_to_logout_redirect_url(client, settings):
    settings.LOGOUT_REDIRECT_URL = "/goodbye/"
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == "/goodbye/"


def test_scotaccount_unreachable_still_signs_out_here(person, fake_scotaccount, settings):
    settings.LOGOUT_REDIRECT_URL = "/goodbye/"
    cache.clear()  # cold cache: no stale discovery copy to fall back on
    fake_scotaccount.scenarios.add("discovery_http_503", times=None)
    response = log_out(person)
    assert response.status_code == 200
    assert UNREACHABLE in response.content
    assert not is_signed_in(person)


def test_missing_post_logout_redirect_uri_skips_scotaccount_outside_debug(person, settings):
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = None
    response = log_out(person)
    assert response.status_code == 200
    assert UNREACHABLE in response.content
    assert not is_signed_in(person)


def test_in_debug_the_post_logout_redirect_uri_is_derived(person, settings):
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = None
    settings.DEBUG = True
    location = log_out(person)["Location"]
    params = parse_qs(urlsplit(location).query)
    assert params["post_logout_redirect_uri"] == ["http://testserver/scotaccount/logged-out/"]


def logout_state(client):
    """Log ``client`` out; return the state it sent to ScotAccount."""
    location = client.post(LOGOUT)["Location"]
    return parse_qs(urlsplit(location).query)["state"][0]


@pytest.fixture
def logging_out(fake_scotaccount):
    """A browser that has been sent to ScotAccount to log out, and its state."""
    client = signed_in_client(Client(), fake_scotaccount)
    return client, logout_state(client)


def test_return_with_the_right_state(logging_out):
    client, state = logging_out
    response = client.get(LOGGED_OUT, {"state": state})
    assert response.status_code == 200
    assert SIGNED_OUT_PAGE in response.content
    assert SCOTACCOUNT_CONFIRMED in response.content
    assert flows.LOGOUT_STATE_HASH not in client.session
    # Consumed: the same return cannot be replayed.
    assert client.get(LOGGED_OUT, {"state": state}).status_code == 200
    assert flows.LOGOUT_STATE_HASH not in client.session


def test_return_with_the_right_state_goes_to_logout_redirect_url(logging_out, settings):
    settings.LOGOUT_REDIRECT_URL = "/goodbye/"
    client, state = logging_out
    response = client.get(LOGGED_OUT, {"state": state})
    assert response.status_code == 302
    assert response["Location"] == "/goodbye/"


@pytest.mark.parametrize(
    "query",
    [{}, {"state": ""}, {"state": "forged"}, {"state": "x" * 5000}],
    ids=["missing", "empty", "forged", "oversized"],
)
def test_g5_return_without_the_right_state_changes_nothing(logging_out, settings, query):
    settings.LOGOUT_REDIRECT_URL = "/goodbye/"
    client, state = logging_out
    pending = dict(client.session)
    response = client.get(LOGGED_OUT, query)
    assert response.status_code == 200  # no redirect anywhere
    assert SCOTACCOUNT_CONFIRMED not in response.content  # nothing proves it
    assert dict(client.session) == pending  # the real return still works
    assert client.get(LOGGED_OUT, {"state": state})["Location"] == "/goodbye/"


def test_return_with_another_browsers_state_changes_nothing(
    logging_out, fake_scotaccount, settings
):
    settings.LOGOUT_REDIRECT_URL = "/goodbye/"
    client, state = logging_out
    other = signed_in_client(Client(), fake_scotaccount, "seonaid")
    foreign_state = logout_state(other)
    response = client.get(LOGGED_OUT, {"state": foreign_state})
    assert response.status_code == 200
    assert client.get(LOGGED_OUT, {"state": state})["Location"] == "/goodbye/"
    assert other.get(LOGGED_OUT, {"state": foreign_state})["Location"] == "/goodbye/"


def test_a_direct_visit_does_not_claim_a_scotaccount_sign_out(client):
    response = client.get(LOGGED_OUT)
    assert response.status_code == 200
    assert SIGNED_OUT_PAGE in response.content
    assert SCOTACCOUNT_CONFIRMED not in response.content


def test_duplicated_state_is_not_accepted(logging_out):
    client, state = logging_out
    response = client.get(f"{LOGGED_OUT}?state={state}&state={state}")
    assert response.status_code == 200
    assert flows.LOGOUT_STATE_HASH in client.session


def test_a_signed_in_person_is_not_told_they_signed_out(fake_scotaccount):
    client = signed_in_client(Client(), fake_scotaccount)
    response = client.get(LOGGED_OUT, {"state": "forged"})
    assert response.status_code == 200
    assert STILL_SIGNED_IN in response.content
    assert SIGNED_OUT_PAGE not in response.content
    assert is_signed_in(client)


def test_round_trip_through_scotaccount(person, fake_scotaccount, settings):
    """Sign in -> logout -> ScotAccount's /authorize/logout -> back to logged-out."""
    sid = session_sid(person.session)
    response = log_out(person)
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    at_scotaccount = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert at_scotaccount.status_code == 302
    back = at_scotaccount.headers["Location"]
    assert back == f"{settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI}?state={state}"
    assert fake_scotaccount.journal.last("logout").failed_rules == []
    assert fake_scotaccount.journal.last("logout").issued == {"sid": sid}
    final = return_to_app(person, back)
    assert final.status_code == 200
    assert SIGNED_OUT_PAGE in final.content
    assert UNREACHABLE not in final.content
    assert not is_signed_in(person)
