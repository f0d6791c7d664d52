"""Forged and odd ``claimsToken``s from the fake ScotAccount: refused, nothing stored.

The person stays signed in throughout: the page is served with status 200 so
Django's session middleware (which skips saving on 5xx) keeps their session.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from scotaccount_django._internal.claims import read_claims_token
from scotaccount_django.attributes import get_verified_attributes, verified_address
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import InvalidClaimsToken
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity, VerifiedAttribute
from scotaccount_django_testing import PERSONAS
from scotaccount_django_testing.fake.forgery import hmac_with_public_key, unsigned
from tests.attributes.helpers import ADDRESS, ALL_SCOPES, EMAIL, IDENTITY, NEXT, step_up
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    return client


@pytest.mark.parametrize(
    "fault",
    [
        "claims_wrong_sub",
        "claims_unsigned",
        "claims_bad_signature",
        "claims_unknown_kid",
        "claims_signed_by_sign_in_key",
        "claims_wrong_iss",
    ],
)
def test_f3_a_forged_claims_token_is_refused_and_nothing_stored(
    signed_in, fake_scotaccount, fault
):
    fake_scotaccount.scenarios.add(fault)
    response = step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    assert response.status_code == 200
    assert response.context["error_code"] == "invalid_claims_token"
    assert "/scotaccount/attributes/" in response.context["retry_url"]
    assert not VerifiedAttribute.objects.exists()
    (request,) = AttributeRequest.objects.all()
    assert request.status == AttributeRequest.Status.FAILED
    assert set(request.missing_scopes.values()) == {"error"}
    assert signed_in.get("/signed-in/").content == b"signed in: True"


def test_an_error_is_not_final_so_the_next_visit_asks_again(signed_in, fake_scotaccount):
    fake_scotaccount.scenarios.add("claims_bad_signature")
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response["Location"] == NEXT
    assert list(get_verified_attributes(ScotAccountIdentity.objects.get().user)) == [ADDRESS]


def claims_for(fake, person: str, **overrides) -> dict:
    return {
        "iss": fake.attributes_issuer,
        "sub": person,
        "iat": int(time.time()),
        "verified_claims": PERSONAS["morag"].verified_claims([ADDRESS]),
        **overrides,
    }


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda fake, c: hmac_with_public_key(c, fake.attributes_keys.active), id="hs256"
        ),
        pytest.param(lambda fake, c: unsigned(c, fake.attributes_keys.active.kid), id="alg-none"),
        pytest.param(lambda fake, c: fake.signing_keys.sign(c), id="sign-in-key"),
        pytest.param(lambda fake, c: "not.a.jwt", id="garbage"),
        pytest.param(lambda fake, c: "", id="empty"),
    ],
)
def test_f2_forged_tokens_are_refused_before_anything_is_read(fake_scotaccount, forge):
    sub = uuid.UUID(PERSONAS["morag"].sub)
    token = forge(fake_scotaccount, claims_for(fake_scotaccount, str(sub)))
    with pytest.raises(InvalidClaimsToken):
        read_claims_token(token, sub=sub)


def test_a_genuine_token_for_this_person_is_read(fake_scotaccount):
    sub = uuid.UUID(PERSONAS["morag"].sub)
    token = fake_scotaccount.attributes_keys.sign(claims_for(fake_scotaccount, str(sub)))
    assert [entry.scope for entry in read_claims_token(token, sub=sub)] == [ADDRESS]


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": PERSONAS["seonaid"].sub},
        {"sub": PERSONAS["morag"].sub.upper() + "x"},
        {"iss": "https://issuer.main.integration.scotaccount.service.gov.scot/jwt"},
        {"iat": int(time.time()) + 3600},
    ],
    ids=["other-person", "not-a-uuid", "other-issuer", "issued-in-the-future"],
)
def test_f4_genuine_signatures_with_wrong_claims_are_refused(fake_scotaccount, overrides):
    sub = uuid.UUID(PERSONAS["morag"].sub)
    token = fake_scotaccount.attributes_keys.sign(
        claims_for(fake_scotaccount, str(sub), **overrides)
    )
    with pytest.raises(InvalidClaimsToken):
        read_claims_token(token, sub=sub)


def test_missing_iss_sub_or_iat_is_refused(fake_scotaccount):
    sub = uuid.UUID(PERSONAS["morag"].sub)
    for name in ("iss", "sub", "iat"):
        claims = claims_for(fake_scotaccount, str(sub))
        del claims[name]
        with pytest.raises(InvalidClaimsToken):
            read_claims_token(fake_scotaccount.attributes_keys.sign(claims), sub=sub)


def test_the_sign_in_key_is_refused_only_because_a_separate_jwks_is_configured(
    signed_in, fake_scotaccount, settings
):
    # With no attributes JWKS configured, the sign-in JWKS is the documented default.
    settings.SCOTACCOUNT_ATTRIBUTES_JWKS_URL = None
    fake_scotaccount.scenarios.add("claims_signed_by_sign_in_key")
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response["Location"] == NEXT
    assert VerifiedAttribute.objects.get().scope == ADDRESS


def test_an_empty_list_is_recorded_as_not_available(signed_in, fake_scotaccount):
    """A genuine, signed answer saying "nothing": ScotAccount documents that any subset,
    from none to all, may come back, and this is the 200 twin of its 404 "no data".
    It is not an attack (the signature, issuer and sub all passed), so it is recorded
    as not available, and the scopes are not requested again automatically."""
    fake_scotaccount.scenarios.add("claims_empty_list")
    response = step_up(signed_in, fake_scotaccount, [ADDRESS, EMAIL])
    assert response["Location"] == NEXT
    assert not VerifiedAttribute.objects.exists()
    assert AttributeRequest.objects.get().missing_scopes == {
        ADDRESS: "not_available",
        EMAIL: "not_available",
    }


def test_every_entry_failed(signed_in, fake_scotaccount):
    fake_scotaccount.scenarios.add("claims_verification_failed")
    step_up(signed_in, fake_scotaccount, [IDENTITY, ADDRESS])
    assert get_verified_attributes(ScotAccountIdentity.objects.get().user) == {}
    assert set(VerifiedAttribute.objects.values_list("outcome", flat=True)) == {
        "VERIFICATION_FAILED"
    }
    assert AttributeRequest.objects.get().missing_scopes == {
        IDENTITY: "verification_failed",
        ADDRESS: "verification_failed",
    }


def test_f6_the_legacy_layout_is_parsed(signed_in, fake_scotaccount):
    fake_scotaccount.legacy_claims_layout = True
    response = step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    assert response["Location"] == NEXT
    user = ScotAccountIdentity.objects.get().user
    assert set(get_verified_attributes(user)) == set(ALL_SCOPES)
    identity = VerifiedAttribute.objects.get(scope=IDENTITY)
    assert identity.outcome == "VERIFIED_SUCCESSFULLY"
    assert (identity.assurance_policy, identity.confidence_level) == ("GPG_45", "medium")
    address = verified_address(user)
    assert address is not None
    assert address.postcode == "G62 7AA"


def test_the_legacy_layout_with_failed_verification(client, fake_scotaccount):
    fake_scotaccount.legacy_claims_layout = True
    sign_in(client, fake_scotaccount, persona="idv-failed")
    step_up(client, fake_scotaccount, [IDENTITY, ADDRESS], persona="idv-failed")
    # One outcome covers everything in this layout: nothing is stored as verified.
    assert get_verified_attributes(ScotAccountIdentity.objects.get().user) == {}


def test_keys_rotating_mid_flow_are_picked_up(signed_in, fake_scotaccount):
    step_up(signed_in, fake_scotaccount, [EMAIL])
    fake_scotaccount.scenarios.add("attributes_key_rotation_mid_flow")
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response["Location"] == NEXT
    assert VerifiedAttribute.objects.count() == 2


@pytest.mark.parametrize("persona", ["seonaid", "long-address", "idv-warnings"])
def test_every_persona_fits_the_schema(client, fake_scotaccount, persona):
    sign_in(client, fake_scotaccount, persona=persona)
    assert step_up(client, fake_scotaccount, ALL_SCOPES, persona=persona)["Location"] == NEXT
    assert set(get_verified_attributes(ScotAccountIdentity.objects.get().user)) == set(ALL_SCOPES)


@pytest.mark.parametrize("fault", ["claims_old", "claims_expired"])
def test_l12_an_old_or_expired_claims_token_is_refused(signed_in, fake_scotaccount, fault):
    fake_scotaccount.scenarios.add(fault)
    response = step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    assert response.context["error_code"] == "invalid_claims_token"
    assert not VerifiedAttribute.objects.exists()


def test_l12_max_age_is_what_refuses_an_old_token(signed_in, fake_scotaccount, monkeypatch):
    monkeypatch.setattr(conf, "CLAIMS_TOKEN_MAX_AGE", timedelta(days=3 * 365))
    fake_scotaccount.scenarios.add("claims_old")
    assert step_up(signed_in, fake_scotaccount, [ADDRESS])["Location"] == NEXT
    assert VerifiedAttribute.objects.exists()


@pytest.mark.parametrize("fault", ["claims_sub_upper_case", "claims_iat_string"])
def test_l14_claims_token_non_canonical_sub_or_string_iat_is_refused(
    signed_in, fake_scotaccount, fault
):
    fake_scotaccount.scenarios.add(fault)
    response = step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    assert response.context["error_code"] == "invalid_claims_token"
    assert not VerifiedAttribute.objects.exists()
