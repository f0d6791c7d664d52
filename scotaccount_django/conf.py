"""Every ``SCOTACCOUNT_*`` setting is one row of ``Settings``: accessors, checks, docs.

As DRF's ``api_settings``, a value is converted once, kept until ``setting_changed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from os import PathLike
from typing import Any, Generic, TypeVar, overload
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from scotaccount_django.exceptions import ConfigurationError

T = TypeVar("T")
PREFIX = "SCOTACCOUNT_"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
#: Where ScotAccount documents its logout, on the sign-in host.
DOCUMENTED_LOGOUT_PATH = "/authorize/logout"
#: ScotAccount's documented URLs (production's attributes URL is not published: E012).
ENVIRONMENT_URLS = {
    "integration": {
        "SCOTACCOUNT_DISCOVERY_URL": "https://authz.integration.scotaccount.service.gov.scot"
        + DISCOVERY_SUFFIX,
        "SCOTACCOUNT_ATTRIBUTES_URL": "https://issuer.main.integration.scotaccount.service"
        ".gov.scot/attributes/values",
    },
    "production": {
        "SCOTACCOUNT_DISCOVERY_URL": "https://authz.scotaccount.service.gov.scot"
        + DISCOVERY_SUFFIX
    },
}
LOCAL_URLS = {
    "SCOTACCOUNT_DISCOVERY_URL": (0, DISCOVERY_SUFFIX),
    "SCOTACCOUNT_ATTRIBUTES_URL": (1, "/attributes/values"),
    "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": (1, "/jwks.json"),
}  # the fake's: (port offset from LOCAL_PORT, path)
ENVIRONMENTS = (*ENVIRONMENT_URLS, "local")
LOCAL_HOST = "127.0.0.1"


def as_timedelta(value: int | float | timedelta) -> timedelta:
    """Durations may be given as seconds or as a ``timedelta``."""
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def python_literal(value: Any) -> str:
    """A value as a council would write it in ``settings.py`` (docs and check hints)."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
            if seconds and seconds % size == 0:
                return f"timedelta({unit}={seconds // size})"
        return f"timedelta(seconds={seconds})"
    return repr(value).replace("'", '"')


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What a setting accepts: in words, as a type test, and as a rule on the value."""

    expected: str
    accepts: Callable[[Any], bool]
    convert: Callable[[Any], T]
    example: str
    #: Words for ``valid``; a value of the right type that breaks it is check E022.
    rule: str = ""
    valid: Callable[[Any], bool] = lambda value: True

    def optional(self, example: str) -> Kind[T | None]:
        return Kind(
            f"{self.expected}, or None",
            lambda value: value is None or self.accepts(value),
            lambda value: None if value is None else self.convert(value),
            example,
            self.rule,
            lambda value: value is None or self.valid(value),
        )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _duration(value: Any) -> bool:
    return isinstance(value, timedelta) or (_whole(value) or isinstance(value, float))


TEXT: Kind[str] = Kind("a string", lambda value: isinstance(value, str), str, '"value"')
URL = TEXT.optional('"https://www.example.gov.scot/scotaccount/callback/"')
PATH = Kind(
    "a path (a string or pathlib.Path)", lambda value: isinstance(value, str | PathLike), str, ""
).optional('BASE_DIR / "secrets" / "scotaccount.pem"')
FLAG: Kind[bool] = Kind("True or False", lambda value: isinstance(value, bool), bool, "True")
POSITIVE = "greater than zero"
DURATION: Kind[timedelta] = Kind(
    "a number of seconds or a datetime.timedelta", _duration, as_timedelta, "30", POSITIVE,
    lambda value: as_timedelta(value) > timedelta(0),
)  # fmt: skip
PORT: Kind[int] = Kind(
    "a whole number", _whole, int, "8001", "from 1 to 65534 (the fake also uses the next)",
    lambda value: 0 < value < 65535,
)  # fmt: skip
DURATION_MAP: Kind[dict[str, timedelta]] = Kind(
    "a dict of scope to seconds or datetime.timedelta",
    lambda value: isinstance(value, Mapping) and all(map(_duration, value.values())),
    lambda value: {scope: as_timedelta(age) for scope, age in value.items()},
    '{"scotaccount.address": timedelta(days=90)}',
)
KEY_LIST: Kind[list[str]] = Kind(
    "a list of Fernet keys",
    lambda keys: isinstance(keys, list | tuple) and all(isinstance(k, str | bytes) for k in keys),
    lambda value: [key.decode() if isinstance(key, bytes) else key for key in value],
    '[os.environ["SCOTACCOUNT_ATTRIBUTE_KEY"]]',
)  # fmt: skip


class Setting(Generic[T]):
    """One row: a ``SCOTACCOUNT_*`` name, its kind, its default and a one-line doc."""

    def __init__(self, kind: Kind[T], default: Any, doc: str, example: str = "") -> None:
        self.kind, self.default, self.doc = kind, default, doc
        self.example = example or (python_literal(default) if default else kind.example)

    def __set_name__(self, owner: type, name: str) -> None:
        self.attname, self.name = name, PREFIX + name

    def raw(self) -> Any:
        return getattr(settings, self.name, self.default)

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Setting[T] | T:
        if instance is None:
            return self
        value: Any = self.kind.convert(self.raw())
        if self.name in LOCAL_URLS:
            # M7, wherever ScotAccount's URLs are read: it raises, so nothing is kept.
            refuse_local_without_debug()
            value = value or environment_url(self.name)
        vars(instance)[self.attname] = value  # later reads skip this method
        return value  # type: ignore[no-any-return]


class Settings:
    """The rows, then what is fixed or derived from them."""

    CLIENT_ID = Setting(
        TEXT.optional('"..."'), None, "The client id ScotAccount gave you at onboarding."
    )
    ENVIRONMENT = Setting(
        TEXT, "integration", "`integration`, `production` or `local` (the fake)."
    )
    LOCAL_PORT = Setting(PORT, 8001, "The local fake's sign-in port; attributes use the next.")
    ALLOW_LOCAL_WITHOUT_DEBUG = Setting(FLAG, False, "Let `local` run with DEBUG off: CI only.")
    DISCOVERY_URL = Setting(URL, None, "The discovery URL, if not the environment's.")
    ATTRIBUTES_URL = Setting(URL, None, "The attributes URL, if not the environment's.")
    ATTRIBUTES_JWKS_URL = Setting(URL, None, "The attributes issuer's keys, if not sign-in's.")
    PRIVATE_KEY = Setting(PATH, None, "Your private key: a PEM file's path, or the PEM text.")
    REDIRECT_URI = Setting(URL, None, "The callback URL registered with ScotAccount.")
    POST_LOGOUT_REDIRECT_URI = Setting(URL, None, "The logged-out URL registered with it.")
    TIMEOUT = Setting(DURATION, 10, "The longest any call to ScotAccount may take.")
    CA_BUNDLE = Setting(PATH, None, "CAs to trust instead of certifi's.", '"/etc/ssl/ca.pem"')
    CACHE_ALIAS = Setting(TEXT, "default", "The cache, shared by every worker, for metadata.")
    CREATE_USERS = Setting(FLAG, True, "Create a user for a person signing in the first time.")
    SESSION_LIFETIME = Setting(DURATION, timedelta(hours=4), "A sign-in's absolute lifetime.")
    SESSION_IDLE_TIMEOUT = Setting(
        DURATION.optional("timedelta(minutes=30)"), None, "End a sign-in idle this long."
    )
    ATTRIBUTE_MAX_AGE = Setting(DURATION_MAP, {}, "Per scope, when an attribute is asked again.")
    ACCEPT_VERIFIED_WITH_WARNINGS = Setting(FLAG, True, "`VERIFIED_WITH_WARNINGS` is verified.")
    ATTRIBUTE_ENCRYPTION_KEYS = Setting(KEY_LIST, [], "Fernet keys for attributes at rest.")

    # Fixed: ScotAccount's documented values, or the safe choice, not a council's.
    CLOCK_LEEWAY = timedelta(seconds=30)
    CLAIMS_TOKEN_MAX_AGE = timedelta(minutes=5)
    METADATA_CACHE_TIMEOUT = timedelta(minutes=15)
    ID_TOKEN_ALGORITHMS = ["RS256"]
    FLOW_LIFETIME = timedelta(days=7)

    @cached_property
    def ISSUER(self) -> str | None:
        """The sign-in issuer: the discovery URL without its suffix."""
        discovery = self.DISCOVERY_URL
        if discovery and discovery.endswith(DISCOVERY_SUFFIX):
            return discovery[: -len(DISCOVERY_SUFFIX)]
        return None

    @cached_property
    def ATTRIBUTES_ISSUER(self) -> str | None:
        """``iss`` of every claimsToken: ``/jwt`` on the attributes host, as ScotAccount's."""
        url = urlsplit(self.ATTRIBUTES_URL or "")
        return f"{url.scheme}://{url.netloc}/jwt" if url.netloc else None

    @cached_property
    def DOCUMENTED_END_SESSION_URL(self) -> str | None:
        """ScotAccount's documented ``/authorize/logout`` on the sign-in issuer."""
        issuer = self.ISSUER
        return f"{issuer.rstrip('/')}{DOCUMENTED_LOGOUT_PATH}" if issuer else None

    @cached_property
    def PRIVATE_KEY_PEM(self) -> str | None:
        """The key's PEM text when ``SCOTACCOUNT_PRIVATE_KEY`` holds it inline."""
        value = self.PRIVATE_KEY
        return value if value and value.lstrip().startswith("-----BEGIN") else None

    @cached_property
    def PRIVATE_KEY_FILE(self) -> str | None:
        """The key file's path when ``SCOTACCOUNT_PRIVATE_KEY`` is not PEM text."""
        return None if self.PRIVATE_KEY_PEM else self.PRIVATE_KEY


