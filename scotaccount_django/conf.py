"""Every ``SCOTACCOUNT_*`` setting, its default, and nothing else.

Read through the module-level ``conf`` object. Nothing is cached, so
``override_settings`` and pytest-django's ``settings`` fixture just work, and
Django's settings are never written to.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Environment = Literal["integration", "production", "local"]

#: The endpoints ScotAccount documents for each environment. Production's
#: attributes endpoint and issuer are not published, so they have no default.
ENVIRONMENTS: dict[str, dict[str, str | None]] = {
    "integration": {
        "discovery_url": (
            "https://authz.integration.scotaccount.service.gov.scot"
            "/.well-known/openid-configuration"
        ),
        "attributes_url": (
            "https://issuer.main.integration.scotaccount.service.gov.scot/attributes/values"
        ),
        "attributes_issuer": "https://issuer.main.integration.scotaccount.service.gov.scot/jwt",
    },
    "production": {
        "discovery_url": (
            "https://authz.scotaccount.service.gov.scot/.well-known/openid-configuration"
        ),
        "attributes_url": None,
        "attributes_issuer": None,
    },
    # Filled in from SCOTACCOUNT_LOCAL_PORT by ``local_environment``.
    "local": {},
}

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
LOCAL_HOST = "127.0.0.1"


def local_environment(port: int) -> dict[str, str | None]:
    """Where ``manage.py scotaccount_fake`` serves: sign-in on ``port``, attributes next."""
    sign_in, attributes = f"http://{LOCAL_HOST}:{port}", f"http://{LOCAL_HOST}:{port + 1}"
    return {
        "discovery_url": sign_in + DISCOVERY_SUFFIX,
        "attributes_url": f"{attributes}/attributes/values",
        "attributes_issuer": f"{attributes}/jwt",
        "attributes_jwks_url": f"{attributes}/jwks.json",
    }


#: Where ScotAccount documents its logout, on the sign-in host (reference docs, line 2367).
DOCUMENTED_LOGOUT_PATH = "/authorize/logout"
#: Tokens are checked with at most this much clock leeway, whatever the setting says.
MAX_CLOCK_LEEWAY = timedelta(seconds=60)

#: Every setting this app reads, with its default. ``docs/settings.md``
#: documents each one; a test keeps the two in step.
DEFAULTS: dict[str, Any] = {
    "SCOTACCOUNT_CLIENT_ID": None,
    "SCOTACCOUNT_ENVIRONMENT": "integration",
    "SCOTACCOUNT_DISCOVERY_URL": None,
    "SCOTACCOUNT_ISSUER": None,
    "SCOTACCOUNT_ATTRIBUTES_URL": None,
    "SCOTACCOUNT_ATTRIBUTES_ISSUER": None,
    "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": None,
    "SCOTACCOUNT_PRIVATE_KEY_FILE": None,
    "SCOTACCOUNT_PRIVATE_KEY": None,
    "SCOTACCOUNT_PRIVATE_KEY_ID": None,
    "SCOTACCOUNT_REDIRECT_URI": None,
    "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI": None,
    "SCOTACCOUNT_END_SESSION_URL": None,
    "SCOTACCOUNT_ID_TOKEN_ALGORITHMS": ["RS256"],
    "SCOTACCOUNT_CONNECT_TIMEOUT": 5.0,
    "SCOTACCOUNT_READ_TIMEOUT": 10.0,
    "SCOTACCOUNT_CA_BUNDLE": None,
    "SCOTACCOUNT_CLOCK_LEEWAY": 30,
    "SCOTACCOUNT_FLOW_LIFETIME": timedelta(days=7),
    "SCOTACCOUNT_FLOW_COOKIE_NAME": "scotaccount_flow",
    "SCOTACCOUNT_METADATA_CACHE_TIMEOUT": 900,
    "SCOTACCOUNT_CACHE_ALIAS": "default",
    "SCOTACCOUNT_CREATE_USERS": True,
    "SCOTACCOUNT_SESSION_LIFETIME": timedelta(hours=4),
    "SCOTACCOUNT_SESSION_IDLE_TIMEOUT": None,
    "SCOTACCOUNT_SESSION_LIFETIME_FOR_ALL_USERS": False,
    "SCOTACCOUNT_ATTRIBUTE_MAX_AGE": {},
    "SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER": None,
    "SCOTACCOUNT_LOCAL_PORT": 8001,
    "SCOTACCOUNT_CLAIMS_TOKEN_MAX_AGE": 300,
    "SCOTACCOUNT_MAX_PENDING_FLOWS_PER_BROWSER": 5,
    "SCOTACCOUNT_FLOW_RATE_LIMIT": 30,
    "SCOTACCOUNT_FLOW_RATE_WINDOW": 300,
    "SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS": True,
    "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS": [],
}


def as_timedelta(value: int | float | timedelta) -> timedelta:
    """Durations may be given as seconds or as a ``timedelta``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ImproperlyConfigured(f"Expected seconds or a timedelta, got {value!r}.")
    return timedelta(seconds=value)


