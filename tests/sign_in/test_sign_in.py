"""The complete sign-in through the fake ScotAccount, and every way it must refuse."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import OperationalError, connection
from django.test import Client

from scotaccount_django._internal import sessions
from scotaccount_django.models import ScotAccountIdentity, ScotAccountSession
from tests.flow_helpers import complete, pending_flows, return_to_app, sign_in, start_flow

# any_user_model: `make test` runs these with tests.settings_custom_user as well.
pytestmark = [pytest.mark.django_db, pytest.mark.any_user_model]

User = get_user_model()


def count(fake, endpoint: str) -> int:
    return len(fake.journal.for_endpoint(endpoint))


def assert_signed_out(client: Client) -> None:
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()


def test_i1_sign_in_creates_user_keyed_on_sub(
    client, fake_scotaccount, django_capture_on_commit_callbacks
) -> None:
    received = []

    def receiver(**kwargs) -> None:
        received.append(kwargs)

    user_logged_in.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = sign_in(client, fake_scotaccount, "morag")
    finally:
        user_logged_in.disconnect(receiver)
    assert response.status_code == 302
    assert response["Location"] == "/signed-in/"
    identity = ScotAccountIdentity.objects.get()
    assert identity.sub == uuid.UUID(fake_scotaccount.personas["morag"].sub)
    assert identity.issuer == fake_scotaccount.issuer
    assert client.session["_auth_user_id"] == str(identity.user.pk)
    assert "morag" not in str(identity.user.get_username()).lower()
    assert not identity.user.has_usable_password()
    issued = fake_scotaccount.journal.last("token").issued
    row = ScotAccountSession.objects.get()  # front-channel logout finds the session by sid
    assert (row.session_key, row.sid_hash) == (
        client.session.session_key,
        sessions.hash_sid(issued["sid"]),
    )
    assert client.session[sessions.SUB] == str(identity.sub)
    assert client.session[sessions.ID_TOKEN].count(".") == 2
    # The absolute lifetime is Django's own expiry, set at sign-in.
    expected = 4 * 3600 + sessions.ENDED_NOTICE.total_seconds()
    assert expected - 60 < client.session.get_expiry_age() <= expected
    assert [kw["user"] for kw in received] == [identity.user]


def test_second_sign_in_finds_the_same_user(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount, "morag")
    sign_in(Client(), fake_scotaccount, "morag")
    assert User.objects.count() == 1
    assert ScotAccountIdentity.objects.count() == 1


def test_different_people_get_different_users(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount, "morag")
    sign_in(Client(), fake_scotaccount, "seonaid")
    assert User.objects.count() == 2


def test_g1_session_key_is_rotated_at_sign_in(client, fake_scotaccount) -> None:
    client.get("/signed-in/")
    session = client.session
    session["marker"] = "before"
    session.save()
    before = session.session_key
    sign_in(client, fake_scotaccount)
    assert client.session.session_key != before


def test_session_key_is_rotated_when_the_same_person_signs_in_again(
    client, fake_scotaccount
) -> None:
    sign_in(client, fake_scotaccount, "morag")
    before = client.session.session_key
    sign_in(client, fake_scotaccount, "morag")
    assert client.session.session_key != before
    assert client.session["_auth_user_id"]


def test_k3_a_tab_completing_as_another_person_starts_a_fresh_session(
    client, fake_scotaccount
) -> None:
    sign_in(client, fake_scotaccount, "morag")
    session = client.session
    session["basket"] = "morag's things"
    session.save()
    sign_in(client, fake_scotaccount, "seonaid")
    assert "basket" not in client.session
    seonaid = ScotAccountIdentity.objects.get(sub=fake_scotaccount.personas["seonaid"].sub)
    assert client.session["_auth_user_id"] == str(seonaid.user_id)


def test_next_is_honoured_when_on_this_site(client, fake_scotaccount) -> None:
    response = sign_in(client, fake_scotaccount, next="/apply/?step=2")
    assert response["Location"] == "/apply/?step=2"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",  # the query's %5C%5Cevil.example, decoded
        "https:evil.example",
        "javascript:alert(1)",
        "\t//evil.example",
        "http://user@evil.example/",
        "/apply/\x00",
        "/apply/\u202e",
    ],
)
def test_h1_next_to_another_site_is_ignored(client, fake_scotaccount, next_url) -> None:
    response = sign_in(client, fake_scotaccount, next=next_url)
    assert response["Location"] == "/signed-in/"


def test_two_tabs_each_return_to_their_own_next(client, fake_scotaccount) -> None:
    first = start_flow(client, next="/one/")
    second = start_flow(client, next="/two/")
    assert complete(client, fake_scotaccount, second)["Location"] == "/two/"
    assert complete(client, fake_scotaccount, first)["Location"] == "/one/"


def test_b11_callback_is_never_cached_nor_leaked_in_referer(client, fake_scotaccount) -> None:
    response = sign_in(client, fake_scotaccount)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_b4_replayed_callback_is_refused_without_a_second_token_call(
    client, fake_scotaccount
) -> None:
    location = fake_scotaccount.complete_authorization(start_flow(client))
    assert return_to_app(client, location).status_code == 302
    # Signed in now: Back or Refresh onto the callback simply carries on.
    replay = return_to_app(client, location)
    assert replay.status_code == 302
    assert replay["Location"] == "/signed-in/"
    assert count(fake_scotaccount, "token") == 1
    # Signed out, the same replay is refused: it never signs anyone in.
    client.post("/scotaccount/logout/")
    replay = return_to_app(client, location)
    assert replay.status_code == 400
    assert "_auth_user_id" not in client.session
    assert count(fake_scotaccount, "token") == 1


def test_b3_callback_in_another_browser_is_refused(client, fake_scotaccount) -> None:
    location = fake_scotaccount.complete_authorization(start_flow(client))
    victim = Client()
    response = return_to_app(victim, location)
    assert response.status_code == 403
    assert "_auth_user_id" not in victim.session
    assert count(fake_scotaccount, "token") == 0


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="in-memory SQLite locks whole tables under concurrent writers; "
    "CI runs this on PostgreSQL (SCOTACCOUNT_TEST_DB=postgres)",
)
def test_same_callback_twice_at_once_signs_in_once(fake_scotaccount, transactional_db) -> None:
    client = Client()
    location = fake_scotaccount.complete_authorization(start_flow(client))
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def callback() -> None:
        barrier.wait()
        try:
            statuses.append(return_to_app(client, location).status_code)
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=callback) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 400]
    assert count(fake_scotaccount, "token") == 1
    assert User.objects.count() == 1


def test_b1_missing_state_is_refused_before_any_token_call(client, fake_scotaccount) -> None:
    start_flow(client)
    response = client.get("/scotaccount/callback/", {"code": "abc"})
    assert response.status_code == 400
    assert count(fake_scotaccount, "token") == 0
    assert len(pending_flows(client)) == 1


@pytest.mark.parametrize(
    "query",
    [
        "code=a&code=b&state=s",
        "code=a&state=s&state=t",
        "code=" + "a" * 5000 + "&state=s",
        "error=access_denied&error=invalid_request&state=s",
    ],
    ids=["two-codes", "two-states", "oversized", "two-errors"],
)
def test_b9_malformed_callback_is_a_clean_400(client, fake_scotaccount, query) -> None:
    response = client.get(f"/scotaccount/callback/?{query}")
    assert response.status_code == 400
    assert count(fake_scotaccount, "token") == 0


def test_code_and_error_together_are_refused_and_state_consumed(client, fake_scotaccount) -> None:
    location = fake_scotaccount.complete_authorization(start_flow(client))
    response = return_to_app(client, location + "&error=access_denied")
    assert response.status_code == 400
    assert count(fake_scotaccount, "token") == 0
    assert return_to_app(client, location).status_code == 400  # spent


@pytest.mark.parametrize(
    ("fault", "status", "retry"),
    [
        ("authorize_access_denied", 200, True),
        ("authorize_account_selection_required", 200, True),
        ("authorize_temporarily_unavailable", 503, True),
        ("authorize_server_error", 503, True),
        ("authorize_invalid_request", 502, False),
        ("authorize_invalid_scope", 502, False),
        ("authorize_invalid_claims", 502, False),
        ("authorize_invalid_dis_prompt", 502, False),
        ("authorize_unsupported_response_type", 502, False),
        ("authorize_unknown_error", 400, True),
    ],
)
def test_b7_each_documented_error_gets_a_fitting_page(
    client, fake_scotaccount, fault, status, retry
) -> None:
    fake_scotaccount.scenarios.add(fault)
    response = complete(client, fake_scotaccount, start_flow(client))
    assert response.status_code == status
    assert ('data-testid="scotaccount-retry"' in response.content.decode()) is retry
    assert_signed_out(client)
    assert pending_flows(client) == []  # consumed on the error branch too
    assert count(fake_scotaccount, "token") == 0


def test_cancelled_sign_in_offers_to_try_again(client, fake_scotaccount) -> None:
    location = fake_scotaccount.complete_authorization(start_flow(client), cancel=True)
    response = return_to_app(client, location)
    assert response.status_code == 200
    assert b"Try signing in again" in response.content


def test_b8_error_description_is_never_reflected(client, fake_scotaccount, caplog) -> None:
    fake_scotaccount.scenarios.add("authorize_description_markup")
    response = complete(client, fake_scotaccount, start_flow(client))
    body = response.content.decode()
    assert "<script>" not in body
    assert "Set-Cookie" not in body
    assert "injected" not in response.cookies


def test_b10_iss_on_the_callback_must_be_our_issuer(client, fake_scotaccount) -> None:
    location = fake_scotaccount.complete_authorization(start_flow(client))
    response = return_to_app(client, location + "&iss=https%3A%2F%2Fevil.example")
    assert response.status_code == 502
    assert count(fake_scotaccount, "token") == 0
    assert_signed_out(client)


def test_iss_on_the_callback_matching_our_issuer_is_fine(client, fake_scotaccount) -> None:
    from urllib.parse import quote

    location = fake_scotaccount.complete_authorization(start_flow(client))
    response = return_to_app(client, location + "&iss=" + quote(fake_scotaccount.issuer))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "table", ["scotaccount_scotaccountidentity", "scotaccount_scotaccountsession"]
)
def test_j5_database_failure_mid_callback_is_a_page_and_leaves_nothing_half_written(
    client, fake_scotaccount, table
) -> None:
    def fail_identity_insert(execute, sql, params, many, context):
        if sql.startswith("INSERT") and table in sql:
            raise OperationalError("disk full")
        return execute(sql, params, many, context)

    authorize_url = start_flow(client)
    location = fake_scotaccount.complete_authorization(authorize_url)
    with connection.execute_wrapper(fail_identity_insert):
        response = return_to_app(client, location)
    assert response.status_code == 503
    assert b"Something went wrong on our side" in response.content
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()
    assert not ScotAccountIdentity.objects.exists()