SETTINGS: list[Setting[Any]] = [row for row in vars(Settings).values() if isinstance(row, Setting)]
KEPT = [name for name, row in vars(Settings).items() if isinstance(row, Setting | cached_property)]
conf = Settings()


@receiver(setting_changed)
def reload_conf(*, setting: str, **kwargs: Any) -> None:
    """Forget what was read when a setting it depends on changes (M7 reads ``DEBUG``)."""
    if setting.startswith(PREFIX) or setting == "DEBUG":
        for name in KEPT:
            vars(conf).pop(name, None)


def environment_url(name: str) -> str | None:
    if conf.ENVIRONMENT != "local" or name not in LOCAL_URLS:
        return ENVIRONMENT_URLS.get(conf.ENVIRONMENT, {}).get(name)
    offset, path = LOCAL_URLS[name]
    return f"http://{LOCAL_HOST}:{conf.LOCAL_PORT + offset}{path}"


def local_allowed() -> bool:
    """The fake may serve sign-in only while developing (DEBUG) or in CI (the opt-in)."""
    return bool(settings.DEBUG) or conf.ALLOW_LOCAL_WITHOUT_DEBUG


def refuse_local_without_debug() -> None:
    """M7: the fake's well-known keys must never sign people in to a live service."""
    if conf.ENVIRONMENT == "local" and not local_allowed():
        raise ConfigurationError(
            "SCOTACCOUNT_ENVIRONMENT is 'local' (the fake ScotAccount) and DEBUG is off. "
            "Turn DEBUG on to develop, or set SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True "
            "in CI; in production use 'integration' or 'production'."
        )
