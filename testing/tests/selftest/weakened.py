"""Two weakened council projects the self-test must catch (issue 18).

Each is the project in ``tests.settings`` with one backend subclass, written the
way a council might, so the self-test is judged on realistic mistakes.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from jwt.api_jws import PyJWS

from scotaccount_django.backends import ScotAccountBackend

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class RequestUserBackend(ScotAccountBackend):
    """Links a new ScotAccount ``sub`` to whoever is signed in: what the docs warn against."""

    def link_existing_user(
        self, request: HttpRequest | None, claims: dict[str, Any]
    ) -> AbstractBaseUser | None:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None  # type: ignore[return-value]


class ClockSkewBackend(ScotAccountBackend):
    """``verify_token`` with the signature check switched off: a "clock-skew fix" gone wrong.

    Every other check still runs through ``super()``, so ordinary sign-ins work and
    only the signature goes. Meaningful once the backend verifies ID tokens in
    ``verify_token`` (the redesign, issue 17); today's callback never calls it.
    """

    def verify_token(self, token: str, **kwargs: Any) -> Any:
        # "Tokens from ScotAccount kept failing verification after our clock drifted":
        # PyJWT's signature step patched out. Every other check runs; the signature's does not.
        with mock.patch.object(PyJWS, "_verify_signature", return_value=None):
            return super().verify_token(token, **kwargs)


class RefusesEveryoneBackend(ScotAccountBackend):
    """A broken setup: every sign-in refused, so every forged token is refused too."""

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return False


class CrashingBackend(ScotAccountBackend):
    """A council hook with a bug: the callback raises (a 500 in production)."""

    def update_user(self, user: AbstractBaseUser, claims: dict[str, Any]) -> AbstractBaseUser:
        raise RuntimeError("council hook bug")

    def create_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        raise RuntimeError("council hook bug")


def backends(backend: type[ScotAccountBackend]) -> list[str]:
    """``AUTHENTICATION_BACKENDS`` naming ``backend`` where the stock backend was."""
    return [f"{backend.__module__}.{backend.__qualname__}", MODEL_BACKEND]
