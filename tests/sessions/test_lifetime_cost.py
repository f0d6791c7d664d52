"""SessionLifetimeMiddleware: free without a session; with one, no query beyond Django's own."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.urls import path

from scotaccount_django._internal import sessions
from tests import urls
from tests.flow_helpers import signed_in_client

FOUR_HOURS = 4 * 3600


def untouched(request: HttpRequest) -> HttpResponse:
    return HttpResponse("static")


def session_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"sub: {request.session.get(sessions.SUB)}")


urlpatterns = [
    *urls.urlpatterns,
    path("untouched/", untouched),
    path("session-only/", session_only),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def person(client, fake_scotaccount, frozen_clock):
    return signed_in_client(client, fake_scotaccount)


def test_a_request_without_a_session_cookie_costs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/untouched/")
    assert response.content == b"static"


def test_a_signed_in_page_costs_no_query_beyond_the_session_and_the_user(
    person, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the session, then the user: as without the middleware
        response = person.get("/signed-in/")
    assert response.content == b"signed in: True"


def test_an_expired_session_is_ended_when_a_page_reads_it(person, frozen_clock):
    key = person.session.session_key
    frozen_clock.shift(FOUR_HOURS + 1)
    response = person.get("/session-only/")
    assert response.status_code == 302
    assert response["Location"].startswith("/scotaccount/session-ended/?reason=lifetime")
    assert not SessionStore().exists(key)


def test_an_expired_session_is_ended_before_any_view_sees_it(person, frozen_clock):
    key = person.session.session_key
    frozen_clock.shift(FOUR_HOURS + 1)
    response = person.get("/untouched/")
    assert response["Location"].startswith("/scotaccount/session-ended/?reason=lifetime")
    assert not SessionStore().exists(key)
