"""SessionLifetimeMiddleware: 4 hours from sign-in, whatever the person does (SECURITY G2, G6)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient

from scotaccount_django._internal import sessions
from scotaccount_django.middleware import SessionLifetimeMiddleware
from scotaccount_django.models import ScotAccountSession
from tests.flow_helpers import complete, signed_in_client, start_flow

pytestmark = pytest.mark.django_db

PAGE = "/signed-in/?tab=2"
LOGIN = "/scotaccount/login/"
SESSION_ENDED = "/scotaccount/session-ended/"
FOUR_HOURS = 4 * 3600
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def person(client, fake_scotaccount, frozen_clock):
    return signed_in_client(client, fake_scotaccount)


@pytest.fixture
def expiries():
    received = []

    def receiver(sender, request, user, **kwargs):
        received.append((getattr(request, sessions.ENDED, None), getattr(user, "pk", None)))

    user_logged_out.connect(receiver)
    yield received
    user_logged_out.disconnect(receiver)


def is_signed_in(response):
    return response.status_code == 200 and response.content == b"signed in: True"


def assert_sent_to_sign_in(response, next_url=None, reason=None):
    """Sent to the "you have been signed out" page, which links to sign in (with ``next``)."""
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == SESSION_ENDED
    query = parse_qs(location.query)
    assert query.get("next") == ([next_url] if next_url else None)
    if reason:
        assert query["reason"] == [reason]
    assert response["Cache-Control"] == "no-store"


def test_g2_constant_activity_does_not_extend_the_four_hours(person, frozen_clock, expiries):
    key = person.session.session_key
    for _ in range(47):  # a request every 5 minutes, up to 3:55
        frozen_clock.shift(300)
        assert is_signed_in(person.get(PAGE))
    frozen_clock.shift(4 * 60 + 59)  # 3:59:59
    assert is_signed_in(person.get(PAGE))
    frozen_clock.shift(2)  # 4:00:01
    response = person.get(PAGE)
    assert_sent_to_sign_in(response, next_url=PAGE, reason="lifetime")
    assert not SessionStore().exists(key)
    assert not ScotAccountSession.objects.filter(session_key=key).exists()
    assert "_auth_user_id" not in person.session
    assert expiries == [("lifetime", get_user_model().objects.get().pk)]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_method_is_held_to_the_lifetime(person, frozen_clock, method):
    frozen_clock.shift(FOUR_HOURS + 1)
    response = getattr(person, method)(PAGE)
    # No next: a form submission cannot be replayed after signing in again.
    assert_sent_to_sign_in(response)
    assert is_signed_in(person.get("/signed-in/")) is False


def test_head_is_sent_back_with_next(person, frozen_clock):
    frozen_clock.shift(FOUR_HOURS + 1)
    assert_sent_to_sign_in(person.head(PAGE), next_url=PAGE)


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ACCEPT": BROWSER_ACCEPT},
        {"HTTP_ACCEPT": "application/json"},
        {"HTTP_ACCEPT": "application/json, text/plain, */*"},  # axios
        {"HTTP_ACCEPT": "text/html;q=0.5, application/problem+json"},
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_scripts_get_401_json(person, frozen_clock, headers, method):
    frozen_clock.shift(FOUR_HOURS + 1)
    response = getattr(person, method)(PAGE, **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "session_expired", "login_url": LOGIN}
    assert "_auth_user_id" not in person.session


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "*/*", "", "application/json;q=0.1, */*"])
def test_pages_are_redirected(person, frozen_clock, accept):
    frozen_clock.shift(FOUR_HOURS + 1)
    assert_sent_to_sign_in(person.get(PAGE, HTTP_ACCEPT=accept), next_url=PAGE)


def test_a_step_up_does_not_extend_the_lifetime(person, fake_scotaccount, frozen_clock):
    ends = person.session.get_expiry_date()
    frozen_clock.shift(3 * 3600)
    response = complete(person, fake_scotaccount, start_flow(person, "/step-up/"))
    assert response["Location"] == "/signed-in/"
    assert person.session.get_expiry_date() == ends
    frozen_clock.shift(FOUR_HOURS - 3 * 3600 - 1)
    assert is_signed_in(person.get(PAGE))
    frozen_clock.shift(2)
    assert_sent_to_sign_in(person.get(PAGE), next_url=PAGE)


def test_a_fresh_sign_in_starts_a_fresh_lifetime(person, fake_scotaccount, frozen_clock):
    frozen_clock.shift(3 * 3600)
    signed_in_client(person, fake_scotaccount)
    frozen_clock.shift(2 * 3600)
    assert is_signed_in(person.get(PAGE))


def test_shorter_lifetime_in_seconds(person, fake_scotaccount, frozen_clock, settings):
    settings.SCOTACCOUNT_SESSION_LIFETIME = 3600  # fixed at sign-in, as Django's expiry
    signed_in_client(person, fake_scotaccount)
    frozen_clock.shift(3599)
    assert is_signed_in(person.get(PAGE))
    frozen_clock.shift(2)
    assert_sent_to_sign_in(person.get(PAGE), next_url=PAGE)


@pytest.mark.parametrize("idle_timeout", [900, timedelta(minutes=15)])
def test_idle_timeout(person, frozen_clock, settings, expiries, idle_timeout):
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = idle_timeout
    for _ in range(6):  # an hour of requests 10 minutes apart keeps it alive
        frozen_clock.shift(600)
        assert is_signed_in(person.get(PAGE))
    frozen_clock.shift(14 * 60 + 59)
    assert is_signed_in(person.get(PAGE))
    frozen_clock.shift(15 * 60)
    assert_sent_to_sign_in(person.get(PAGE), next_url=PAGE)
    assert [reason for reason, _ in expiries] == ["idle"]


def test_idle_timeout_counts_from_sign_in(person, frozen_clock, settings):
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 900
    frozen_clock.shift(900)
    assert_sent_to_sign_in(person.get(PAGE), next_url=PAGE)


def test_activity_is_written_at_most_once_a_minute(person, frozen_clock, settings):
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 900
    frozen_clock.shift(60)
    person.get(PAGE)
    recorded = person.session[sessions.LAST_ACTIVITY]
    frozen_clock.shift(59)
    response = person.get(PAGE)
    assert person.session[sessions.LAST_ACTIVITY] == recorded
    assert "sessionid" not in response.cookies  # the session was not saved again
    frozen_clock.shift(1)
    person.get(PAGE)
    assert person.session[sessions.LAST_ACTIVITY] == recorded + 60


def test_without_an_idle_timeout_nothing_is_written(person, frozen_clock):
    signed_in_at = person.session[sessions.LAST_ACTIVITY]
    frozen_clock.shift(3600)
    response = person.get(PAGE)
    assert person.session[sessions.LAST_ACTIVITY] == signed_in_at
    assert "sessionid" not in response.cookies


@pytest.fixture
def staff(client, frozen_clock):
    user = get_user_model().objects.create_user("staff", password="x", is_staff=True)
    client.force_login(user)
    return client


def test_other_sessions_are_left_alone(staff, frozen_clock):
    frozen_clock.shift(FOUR_HOURS * 3)
    assert is_signed_in(staff.get(PAGE))
    assert sessions.SUB not in staff.session


def test_anonymous_visitors_get_no_session(client, settings):
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 60
    response = client.get(PAGE)
    assert response.content == b"signed in: False"
    assert "sessionid" not in response.cookies


def test_g6_a_deactivated_users_session_stops_working(person, expiries):
    key = person.session.session_key
    get_user_model().objects.update(is_active=False)
    assert_sent_to_sign_in(person.get(PAGE), next_url=PAGE)
    assert not SessionStore().exists(key)
    assert expiries == [("inactive_user", None)]
    get_user_model().objects.update(is_active=True)
    assert person.get(PAGE).content == b"signed in: False"  # flushed, not just ignored


def test_a_deleted_users_session_stops_working(person, expiries):
    key = person.session.session_key
    get_user_model().objects.all().delete()
    assert_sent_to_sign_in(person.get(PAGE), next_url=PAGE)
    assert not SessionStore().exists(key)
    assert expiries == [("inactive_user", None)]


def test_expired_logout_signs_out_locally_instead_of_detouring(person, frozen_clock):
    frozen_clock.shift(FOUR_HOURS + 1)
    response = person.post("/scotaccount/logout/")
    assert response.status_code == 200
    assert b'data-testid="scotaccount-logged-out-title"' in response.content


def test_expired_sign_in_starts_a_flow_instead_of_looping(person, fake_scotaccount, frozen_clock):
    frozen_clock.shift(FOUR_HOURS + 1)
    response = person.get(LOGIN, {"next": "/signed-in/"})
    assert response.status_code == 302
    assert response["Location"].startswith(fake_scotaccount.issuer)


def test_async_stack(person, frozen_clock):
    async_client = AsyncClient()
    async_client.cookies = person.cookies

    @async_to_sync
    async def get(path: str) -> HttpResponse:
        # Not async_to_sync(async_client.get): Django 4.2's is no coroutine function.
        return await async_client.get(path)

    frozen_clock.shift(FOUR_HOURS - 1)
    assert is_signed_in(get(PAGE))
    frozen_clock.shift(2)
    assert_sent_to_sign_in(get(PAGE), next_url=PAGE)
    assert person.get(PAGE).content == b"signed in: False"  # the same session, flushed


def test_the_middleware_adapts_to_async_and_sync_stacks():
    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    def sync_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    assert iscoroutinefunction(SessionLifetimeMiddleware(async_view))
    assert not iscoroutinefunction(SessionLifetimeMiddleware(sync_view))
