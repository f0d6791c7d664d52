"""Catalogue lines (``docs/security.md``) that no other module proves by name.

Each test is named after its catalogue id and drives the real views against
the fake ScotAccount wherever the behaviour crosses HTTP.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.checks import run_checks
from django.test import Client

from scotaccount_django._internal import sessions
from scotaccount_django._internal.flows import hash_secret
from scotaccount_django._internal.jwtkit import verify_id_token
from scotaccount_django.exceptions import InvalidIDToken
from scotaccount_django.models import ScotAccountIdentity
from scotaccount_django_testing import PERSONAS
from tests.attributes.helpers import ALL_SCOPES, step_up
from tests.flow_helpers import (
    LOGIN_PATH,
    complete,
    pending_flows,
    sign_in,
    signed_in_client,
    start_flow,
)

pytestmark = pytest.mark.django_db


def refused(client, fake, fault):
    fake.scenarios.add(fault)
    response = sign_in(client, fake)
    assert response.status_code == 502
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()


def test_d2_bad_signature_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_bad_signature")


def test_d3_alg_none_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_alg_none")


def test_d4_hs256_keyed_with_the_public_key_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_hs256_public_key")


def test_d6_iss_with_a_trailing_slash_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_wrong_iss")


def test_d7_another_clients_aud_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_wrong_aud")


def test_d8_extra_audiences_without_azp_are_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_aud_extra")


@pytest.mark.parametrize("fault", ["id_token_expired", "id_token_missing_exp"])
def test_d9_expired_or_missing_exp_is_refused(client, fake_scotaccount, fault):
    refused(client, fake_scotaccount, fault)


def test_d10_iat_in_the_future_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_iat_future")


@pytest.mark.parametrize("fault", ["id_token_wrong_nonce", "id_token_missing_nonce"])
def test_d12_nonce_mismatch_or_missing_is_refused(client, fake_scotaccount, fault):
    refused(client, fake_scotaccount, fault)


@pytest.mark.parametrize("fault", ["id_token_missing_sub", "id_token_sub_not_uuid"])
def test_d14_sub_missing_or_not_a_uuid_is_refused(client, fake_scotaccount, fault):
    refused(client, fake_scotaccount, fault)


def test_d15_an_access_token_passed_off_as_an_id_token_is_refused(client, fake_scotaccount):
    refused(client, fake_scotaccount, "id_token_is_access_token")


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "x" * 70_000, "e30.e30.e30"])
def test_d17_malformed_or_oversized_tokens_are_a_clean_refusal(fake_scotaccount, token):
    with pytest.raises(InvalidIDToken):
        verify_id_token(token, nonce_hash="0" * 64)


def test_d13_an_id_token_replayed_into_a_new_flow_is_refused(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    replayed = client.session[sessions.ID_TOKEN]
    browser = Client()
    start_flow(browser)
    [new_flow] = pending_flows(browser)
    with pytest.raises(InvalidIDToken, match="nonce"):
        verify_id_token(replayed, nonce_hash=new_flow.nonce_hash)


def test_c4_code_redirect_uri_and_verifier_are_sent_and_no_secret(client, fake_scotaccount):
    authorize = start_flow(client)
    redirect_uri = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
    complete(client, fake_scotaccount, authorize)
    token = fake_scotaccount.journal.last("token")
    assert token.params["redirect_uri"] == redirect_uri
    assert token.params["code"]
    assert token.pkce["code_verifier"]
    assert token.pkce["computed_challenge"] == token.pkce.get(
        "code_challenge", token.pkce["computed_challenge"]
    )
    assert "client_secret" not in token.params
    assert "authorization" not in token.headers


@pytest.mark.parametrize("fault", ["token_missing_id_token", "token_missing_access_token"])
def test_c5_a_token_response_missing_a_token_is_refused(client, fake_scotaccount, fault):
    refused(client, fake_scotaccount, fault)


def test_a5_redirect_uri_is_the_setting_never_the_host_header(client, fake_scotaccount, settings):
    settings.ALLOWED_HOSTS = ["*"]
    authorize = client.get(LOGIN_PATH, HTTP_HOST="evil.example")["Location"]
    assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [
        settings.SCOTACCOUNT_REDIRECT_URI
    ]


def test_a9_the_flow_cookie_is_httponly_lax_and_lives_as_long_as_the_flow(
    client, fake_scotaccount
):
    response = client.get(LOGIN_PATH)
    [cookie] = response.cookies.values()
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 7 * 24 * 3600
    # The flow outlives the Django session: a new session still completes it.
    client.session.flush()
    assert complete(client, fake_scotaccount, start_flow(client)).status_code == 302


def test_g1_session_key_is_rotated_at_step_up(client, fake_scotaccount):
    signed_in_client(client, fake_scotaccount)
    before = client.session.session_key
    assert step_up(client, fake_scotaccount, ALL_SCOPES).status_code == 302
    assert client.session.session_key != before
    assert client.session.get("_auth_user_id")


def test_g7_the_signed_cookies_session_engine_is_refused(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert "scotaccount.E007" in {message.id for message in run_checks()}


def test_i4_attribute_events_carry_ids_not_personal_data(
    client, fake_scotaccount, caplog, django_capture_on_commit_callbacks
):
    signed_in_client(client, fake_scotaccount)
    with (
        caplog.at_level(logging.INFO, logger="scotaccount_django.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        step_up(client, fake_scotaccount, ALL_SCOPES)
    identity = ScotAccountIdentity.objects.get()
    events = [r.getMessage() for r in caplog.records if "attributes_received" in r.getMessage()]
    assert events
    assert all(f"identity_id={identity.pk}" in event for event in events)
    persona = PERSONAS["morag"]
    assert not any(persona.family_name in event for event in events)
    assert not any(str(identity.sub) in event for event in events)


@pytest.mark.parametrize(("name", "value"), [("nbf", None), ("iat", []), ("exp", [])])
def test_d17_a_null_or_list_date_claim_is_a_clean_refusal(client, fake_scotaccount, name, value):
    """Found by the fuzzer at the minimum PyJWT: int() raised TypeError through the callback."""
    import time
    import uuid

    import jwt

    now = int(time.time())
    claims = {
        "iss": fake_scotaccount.issuer,
        "aud": "test-client",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
        name: value,
    }
    key = fake_scotaccount.signing_keys.active
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    with pytest.raises(InvalidIDToken):
        verify_id_token(token, nonce_hash=hash_secret("n"))
