"""The app survives ScotAccount as its documentation shows it (issue 14).

One named test per documented variant, their negative twins, and the whole
journey run against the fake in its default mode and with every variant on,
through the real views.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from scotaccount_django._internal.claims import read_claims_token
from scotaccount_django._internal.step_up import declined_scopes
from scotaccount_django.attributes import attribute_status, get_verified_attributes
from scotaccount_django.exceptions import InvalidClaimsToken
from scotaccount_django.models import AttributeRequest, ScotAccountSession
from tests.attributes.helpers import (
    ADDRESS,
    ALL_SCOPES,
    EMAIL,
    IDENTITY,
    NEXT,
    authorize_count,
    step_up,
)
from tests.flow_helpers import sign_in, signed_in_client

pytestmark = pytest.mark.django_db

LOGOUT = "/scotaccount/logout/"
FRONTCHANNEL = "/scotaccount/frontchannel-logout/"
SIGNED_OUT_PAGE = b'data-testid="scotaccount-logged-out-title"'
DEFAULT = {}
DOCUMENTED = {"documented_variants": True}


def variant(*names):
    """Parametrise the ``fake_scotaccount`` fixture with only these documented variants."""
    return pytest.mark.parametrize("fake_scotaccount", [{"variants": list(names)}], indirect=True)


def is_signed_in(client):
    return client.get("/signed-in/").content == b"signed in: True"


def attribute_calls(fake):
    return len(fake.journal.for_endpoint("attributes"))


def log_out(client):
    """POST the logout form; return the app's redirect to ScotAccount."""
    page = client.get(LOGOUT)
    response = client.post(LOGOUT, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 302, response.content[:300]
    return response


def follow_logout(client, location):
    """The browser at ScotAccount's logout, then back at the app; returns the app's answer."""
    at_scotaccount = requests.get(location, allow_redirects=False, timeout=5)
    assert at_scotaccount.status_code == 302, at_scotaccount.text
    back = urlsplit(at_scotaccount.headers["Location"])
    return client.get(f"{back.path}?{back.query}" if back.query else back.path)


def latest_sid(fake):
    return fake.journal.last("token").issued["sid"]


# --- Variant: the token response's scope as documented ------------------------------


def test_scope_words_decide_declines_only_when_they_are_scope_names():
    requested = [IDENTITY, ADDRESS]
    assert declined_scopes(requested, ["openid", IDENTITY]) == [ADDRESS]
    assert declined_scopes(requested, ["openid", "gpg-45-medium"]) == [ADDRESS]  # old name
    assert declined_scopes(requested, ["openid", "ScotAccount.gpg45.medium"]) == [ADDRESS]
    assert declined_scopes(requested, ["openid"]) == requested
    assert declined_scopes(requested, []) == []  # absent: as requested (RFC 6749)
    documented = ["given_name", "family_name", "birth_date", "uprn", "gpg-45-medium", "openid"]
    assert declined_scopes(requested, documented) == []  # claim names say nothing
    assert declined_scopes(requested, ["openid", "scotaccount.gpg45.high"]) == []


@variant("token_scope_as_documented")
def test_variant_token_scope_as_documented(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    response = step_up(client, fake_scotaccount, [IDENTITY, ADDRESS])
    assert response["Location"] == NEXT
    assert "gpg-45-medium" in fake_scotaccount.journal.last("token").issued["scope"]
    assert attribute_calls(fake_scotaccount) == 1
    assert set(get_verified_attributes(response.wsgi_request.user)) == {IDENTITY, ADDRESS}


@variant("token_scope_as_documented")
def test_variant_token_scope_as_documented_unreleased_scope_is_final_without_a_loop(
    client, fake_scotaccount
):
    assert sign_in(client, fake_scotaccount).status_code == 302
    step_up(client, fake_scotaccount, [IDENTITY, ADDRESS], release=[IDENTITY])
    (request,) = AttributeRequest.objects.all()
    assert request.received_scopes == [IDENTITY]
    # The scope string could not say "declined"; the claimsToken had no address entry.
    assert request.missing_scopes == {ADDRESS: AttributeRequest.Reason.NOT_AVAILABLE}
    before = authorize_count(fake_scotaccount)
    again = client.get("/scotaccount/attributes/", {"scope": ADDRESS, "next": NEXT})
    assert again["Location"] == NEXT
    assert authorize_count(fake_scotaccount) == before


# --- Variant: the legacy claimsToken layout ------------------------------------------


@variant("legacy_claims_token")
def test_variant_legacy_claims_token(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    response = step_up(client, fake_scotaccount, ALL_SCOPES)
    assert response["Location"] == NEXT
    held = get_verified_attributes(response.wsgi_request.user)
    assert set(held) == set(ALL_SCOPES)
    assert held[IDENTITY].claims["given_name"] == fake_scotaccount.personas["morag"].given_name


@variant("legacy_claims_token")
@pytest.mark.parametrize(
    "fault",
    [
        "claims_wrong_sub",
        "claims_bad_signature",
        "claims_wrong_iss",
        "claims_signed_by_sign_in_key",
    ],
    ids=["bound-to-another-person", "bad-signature", "iss-mismatch", "sign-in-key"],
)
def test_variant_legacy_claims_token_forgeries_are_refused(client, fake_scotaccount, fault):
    assert sign_in(client, fake_scotaccount).status_code == 302
    fake_scotaccount.scenarios.add(fault)
    response = step_up(client, fake_scotaccount, ALL_SCOPES)
    assert response.context["error_code"] == "invalid_claims_token"
    assert get_verified_attributes(response.wsgi_request.user) == {}


IDENTITY_CLAIMS = {"given_name": "A", "family_name": "B", "birth_date": "1990-09-08"}


def legacy_payload(person, **extra):
    """The docs' legacy layout (lines 922, 2244): no iss, sub or iat unless given."""
    return {
        "verified_claims": {
            "verification": {
                "outcome": "VERIFIED SUCCESSFULLY",
                "trust_framework": "uk_tfida",
                "assurance_level": "GPG45-Medium",
                "time": "2023-02-15T16:39Z",
                "verifier": {"organization": "DIS", "txn": str(uuid.uuid4())},
            }
        },
        "claims": {"uuid": person, **IDENTITY_CLAIMS} if person else dict(IDENTITY_CLAIMS),
        **extra,
    }


def test_legacy_claims_token_naming_nobody_is_refused(fake_scotaccount):
    token = fake_scotaccount.attributes_keys.sign(legacy_payload(None))
    with pytest.raises(InvalidClaimsToken, match="names nobody"):
        read_claims_token(token, sub=uuid.uuid4())


def test_legacy_claims_token_with_sub_and_uuid_must_agree(fake_scotaccount):
    person = uuid.uuid4()
    token = fake_scotaccount.attributes_keys.sign(
        legacy_payload(str(person), sub=str(uuid.uuid4()))
    )
    with pytest.raises(InvalidClaimsToken, match="different person"):
        read_claims_token(token, sub=person)
    good = fake_scotaccount.attributes_keys.sign(legacy_payload(str(person), sub=str(person)))
    assert [entry.scope for entry in read_claims_token(good, sub=person)] == [IDENTITY]


def test_current_layout_still_requires_iss_sub_and_iat(fake_scotaccount):
    person = uuid.uuid4()
    payload = {
        "iss": fake_scotaccount.attributes_issuer,
        "sub": str(person),
        "verified_claims": [],
    }
    token = fake_scotaccount.attributes_keys.sign(payload)
    with pytest.raises(InvalidClaimsToken, match="no iat"):
        read_claims_token(token, sub=person)
    fresh = fake_scotaccount.attributes_keys.sign({**payload, "iat": int(time.time())})
    assert read_claims_token(fresh, sub=person) == []


# --- Variant: the logout return with &state= ------------------------------------------


@variant("logout_state_appended")
def test_variant_logout_state_appended(fake_scotaccount):
    client = signed_in_client(Client(), fake_scotaccount)
    response = follow_logout(client, log_out(client)["Location"])
    assert response.status_code == 200
    assert SIGNED_OUT_PAGE in response.content
    assert "/logged-out/&state=" in response.wsgi_request.path  # the documented form
    assert not response.wsgi_request.GET  # no "?" anywhere
    assert fake_scotaccount.journal.last("logout").outcome == "signed out"


@variant("logout_state_appended")
def test_variant_logout_state_appended_with_a_forged_state_changes_nothing(fake_scotaccount):
    client = signed_in_client(Client(), fake_scotaccount)
    log_out(client)
    signed_in_again = signed_in_client(client, fake_scotaccount)
    response = signed_in_again.get("/scotaccount/logged-out/&state=forged")
    assert response.status_code == 200
    assert SIGNED_OUT_PAGE not in response.content
    assert is_signed_in(signed_in_again)


# --- Variant: discovery without end_session_endpoint -----------------------------------


@variant("discovery_without_end_session")
def test_variant_discovery_without_end_session(fake_scotaccount):
    client = signed_in_client(Client(), fake_scotaccount)
    location = log_out(client)["Location"]
    assert location.startswith(f"{fake_scotaccount.issuer}/authorize/logout?")
    response = follow_logout(client, location)
    assert SIGNED_OUT_PAGE in response.content
    assert fake_scotaccount.journal.last("logout").outcome == "signed out"


# --- Variant: front-channel logout with sid only --------------------------------------


@variant("frontchannel_sid_only")
def test_variant_frontchannel_sid_only(fake_scotaccount):
    browser = signed_in_client(Client(), fake_scotaccount)
    url = fake_scotaccount.frontchannel_logout_url(FRONTCHANNEL, latest_sid(fake_scotaccount))
    assert "iss=" not in url
    Client().get(url)
    assert not is_signed_in(browser)
    assert not ScotAccountSession.objects.exists()


def test_frontchannel_with_a_wrong_iss_is_ignored(fake_scotaccount):
    browser = signed_in_client(Client(), fake_scotaccount)
    sid = latest_sid(fake_scotaccount)
    response = Client().get(FRONTCHANNEL, {"iss": fake_scotaccount.issuer + "/", "sid": sid})
    assert response.status_code == 200
    assert is_signed_in(browser)
    response = Client().get(FRONTCHANNEL, {"iss": "https://evil.example", "sid": sid})
    assert is_signed_in(browser)


# --- Variant: ID tokens with typ at+jwt -------------------------------------------------


@variant("id_token_typ_at_jwt")
def test_variant_id_token_typ_at_jwt(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    assert fake_scotaccount.journal.last("token").issued["id_token_header"]["typ"] == "at+jwt"
    assert is_signed_in(client)


@variant("id_token_typ_at_jwt")
def test_variant_id_token_typ_at_jwt_does_not_let_an_access_token_pass(client, fake_scotaccount):
    fake_scotaccount.scenarios.add("id_token_is_access_token")
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 502
    assert not is_signed_in(client)


# --- 402 invalid_session_id --------------------------------------------------------------


def test_402_invalid_session_id_at_the_token_endpoint_asks_to_sign_in_again(
    client, fake_scotaccount
):
    fake_scotaccount.scenarios.add("token_http_402")
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 400
    assert response.context["error_code"] == "invalid_session_id"
    assert b"ScotAccount session has ended" in response.content
    assert response.context["retry_url"]


def test_402_invalid_session_id_at_the_attributes_endpoint_keeps_the_person_signed_in(
    client, fake_scotaccount
):
    assert sign_in(client, fake_scotaccount).status_code == 302
    fake_scotaccount.scenarios.add("attributes_http_402")
    response = step_up(client, fake_scotaccount, [ADDRESS])
    assert response.status_code == 200
    assert response.context["error_code"] == "invalid_session_id"
    assert is_signed_in(client)
    (request,) = AttributeRequest.objects.all()
    assert request.missing_scopes == {ADDRESS: AttributeRequest.Reason.ERROR}


# --- VERIFIED_WITH_WARNINGS as policy ------------------------------------------------------


def test_verified_with_warnings_refused_by_policy_is_final_and_not_held(
    client, fake_scotaccount, settings
):
    settings.SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS = False
    assert sign_in(client, fake_scotaccount, "idv-warnings").status_code == 302
    response = step_up(client, fake_scotaccount, [IDENTITY], persona="idv-warnings")
    user = response.wsgi_request.user
    assert get_verified_attributes(user) == {}
    assert attribute_status(user, [IDENTITY]).unavailable == {
        IDENTITY: AttributeRequest.Reason.VERIFICATION_FAILED
    }
    settings.SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS = True
    assert set(get_verified_attributes(user)) == {IDENTITY}


# --- The whole journey, in both modes ------------------------------------------------------


@pytest.mark.parametrize(
    "fake_scotaccount",
    [DEFAULT, DOCUMENTED],
    ids=["default", "documented-variants"],
    indirect=True,
)
def test_the_whole_journey(fake_scotaccount):
    fake = fake_scotaccount
    browser = Client()

    # Sign in.
    assert sign_in(browser, fake).status_code == 302
    assert is_signed_in(browser)

    # Step up for each scope; the person declines the last one.
    for scope in (IDENTITY, ADDRESS):
        assert step_up(browser, fake, [scope])["Location"] == NEXT
    assert step_up(browser, fake, [EMAIL], release=[])["Location"] == NEXT
    user = browser.get("/signed-in/").wsgi_request.user
    status = attribute_status(user, ALL_SCOPES)
    assert set(status.held) == {IDENTITY, ADDRESS}
    assert status.unavailable == {EMAIL: AttributeRequest.Reason.DECLINED}
    # No loop: asking again for the declined scope goes straight on.
    before = authorize_count(fake)
    assert (
        browser.get("/scotaccount/attributes/", {"scope": EMAIL, "next": NEXT})["Location"] == NEXT
    )
    assert authorize_count(fake) == before

    # Sign out, here and at ScotAccount, and come back with its state.
    location = log_out(browser)["Location"]
    assert parse_qs(urlsplit(location).query).keys() == {
        "id_token_hint",
        "post_logout_redirect_uri",
        "state",
    }
    response = follow_logout(browser, location)
    assert SIGNED_OUT_PAGE in response.content
    assert not is_signed_in(browser)
    assert fake.journal.last("logout").outcome == "signed out"

    # Signed in again elsewhere; ScotAccount's front-channel logout ends that session.
    other = signed_in_client(Client(), fake)
    Client().get(fake.frontchannel_logout_url(FRONTCHANNEL, latest_sid(fake)))
    assert not is_signed_in(other)


def test_a_sign_in_token_cannot_pass_for_a_legacy_claims_token(fake_scotaccount, settings):
    settings.SCOTACCOUNT_ATTRIBUTES_JWKS_URL = None  # the attributes keys are the sign-in keys
    person = uuid.uuid4()
    forged = fake_scotaccount.signing_keys.sign(
        legacy_payload(str(person), iss=fake_scotaccount.issuer, sub=str(person))
    )
    with pytest.raises(InvalidClaimsToken, match="iss"):
        read_claims_token(forged, sub=person)
