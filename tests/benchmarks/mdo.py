"""Stock mozilla-django-oidc with the least change that lets it sign in with ScotAccount.

``tests.benchmarks.DIFFERENCES`` lists what differs from this app; the benchmark prints it.
"""

from __future__ import annotations

import secrets
import time
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@cache
def _signing_key() -> Any:
    pem = Path(settings.SCOTACCOUNT_PRIVATE_KEY).read_bytes()
    return serialization.load_pem_private_key(pem, password=None)


class ScotAccountMDOBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    def get_token(self, payload: dict[str, Any]) -> Any:
        payload = {key: value for key, value in payload.items() if key != "client_secret"}
        now = int(time.time())
        claims = {
            "iss": self.OIDC_RP_CLIENT_ID,
            "sub": self.OIDC_RP_CLIENT_ID,
            "aud": self.OIDC_OP_TOKEN_ENDPOINT,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
        }
        payload["client_assertion_type"] = ASSERTION_TYPE
        payload["client_assertion"] = jwt.encode(claims, _signing_key(), algorithm="ES256")
        return super().get_token(payload)

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(username=claims["sub"])

    def create_user(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.create_user(username=claims["sub"])
