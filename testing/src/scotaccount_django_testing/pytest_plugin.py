"""pytest plugin (registered through ``pytest11``): the ``fake_scotaccount`` fixture.

Importing this module never touches Django, so it loads harmlessly in test
suites that use neither Django nor pytest-django; the fixture imports Django
only when it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from scotaccount_django_testing.fake import FakeScotAccount


#: The ``kid`` given to the key the fixture generates when the settings name none.
def _as_list(value: Any, default: str) -> list[str]:
    if not value:
        return [default]
    return [value] if isinstance(value, str) else list(value)


def _private_key(settings: Any) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The relying party's configured key, or a fresh EC P-256 key put into the settings."""
    pem = getattr(settings, "SCOTACCOUNT_PRIVATE_KEY", None)
    if pem and not str(pem).lstrip().startswith("-----BEGIN"):
        pem = Path(pem).read_bytes()  # a path to the PEM file
    if pem:
        key = serialization.load_pem_private_key(
            pem.encode() if isinstance(pem, str) else pem, password=None
        )
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError("SCOTACCOUNT_PRIVATE_KEY must be an RSA or EC P-256 key.")
        return key
    generated = ec.generate_private_key(ec.SECP256R1())
    settings.SCOTACCOUNT_PRIVATE_KEY = generated.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return generated


def _public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The public half as a JWK, with the kid the app sends: the key's thumbprint."""
    from scotaccount_django._internal.provider import jwk_thumbprint, public_jwk

    jwk = public_jwk(key.public_key())
    return {**jwk, "kid": jwk_thumbprint(jwk)}


@pytest.fixture
def fake_scotaccount(request: pytest.FixtureRequest) -> Iterator[FakeScotAccount]:
    """A fresh strict fake per test, with the app's ``SCOTACCOUNT_*`` settings pointing at it.

    Parametrise it indirectly to pass keyword arguments to ``FakeScotAccount``, e.g.
    ``@pytest.mark.parametrize("fake_scotaccount", [{"documented_variants": True}],
    indirect=True)``.
    """
    from django.core.cache import caches

    settings = request.getfixturevalue("settings")
    key = _private_key(settings)
    fake = FakeScotAccount(
        client_id=getattr(settings, "SCOTACCOUNT_CLIENT_ID", None) or "test-client",
        client_keys=[_public_jwk(key)],
        redirect_uris=_as_list(
            getattr(settings, "SCOTACCOUNT_REDIRECT_URI", None),
            "http://testserver/scotaccount/callback/",
        ),
        post_logout_redirect_uris=_as_list(
            getattr(settings, "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI", None),
            "http://testserver/scotaccount/logged-out/",
        ),
        mode="strict",
        **getattr(request, "param", None) or {},
    )
    with fake:
        settings.SCOTACCOUNT_DISCOVERY_URL = fake.discovery_url
        settings.SCOTACCOUNT_ATTRIBUTES_URL = fake.attributes_url
        settings.SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True  # a test run is the CI case
        settings.SCOTACCOUNT_ATTRIBUTES_JWKS_URL = fake.attributes_jwks_url
        caches[getattr(settings, "SCOTACCOUNT_CACHE_ALIAS", None) or "default"].clear()
        yield fake
