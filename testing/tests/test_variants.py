"""The fake's documented variants: each answers exactly as ScotAccount's docs show."""

from __future__ import annotations

import json

import jwt
import pytest
import requests

from scotaccount_django_testing import FakeScotAccount
from scotaccount_django_testing.fake.__main__ import build_parser
from scotaccount_django_testing.fake.variants import VARIANTS
from testing.tests.support import (
    ALL_SCOPES,
    LOGOUT_URI,
    TIMEOUT,
    Flow,
    attributes_request,
    decode_unverified,
    fake_fixture,
    make_fake,
    tokens_for,
)

default_fake = fake_fixture()
variant_fake = fake_fixture(documented_variants=True)

#: The docs' token response scope for identity + address (line 829), verbatim.
DOCUMENTED_SCOPE = (
    "given_name family_name birth_date uprn organisationName departmentName subBuildingName "
    "buildingNumber buildingName dependentStreetName streetName doubleDependentAddressLocality "
    "dependentAddressLocality addressLocality postalCode gpg-45-medium openid"
)


def test_documented_variants_switches_every_variant_on(variant_fake, default_fake):
    assert variant_fake.variants == frozenset(VARIANTS)
    assert default_fake.variants == frozenset()


def test_one_variant_can_be_chosen_and_an_unknown_one_is_refused():
    fake = FakeScotAccount(variants=["frontchannel_sid_only"])
    assert fake.variants == {"frontchannel_sid_only"}
    with pytest.raises(ValueError, match="Unknown documented variants"):
        FakeScotAccount(variants=["frontchannel_no_sid"])


def test_the_command_line_has_the_switch_and_one_flag_per_variant():
    parser = build_parser()
    assert parser.parse_args(["--documented-variants"]).documented_variants is True
    args = parser.parse_args(
        ["--variant", "legacy_claims_token", "--variant", "id_token_typ_at_jwt"]
    )
    assert args.variant == ["legacy_claims_token", "id_token_typ_at_jwt"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--variant", "nonsense"])


def test_token_scope_as_documented(variant_fake, default_fake):
    flow = Flow(scope="openid scotaccount.gpg45.medium scotaccount.address")
    assert tokens_for(variant_fake, flow)["scope"] == DOCUMENTED_SCOPE
    access = decode_unverified(tokens_for(variant_fake, Flow(scope=flow.scope))["access_token"])
    assert access[1]["scp"] == DOCUMENTED_SCOPE.split()
    assert tokens_for(default_fake, Flow(scope=flow.scope))["scope"] == flow.scope


def test_legacy_claims_token_has_the_documented_layout(variant_fake):
    tokens = tokens_for(variant_fake, Flow(scope=ALL_SCOPES))
    response = attributes_request(variant_fake, tokens["access_token"])
    assert response.status_code == 200, response.text
    claims_token = response.json()["claimsToken"]
    key = jwt.PyJWKSet.from_dict(
        requests.get(variant_fake.attributes_jwks_url, timeout=TIMEOUT).json()
    ).keys[0]
    payload = jwt.decode(claims_token, key.key, algorithms=["RS256"])
    assert not {"iss", "sub", "iat"} & set(payload)
    assert set(payload) == {"verified_claims", "claims"}
    assert payload["claims"]["uuid"] == variant_fake.personas["morag"].sub
    assert payload["verified_claims"]["verification"]["outcome"].endswith("VERIFIED SUCCESSFULLY")


def test_logout_state_appended(variant_fake):
    id_token = tokens_for(variant_fake, Flow())["id_token"]
    response = requests.get(
        f"{variant_fake.issuer}/authorize/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": LOGOUT_URI, "state": "s1"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOGOUT_URI}&state=s1"


def test_discovery_without_end_session(variant_fake, default_fake):
    variant = requests.get(variant_fake.discovery_url, timeout=TIMEOUT).json()
    default = requests.get(default_fake.discovery_url, timeout=TIMEOUT).json()
    assert "end_session_endpoint" not in variant
    assert default["end_session_endpoint"] == f"{default_fake.issuer}/authorize/logout"
    # The documented logout endpoint itself still works.
    assert variant_fake.end_session_endpoint == f"{variant_fake.issuer}/authorize/logout"


def test_frontchannel_sid_only(variant_fake, default_fake):
    uri = "https://rp.example/scotaccount/frontchannel-logout/"
    assert variant_fake.frontchannel_logout_url(uri, "abc") == f"{uri}?sid=abc"
    with_iss = default_fake.frontchannel_logout_url(uri, "abc")
    assert with_iss.startswith(f"{uri}?iss=")
    assert with_iss.endswith("&sid=abc")


def test_id_token_typ_at_jwt(variant_fake, default_fake):
    header, claims = decode_unverified(tokens_for(variant_fake, Flow())["id_token"])
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == variant_fake.client_id
    assert "nonce" in claims
    assert decode_unverified(tokens_for(default_fake, Flow())["id_token"])[0]["typ"] == "JWT"


def test_402_invalid_session_id_is_a_transport_fault():
    with make_fake() as fake:
        fake.scenarios.add("attributes_http_402")
        tokens = tokens_for(fake, Flow(scope=ALL_SCOPES))
        response = attributes_request(fake, tokens["access_token"])
    assert response.status_code == 402
    assert json.loads(response.text)["error"] == "invalid_session_id"