class ScotAccountSettings:
    """Typed access to the ``SCOTACCOUNT_*`` settings, with defaults in ``DEFAULTS``."""

    def _get(self, name: str) -> Any:
        return getattr(settings, name, DEFAULTS[name])

    @property
    def CLIENT_ID(self) -> str | None:
        return self._get("SCOTACCOUNT_CLIENT_ID")  # type: ignore[no-any-return]

    @property
    def ENVIRONMENT(self) -> str:
        return str(self._get("SCOTACCOUNT_ENVIRONMENT"))

    def _environment_default(self, key: str) -> str | None:
        if self.ENVIRONMENT == "local":
            return local_environment(self.LOCAL_PORT)[key]
        return ENVIRONMENTS.get(self.ENVIRONMENT, {}).get(key)

    @property
    def LOCAL_PORT(self) -> int:
        """The fake's sign-in port when ``SCOTACCOUNT_ENVIRONMENT = "local"``."""
        return int(self._get("SCOTACCOUNT_LOCAL_PORT"))

    @property
    def DISCOVERY_URL(self) -> str | None:
        explicit = self._get("SCOTACCOUNT_DISCOVERY_URL")
        return explicit or self._environment_default("discovery_url")

    @property
    def ISSUER(self) -> str | None:
        """The sign-in issuer: explicit, or the discovery URL without its suffix."""
        explicit = self._get("SCOTACCOUNT_ISSUER")
        if explicit:
            return str(explicit)
        discovery = self.DISCOVERY_URL
        if discovery and discovery.endswith(DISCOVERY_SUFFIX):
            return discovery[: -len(DISCOVERY_SUFFIX)]
        return None

    @property
    def ATTRIBUTES_URL(self) -> str | None:
        explicit = self._get("SCOTACCOUNT_ATTRIBUTES_URL")
        return explicit or self._environment_default("attributes_url")

    @property
    def ATTRIBUTES_ISSUER(self) -> str | None:
        explicit = self._get("SCOTACCOUNT_ATTRIBUTES_ISSUER")
        return explicit or self._environment_default("attributes_issuer")

    @property
    def ATTRIBUTES_JWKS_URL(self) -> str | None:
        """``None`` means: the sign-in JWKS from discovery."""
        explicit = self._get("SCOTACCOUNT_ATTRIBUTES_JWKS_URL")
        return explicit or self._environment_default("attributes_jwks_url")

    @property
    def PRIVATE_KEY_FILE(self) -> str | None:
        value = self._get("SCOTACCOUNT_PRIVATE_KEY_FILE")
        return str(value) if value else None

    @property
    def PRIVATE_KEY(self) -> str | None:
        return self._get("SCOTACCOUNT_PRIVATE_KEY")  # type: ignore[no-any-return]

    @property
    def PRIVATE_KEY_ID(self) -> str | None:
        return self._get("SCOTACCOUNT_PRIVATE_KEY_ID")  # type: ignore[no-any-return]

    @property
    def REDIRECT_URI(self) -> str | None:
        return self._get("SCOTACCOUNT_REDIRECT_URI")  # type: ignore[no-any-return]

    @property
    def POST_LOGOUT_REDIRECT_URI(self) -> str | None:
        return self._get("SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI")  # type: ignore[no-any-return]

    @property
    def END_SESSION_URL(self) -> str | None:
        """Used only when discovery advertises no ``end_session_endpoint``."""
        return self._get("SCOTACCOUNT_END_SESSION_URL")  # type: ignore[no-any-return]

    @property
    def DOCUMENTED_END_SESSION_URL(self) -> str | None:
        """ScotAccount's documented ``/authorize/logout`` on the configured sign-in issuer."""
        issuer = self.ISSUER
        return f"{issuer.rstrip('/')}{DOCUMENTED_LOGOUT_PATH}" if issuer else None

    @property
    def ID_TOKEN_ALGORITHMS(self) -> list[str]:
        return list(self._get("SCOTACCOUNT_ID_TOKEN_ALGORITHMS"))

    @property
    def CONNECT_TIMEOUT(self) -> float:
        """In seconds, as ``requests`` wants it; the setting may be a ``timedelta``."""
        return as_timedelta(self._get("SCOTACCOUNT_CONNECT_TIMEOUT")).total_seconds()

    @property
    def READ_TIMEOUT(self) -> float:
        """In seconds, as ``requests`` wants it; the setting may be a ``timedelta``."""
        return as_timedelta(self._get("SCOTACCOUNT_READ_TIMEOUT")).total_seconds()

    @property
    def CA_BUNDLE(self) -> str | None:
        return self._get("SCOTACCOUNT_CA_BUNDLE")  # type: ignore[no-any-return]

    @property
    def CLOCK_LEEWAY(self) -> timedelta:
        """The setting, held between 0 and 60 s at run time (check E013 reports a larger one).

        A check alone would let a deployment that skips checks accept tokens
        long expired; clamping keeps the promise in ``docs/security.md``.
        """
        configured = as_timedelta(self._get("SCOTACCOUNT_CLOCK_LEEWAY"))
        return max(timedelta(0), min(configured, MAX_CLOCK_LEEWAY))

    @property
    def FLOW_LIFETIME(self) -> timedelta:
        return as_timedelta(self._get("SCOTACCOUNT_FLOW_LIFETIME"))

    @property
    def FLOW_COOKIE_NAME(self) -> str:
        return str(self._get("SCOTACCOUNT_FLOW_COOKIE_NAME"))

    @property
    def METADATA_CACHE_TIMEOUT(self) -> timedelta:
        return as_timedelta(self._get("SCOTACCOUNT_METADATA_CACHE_TIMEOUT"))

    @property
    def CACHE_ALIAS(self) -> str:
        return str(self._get("SCOTACCOUNT_CACHE_ALIAS"))

    @property
    def CREATE_USERS(self) -> bool:
        return bool(self._get("SCOTACCOUNT_CREATE_USERS"))

    @property
    def SESSION_LIFETIME(self) -> timedelta:
        return as_timedelta(self._get("SCOTACCOUNT_SESSION_LIFETIME"))

    @property
    def SESSION_IDLE_TIMEOUT(self) -> timedelta | None:
        value = self._get("SCOTACCOUNT_SESSION_IDLE_TIMEOUT")
        return None if value is None else as_timedelta(value)

    @property
    def SESSION_LIFETIME_FOR_ALL_USERS(self) -> bool:
        return bool(self._get("SCOTACCOUNT_SESSION_LIFETIME_FOR_ALL_USERS"))

    @property
    def ATTRIBUTE_MAX_AGE(self) -> dict[str, timedelta]:
        raw = self._get("SCOTACCOUNT_ATTRIBUTE_MAX_AGE") or {}
        return {scope: as_timedelta(age) for scope, age in raw.items()}

    @property
    def ATTRIBUTES_UNAVAILABLE_HANDLER(self) -> str | None:
        return self._get("SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER")  # type: ignore[no-any-return]

    @property
    def CLAIMS_TOKEN_MAX_AGE(self) -> timedelta:
        return as_timedelta(self._get("SCOTACCOUNT_CLAIMS_TOKEN_MAX_AGE"))

    @property
    def MAX_PENDING_FLOWS_PER_BROWSER(self) -> int:
        return int(self._get("SCOTACCOUNT_MAX_PENDING_FLOWS_PER_BROWSER"))

    @property
    def FLOW_RATE_LIMIT(self) -> int | None:
        value = self._get("SCOTACCOUNT_FLOW_RATE_LIMIT")
        return None if value is None else int(value)

    @property
    def FLOW_RATE_WINDOW(self) -> timedelta:
        return as_timedelta(self._get("SCOTACCOUNT_FLOW_RATE_WINDOW"))

    @property
    def ACCEPT_VERIFIED_WITH_WARNINGS(self) -> bool:
        """The council's policy: does ``VERIFIED_WITH_WARNINGS`` count as verified?"""
        return bool(self._get("SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS"))

    @property
    def ATTRIBUTE_ENCRYPTION_KEYS(self) -> list[str]:
        """Fernet keys for verified attribute values at rest: the first encrypts."""
        keys = self._get("SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS") or []
        if isinstance(keys, str | bytes):
            raise ImproperlyConfigured("Expected a list of Fernet keys, got a single value.")
        return [key.decode() if isinstance(key, bytes) else str(key) for key in keys]


conf = ScotAccountSettings()
