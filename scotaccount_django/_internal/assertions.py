"""Client assertions (RFC 7523 ``private_key_jwt``), one builder for every audience.

Each call gets a fresh ``jti`` (retries included) and a short life, and ``aud``
is one string naming exactly the endpoint it is sent to, so an assertion
captured at one endpoint is useless at the other.
"""

from __future__ import annotations

import secrets
import time

import jwt

from scotaccount_django._internal.keys import load_signing_key
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ConfigurationError

#: Long enough for clock skew and a slow network, short enough to be useless if leaked.
ASSERTION_LIFETIME_SECONDS = 120


def build_client_assertion(audience: str) -> str:
    """A signed assertion that we are the registered client, for ``audience`` only."""
    client_id = conf.CLIENT_ID
    if not client_id:
        raise ConfigurationError("SCOTACCOUNT_CLIENT_ID is not set.")
    key = load_signing_key()
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(32),
    }
    return jwt.encode(
        claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"}
    )
