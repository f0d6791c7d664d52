"""The sign-in issuer's OpenID Provider metadata."""

from __future__ import annotations

from typing import Any

from scotaccount_django_testing.fake.assertions import ASSERTION_ALGORITHMS
from scotaccount_django_testing.fake.keys import ALGORITHM
from scotaccount_django_testing.fake.personas import ATTRIBUTE_SCOPES

#: Scopes ScotAccount documents; anything else is ``invalid_scope``.
SUPPORTED_SCOPES = ("openid", *ATTRIBUTE_SCOPES)


def metadata(issuer: str, *, advertise_end_session: bool = True) -> dict[str, Any]:
    """What ``/.well-known/openid-configuration`` answers."""
    document = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks.json",
        "end_session_endpoint": f"{issuer}/authorize/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_parameter_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
    }
    if not advertise_end_session:
        del document["end_session_endpoint"]
    return document
