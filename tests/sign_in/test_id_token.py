"""Every forged or faulty ID token is refused: nobody is signed in, nothing is stored."""

from __future__ import annotations

import pytest

from scotaccount_django.conf import conf
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db

ID_TOKEN_FAULTS = [
    "id_token_bad_signature",
    "id_token_alg_none",
    "id_token_hs256_public_key",
    "id_token_wrong_iss",
    "id_token_wrong_aud",
    "id_token_aud_extra",
    "id_token_expired",
    "id_token_missing_exp",
    "id_token_iat_future",
    "id_token_wrong_nonce",
    "id_token_missing_nonce",
    "id_token_missing_sub",
    "id_token_sub_not_uuid",
    "id_token_unknown_kid",
    "id_token_no_kid_several_keys",
    "id_token_is_access_token",
]


@pytest.mark.parametrize("fault", ID_TOKEN_FAULTS)
def test_faulty_id_token_is_refused(client, fake_scotaccount, fault, caplog) -> None:
    fake_scotaccount.scenarios.add(fault)
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 502
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()
    assert "[invalid_id_token]" in caplog.text
    issued = fake_scotaccount.journal.last("token").issued
    assert all(value not in caplog.text for value in issued.values() if isinstance(value, str))


def test_the_same_fault_off_again_signs_in(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("id_token_bad_signature", times=1)
    assert sign_in(client, fake_scotaccount).status_code == 502
    assert sign_in(client, fake_scotaccount).status_code == 302


def test_j3_clock_skew_within_leeway_is_accepted(client, fake_scotaccount) -> None:
    fake_scotaccount.clock.advance(20)  # ScotAccount's clock runs 20 s fast: iat in our future
    assert sign_in(client, fake_scotaccount).status_code == 302


def test_j3_clock_skew_beyond_leeway_is_refused(client, fake_scotaccount) -> None:
    fake_scotaccount.clock.advance(45)  # beyond the fixed 30 s leeway
    assert sign_in(client, fake_scotaccount).status_code == 502


def test_only_configured_algorithms_are_accepted(client, fake_scotaccount, monkeypatch) -> None:
    monkeypatch.setattr(conf, "ID_TOKEN_ALGORITHMS", ["ES256"])  # the fake signs RS256
    assert sign_in(client, fake_scotaccount).status_code == 502


def _id_token(fake, *, headers: dict, nonce: str = "n") -> str:
    """An otherwise valid ID token, signed with the fake's real active key, extra headers set."""
    import time
    import uuid

    import jwt

    now = int(time.time())
    claims = {
        "iss": fake.issuer,
        "aud": "test-client",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
    }
    key = fake.signing_keys.active
    return jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, **headers}
    )


def test_d1_a_well_formed_token_verifies_so_the_negatives_below_mean_something(
    fake_scotaccount,
) -> None:
    from scotaccount_django._internal.flows import hash_secret
    from scotaccount_django._internal.jwtkit import verify_id_token

    token = _id_token(fake_scotaccount, headers={})
    verify_id_token(token, nonce_hash=hash_secret("n"))


def test_d16_unknown_critical_header_is_refused(fake_scotaccount) -> None:
    from scotaccount_django._internal.flows import hash_secret
    from scotaccount_django._internal.jwtkit import verify_id_token
    from scotaccount_django.exceptions import InvalidIDToken

    token = _id_token(
        fake_scotaccount, headers={"crit": ["urn:example:unknown"], "urn:example:unknown": 1}
    )
    with pytest.raises(InvalidIDToken):
        verify_id_token(token, nonce_hash=hash_secret("n"))


def test_d16_key_location_headers_are_never_followed(fake_scotaccount) -> None:
    """``jku``/``x5u``/``jwk`` naming an attacker's key change nothing: the JWKS decides."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from scotaccount_django._internal.flows import hash_secret
    from scotaccount_django._internal.jwtkit import verify_id_token
    from scotaccount_django.exceptions import InvalidIDToken

    attacker = rsa.generate_private_key(65537, 2048)
    headers = {
        "kid": "attacker",
        "jku": "http://127.0.0.1:9/jwks.json",
        "x5u": "http://127.0.0.1:9/cert.pem",
        "jwk": RSAAlgorithm.to_jwk(attacker.public_key(), as_dict=True),
    }
    before = len(fake_scotaccount.journal)
    token = jwt.encode(
        jwt.decode(_id_token(fake_scotaccount, headers={}), options={"verify_signature": False}),
        attacker,
        algorithm="RS256",
        headers=headers,
    )
    with pytest.raises(InvalidIDToken):
        verify_id_token(token, nonce_hash=hash_secret("n"))
    assert all(
        entry.endpoint in ("discovery", "jwks") for entry in fake_scotaccount.journal[before:]
    )


@pytest.mark.parametrize(
    "fault", ["id_token_sub_upper_case", "id_token_exp_string", "id_token_iat_string"]
)
def test_l14_non_canonical_sub_and_string_dates_are_refused(
    client, fake_scotaccount, fault
) -> None:
    fake_scotaccount.scenarios.add(fault)
    assert sign_in(client, fake_scotaccount).status_code == 502
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()


def test_d11_nbf_in_the_future_is_refused(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("id_token_nbf_future")
    assert sign_in(client, fake_scotaccount).status_code == 502
    assert not ScotAccountIdentity.objects.exists()


def test_d8_aud_as_a_one_element_list_is_accepted(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("id_token_aud_list")
    assert sign_in(client, fake_scotaccount).status_code == 302
    assert client.session["_auth_user_id"]
