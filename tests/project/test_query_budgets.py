"""Database trips per request, as pytest-django counts them: budgets that fail when exceeded.

Counted inside the test's transaction, so every SAVEPOINT and RELEASE counts.
Not timed: a budget is a number of queries, deterministic. The figures in
``docs/design.md`` are from PostgreSQL (``SCOTACCOUNT_TEST_DB=postgres``);
SQLite counts the same statements.

Each budget is stated twice: with the cache session engine (only this app's
and ``django.contrib.auth``'s queries), and with the database session engine,
which adds Django's own session statements (a new session key: 4, saving it
again at the end of the request: 3, loading it: 1).
"""

from __future__ import annotations

import pytest

from tests.attributes.helpers import ALL_SCOPES, start_step_up
from tests.flow_helpers import complete, return_to_app, signed_in_client, start_flow

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.attributes.urls")]

#: Queries per request, by session engine; each is the most the request may run.
BUDGETS = {
    "cache": {"returning": 10, "first": 12, "step_up": 13, "logout": 2, "page": 2},
    "db": {"returning": 15, "first": 19, "step_up": 23, "logout": 9, "page": 3},
}


@pytest.fixture(params=sorted(BUDGETS))
def budget(request, settings):
    """The budgets for one session engine, with that engine in use."""
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    return BUDGETS[request.param]


def test_returning_sign_in_callback(
    client, fake_scotaccount, django_assert_max_num_queries, budget
):
    signed_in_client(client, fake_scotaccount)
    client.logout()
    location = fake_scotaccount.complete_authorization(start_flow(client), persona="morag")
    with django_assert_max_num_queries(budget["returning"]):
        response = return_to_app(client, location)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")


def test_first_sign_in_callback(client, fake_scotaccount, django_assert_max_num_queries, budget):
    location = fake_scotaccount.complete_authorization(start_flow(client), persona="morag")
    with django_assert_max_num_queries(budget["first"]):
        response = return_to_app(client, location)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")


def test_step_up_callback(client, fake_scotaccount, django_assert_max_num_queries, budget):
    signed_in_client(client, fake_scotaccount)
    location = fake_scotaccount.complete_authorization(
        start_step_up(client, ALL_SCOPES), persona="morag"
    )
    with django_assert_max_num_queries(budget["step_up"]):
        response = return_to_app(client, location)
    assert response.status_code == 302
    assert client.get("/every-accessor/").status_code == 200


def test_logout(client, fake_scotaccount, django_assert_max_num_queries, budget):
    signed_in_client(client, fake_scotaccount)
    with django_assert_max_num_queries(budget["logout"]):
        response = client.post("/scotaccount/logout/")
    assert response.status_code == 302
    assert not client.session.get("_auth_user_id")


def test_protected_page_with_attributes_held(
    client, fake_scotaccount, django_assert_max_num_queries, budget
):
    signed_in_client(client, fake_scotaccount)
    complete(client, fake_scotaccount, start_step_up(client, ALL_SCOPES))
    client.get("/every-accessor/")  # the session's first read after sign-in settles here
    with django_assert_max_num_queries(budget["page"]):
        response = client.get("/every-accessor/")
    assert response.content == b"12 values"


def test_a_page_asking_about_scopes_not_all_held_reads_each_table_once(
    client, fake_scotaccount, django_assert_max_num_queries, budget
):
    """Session, user, attributes, past answers: however many accessors, held or not."""
    from scotaccount_django import attributes

    signed_in_client(client, fake_scotaccount)
    complete(client, fake_scotaccount, start_step_up(client, [attributes.ADDRESS]))
    client.get("/signed-in/")  # the session's first read after sign-in settles here
    with django_assert_max_num_queries(budget["page"] + 1):
        response = client.get("/every-accessor-unheld/")
    assert response.status_code == 200
