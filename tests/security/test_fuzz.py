"""Property tests (Hypothesis): hostile input never causes a 500, stores anything invalid or
signs anyone in. The callback query string, the token response, ID-token claims and headers,
the claimsToken payload in both layouts, and ``next``.

Quick by default (profile ``fast``); for a deep run:
``.venv/bin/python -m pytest tests/security/test_fuzz.py --hypothesis-profile=long``.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import example, given
from hypothesis import strategies as st

from scotaccount_django._internal import provider
from scotaccount_django._internal.claims import parse_payload
from scotaccount_django._internal.flows import hash_secret
from scotaccount_django._internal.jwtkit import verify_id_token
from scotaccount_django.exceptions import InvalidClaimsToken, InvalidIDToken
from scotaccount_django.models import ScotAccountIdentity, VerifiedAttribute
from tests.flow_helpers import LOGIN_PATH, pending_flows, start_flow

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent.parent / "data"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
HOSTILE_TEXT = st.text(max_size=300) | st.sampled_from(
    ["", "\x00", "a" * 5000, "\r\nSet-Cookie: x=1", "<script>", "%00", "//evil.example"]
)


def assert_no_sign_in(client: Client) -> None:
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()


@given(
    params=st.dictionaries(
        st.sampled_from(["code", "state", "error", "error_description", "iss", "x"]),
        HOSTILE_TEXT,
        max_size=5,
    ),
    real_state=st.booleans(),
)
def test_fuzz_callback_query_string(fake_scotaccount, params, real_state):
    client = Client()
    state = parse_qs(urlsplit(start_flow(client)).query)["state"][0]
    if real_state:
        params = {**params, "state": state}
    response = client.get(f"/scotaccount/callback/?{urlencode(params)}")
    assert response.status_code != 500
    assert_no_sign_in(client)


@given(body=JSON.map(lambda value: json.dumps(value).encode()) | st.binary(max_size=200))
def test_fuzz_token_response(fake_scotaccount, monkeypatch, body):
    real_request = provider.request

    def request(endpoint, method, url, **kwargs):
        if endpoint == "token":
            return provider.ProviderResponse(status=200, body=body)
        return real_request(endpoint, method, url, **kwargs)

    monkeypatch.setattr(provider, "request", request)
    client = Client()
    location = fake_scotaccount.complete_authorization(start_flow(client))
    parts = urlsplit(location)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code != 500
    assert_no_sign_in(client)


CLAIM_NAMES = ["iss", "aud", "sub", "exp", "iat", "nbf", "nonce", "azp", "sid"]


@given(
    overrides=st.dictionaries(st.sampled_from(CLAIM_NAMES), JSON, max_size=4),
    removed=st.lists(st.sampled_from(CLAIM_NAMES), max_size=3),
    header=st.dictionaries(
        st.sampled_from(["crit", "typ", "jku", "x5u", "cty", "kid"]), JSON, max_size=3
    ),
)
# Found on PyJWT 2.12 (tox -e minimum): a list as exp raised TypeError, not InvalidIDToken.
@example(overrides={"exp": []}, removed=[], header={})
@example(overrides={"nbf": {}}, removed=[], header={})
def test_fuzz_id_token_claims_and_headers(fake_scotaccount, overrides, removed, header):
    now = int(time.time())
    claims = {
        "iss": fake_scotaccount.issuer,
        "aud": "test-client",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
    }
    claims.update(overrides)
    for name in removed:
        claims.pop(name, None)
    key = fake_scotaccount.signing_keys.active
    headers = {"kid": key.kid, **header}
    try:
        token = jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)
    except (TypeError, ValueError, jwt.PyJWTError):
        return  # not even encodable: nothing a provider could send
    try:
        verified = verify_id_token(token, nonce_hash=hash_secret("n"))
    except InvalidIDToken:
        return
    # Accepted only when every rule held.
    assert str(verified.sub) == claims["sub"]
    assert claims["iss"] == fake_scotaccount.issuer
    assert isinstance(claims["exp"], int | float)
    assert claims["nonce"] == "n"


SUB = uuid.UUID("3f0c1b7e-8a52-4d3e-9b61-2c7f0e4a9d15")
EXAMPLES = {
    name: json.loads((DATA / f"claims-token-{name}-example.json").read_text(encoding="utf-8"))
    for name in ("v2", "legacy")
}


def mutate(document, path, value):
    """``document`` with the item at ``path`` (keys/indexes, as far as they go) replaced."""
    document = copy.deepcopy(document)
    target = document
    for step in path[:-1]:
        if isinstance(target, dict) and target:
            target = target[list(target)[step % len(target)]]
        elif isinstance(target, list) and target:
            target = target[step % len(target)]
        else:
            break
    if isinstance(target, dict) and target:
        target[list(target)[path[-1] % len(target)]] = value
    elif isinstance(target, list) and target:
        target[path[-1] % len(target)] = value
    return document


@given(
    layout=st.sampled_from(["v2", "legacy"]),
    path=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=5),
    value=JSON,
)
def test_fuzz_claims_token_payload_both_layouts(layout, path, value):
    payload = mutate(EXAMPLES[layout], path, value)
    claims = payload.get("claims")
    if layout == "legacy" and isinstance(claims, dict) and "uuid" in claims:
        payload = {**payload, "claims": {**claims, "uuid": str(SUB)}}
    try:
        entries = parse_payload(payload, sub=SUB)
    except InvalidClaimsToken:
        return
    for entry in entries:
        if not entry.is_verified:
            assert entry.claims == {}  # nothing unverified is kept


@given(next_url=HOSTILE_TEXT | st.from_regex(r"\A(/|//|https?://|javascript:|\\\\)[^\s]{0,60}\Z"))
def test_fuzz_next(fake_scotaccount, next_url):
    client = Client()
    response = client.get(LOGIN_PATH, {"next": next_url})
    assert response.status_code == 302
    [stored] = [flow.next_url for flow in pending_flows(client)]
    assert stored in ("", next_url)
    if stored:
        assert len(stored) <= 2048
        assert stored.isprintable()
        assert url_has_allowed_host_and_scheme(stored, allowed_hosts={"testserver"})
    assert not VerifiedAttribute.objects.exists()
