"""System checks for every misconfiguration a council could make, with stable ids.

Every message and hint lives in ``MESSAGES``; a test proves each id fires.

The default checks look at the *shape* of the settings only: no file or network
I/O, so ``migrate``, ``createsuperuser`` or a cron job run where the key is not
mounted (the same as django-cors-headers' checks). Checks that load the key or
only make sense with production values are deploy checks, run by
``manage.py check --deploy``; the key is validated again where it is first used.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db.models import EmailField
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from scotaccount_django import fields
from scotaccount_django._internal.provider import (
    is_https_or_loopback,
    is_loopback_url,
    load_signing_key,
)
from scotaccount_django._internal.setting_types import SETTING_KINDS
from scotaccount_django.conf import ENVIRONMENTS, as_timedelta, conf
from scotaccount_django.exceptions import ConfigurationError
from scotaccount_django.models import AttributeScope

BACKEND = "scotaccount_django.backends.ScotAccountBackend"
MIDDLEWARE = "scotaccount_django.middleware.SessionLifetimeMiddleware"
SCOTACCOUNT_SESSION_HOURS = 4
MAX_LEEWAY_SECONDS = 60
SAFE_ALGORITHMS = {"RS256", "ES256", "PS256"}
MIN_ATTRIBUTE_MAX_AGE = timedelta(hours=1)
#: Cache backends whose contents live in one process (or nowhere).
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)

#: id -> (message, hint). Ids are a public promise: never reuse or renumber one.
MESSAGES: dict[str, tuple[str, str]] = {
    "scotaccount.E001": (
        "SCOTACCOUNT_CLIENT_ID is not set.",
        "Set it to the client id ScotAccount gave you at onboarding.",
    ),
    "scotaccount.E002": (
        "No private key is configured for ScotAccount.",
        "Set SCOTACCOUNT_PRIVATE_KEY_FILE (a PEM file, ideally on tmpfs) or "
        "SCOTACCOUNT_PRIVATE_KEY (PEM text). `manage.py scotaccount_keygen` makes one.",
    ),
    "scotaccount.E003": (
        "{detail}",
        "The key is read where sign-in needs it, so fix it before people sign in; "
        "the same message is logged then.",
    ),
    "scotaccount.E004": (
        "{setting} is not an https URL: {url}",
        "ScotAccount endpoints must use https; http is only allowed for localhost.",
    ),
    "scotaccount.E005": (
        f"Neither {BACKEND} nor a subclass of it is in AUTHENTICATION_BACKENDS.",
        f"Add '{BACKEND}' (or your subclass of it) to AUTHENTICATION_BACKENDS.",
    ),
    "scotaccount.E006": (
        "The ScotAccount URLs are not included (no URL named 'scotaccount:callback').",
        'Add path("scotaccount/", include("scotaccount_django.urls")) to your URLconf.',
    ),
    "scotaccount.E007": (
        "SESSION_ENGINE is the signed-cookies engine, which cannot be revoked server-side.",
        "Use the database, cache or cached_db session engine.",
    ),
    "scotaccount.E008": (
        "SESSION_COOKIE_SAMESITE is 'Strict', so the session is lost on the way back "
        "from ScotAccount.",
        "Use 'Lax' (Django's default).",
    ),
    "scotaccount.E009": (
        "SCOTACCOUNT_REDIRECT_URI is not set and DEBUG is off.",
        "Set it to the absolute callback URL registered with ScotAccount, e.g. "
        "https://www.example.gov.scot/scotaccount/callback/.",
    ),
    "scotaccount.E010": (
        "ScotAccount settings point at this machine ({url}) and DEBUG is off.",
        "That is the fake ScotAccount for development; set SCOTACCOUNT_ENVIRONMENT "
        "or SCOTACCOUNT_DISCOVERY_URL to the real service.",
    ),
    "scotaccount.E011": (
        "SCOTACCOUNT_ENVIRONMENT is {value!r}.",
        "Use 'integration', 'production' or 'local' (the fake `manage.py scotaccount_fake` "
        "serves), or set SCOTACCOUNT_DISCOVERY_URL.",
    ),
    "scotaccount.E012": (
        "SCOTACCOUNT_ATTRIBUTES_URL is required in production (ScotAccount does not publish it).",
        "Set it to the attributes URL ScotAccount gave you at onboarding.",
    ),
    "scotaccount.E013": (
        "SCOTACCOUNT_CLOCK_LEEWAY is {seconds} seconds; more than 60 lets expired tokens in.",
        "Use 60 seconds or less (the default is 30).",
    ),
    "scotaccount.E014": (
        "SCOTACCOUNT_ID_TOKEN_ALGORITHMS contains {algorithms}.",
        "Only asymmetric algorithms are safe here; ScotAccount signs with RS256.",
    ),
    "scotaccount.E015": (
        "The issuer cannot be worked out from SCOTACCOUNT_DISCOVERY_URL.",
        "Set SCOTACCOUNT_ISSUER, or use a discovery URL ending in "
        "/.well-known/openid-configuration.",
    ),
    "scotaccount.E016": (
        "{app} is not in INSTALLED_APPS.",
        "ScotAccount sign-in needs Django's sessions and auth apps.",
    ),
    "scotaccount.E017": (
        "{middleware} is not in MIDDLEWARE.",
        "ScotAccount sign-in needs Django's session and authentication middleware.",
    ),
    "scotaccount.E020": (
        f"{MIDDLEWARE} comes before {{middleware}} in MIDDLEWARE.",
        "Put it after SessionMiddleware and AuthenticationMiddleware: it reads both.",
    ),
    "scotaccount.E021": (
        "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI is not set and DEBUG is off, so logout "
        "cannot sign people out of ScotAccount.",
        "Set it to the absolute URL of the 'scotaccount:logged_out' view, registered with "
        "ScotAccount as your logout URI, e.g. https://www.example.gov.scot/scotaccount/logged-out/.",
    ),
    "scotaccount.E022": (
        "{setting} is not a positive duration: {detail}",
        "Use a number of seconds or a datetime.timedelta greater than zero.",
    ),
    "scotaccount.E030": (
        "SCOTACCOUNT_ATTRIBUTE_MAX_AGE names unknown scopes: {scopes}.",
        "Use the scopes scotaccount.gpg45.medium, scotaccount.address and scotaccount.email.",
    ),
    "scotaccount.E031": (
        "SCOTACCOUNT_ATTRIBUTE_MAX_AGE for {scope} is {value}; it must be at least one hour.",
        "A shorter age expires an attribute before the person is back on the page that "
        "needed it, sending them round the step-up again. Give seconds or a timedelta.",
    ),
    "scotaccount.E032": (
        "SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER cannot be imported: {detail}",
        "Give the dotted path of a callable taking (request, unavailable), or None for the "
        "built-in page.",
    ),
    "scotaccount.E033": (
        "SCOTACCOUNT_ATTRIBUTES_ISSUER is not set, so no claimsToken can be verified.",
        "Set it to the attributes issuer ScotAccount gave you at onboarding (it is not the "
        "sign-in issuer).",
    ),
    "scotaccount.E050": (
        "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS cannot be used: {detail}",
        "Give a list of Fernet keys (Fernet.generate_key().decode()), the newest first.",
    ),
    "scotaccount.E060": (
        "{setting} is {actual}; it must be {expected}.",
        "For example {setting} = {example}. Values read from environment variables are "
        "strings: convert them first, e.g. with int() or float().",
    ),
    "scotaccount.E061": (
        "Sign-in and attributes point at different ScotAccount environments: {detail}.",
        "Set SCOTACCOUNT_ENVIRONMENT alone ('local', 'integration' or 'production') and "
        "remove the URL overrides, or point every ScotAccount URL at the same environment.",
    ),
    "scotaccount.E062": (
        "{model}.{field} is the USERNAME_FIELD, an EmailField that cannot be empty, and "
        "ScotAccount gives no email address at sign-in.",
        "Make it null=True (addresses stay unique), or override create_user() on a "
        "subclass of ScotAccountBackend (see 'Your user model' in docs/installation.md).",
    ),
    "scotaccount.W001": (
        "Both SCOTACCOUNT_PRIVATE_KEY_FILE and SCOTACCOUNT_PRIVATE_KEY are set; the file wins.",
        "Remove one of them.",
    ),
    "scotaccount.W020": (
        f"{MIDDLEWARE} is not in MIDDLEWARE, so ScotAccount sign-ins last as long as "
        "Django's session (SESSION_COOKIE_AGE), not ScotAccount's 4 hours.",
        "Add it after AuthenticationMiddleware.",
    ),
    "scotaccount.W021": (
        "SCOTACCOUNT_SESSION_LIFETIME is {lifetime}, longer than ScotAccount's 4-hour sessions.",
        "People would stay signed in here after ScotAccount has signed them out; "
        "use 4 hours or less.",
    ),
    "scotaccount.W022": (
        "SCOTACCOUNT_SESSION_IDLE_TIMEOUT ({idle}) is not shorter than "
        "SCOTACCOUNT_SESSION_LIFETIME ({lifetime}), so it never applies.",
        "Make it shorter than the lifetime, or set it to None.",
    ),
    "scotaccount.W040": (
        "SCOTACCOUNT_CACHE_ALIAS {alias!r} uses {backend}, which each worker process keeps "
        "to itself.",
        "Discovery and JWKS are cached there, and 'one JWKS refetch per 30 s' only holds "
        "across workers with a shared cache: point SCOTACCOUNT_CACHE_ALIAS at Redis, "
        "Memcached or the database cache.",
    ),
    "scotaccount.I040": (
        "Sign-out at ScotAccount goes to the discovery document's end_session_endpoint; "
        "if it advertises none, to {url} ({source}).",
        "ScotAccount documents logout at /authorize/logout on the sign-in host; set "
        "SCOTACCOUNT_END_SESSION_URL if it gave you another address.",
    ),
    "scotaccount.W050": (
        "Verified attributes (personal data) are stored unencrypted: "
        "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS is empty.",
        "Set it to a list of Fernet keys kept outside the database (see docs/deployment.md), "
        "then run `manage.py scotaccount_reencrypt`.",
    ),
}

LEVELS: dict[str, int] = {
    "scotaccount.E": checks.ERROR,
    "scotaccount.W": checks.WARNING,
    "scotaccount.I": checks.INFO,
}


def _error(check_id: str, **fmt: Any) -> checks.CheckMessage:
    message, hint = MESSAGES[check_id]
    level = LEVELS[check_id[: len("scotaccount.E")]]
    return checks.CheckMessage(level, message.format(**fmt), hint=hint.format(**fmt), id=check_id)


@checks.register(checks.Tags.security)
def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """The shape of the settings: no I/O, so commands run without the key mounted."""
    wrong_types = list(_type_problems())
    if wrong_types:
        # Every later check reads these values; stop at the message that says why.
        return wrong_types
    return list(_settings_problems())


@checks.register(checks.Tags.security, deploy=True)
def check_deploy_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """What only matters where people sign in: the key itself and production values."""
    if _has_type_problems():
        return []  # the default checks already said what is wrong
    return list(_deploy_problems())


def _has_type_problems() -> bool:
    return any(True for _ in _type_problems())


@checks.register(checks.Tags.urls)
def check_urls(**kwargs: Any) -> list[checks.CheckMessage]:
    try:
        reverse("scotaccount:callback")
    except NoReverseMatch:
        return [_error("scotaccount.E006")]
    return []


def _type_problems() -> Iterator[checks.CheckMessage]:
    for setting, kind in SETTING_KINDS.items():
        if not hasattr(settings, setting):
            continue
        value = getattr(settings, setting)
        if not kind.accepts(value):
            # The type only, never the value: it may be the private key.
            actual = "None" if value is None else f"a {type(value).__name__}"
            yield _error(
                "scotaccount.E060",
                setting=setting,
                actual=actual,
                expected=kind.expected,
                example=kind.example,
            )


def _deploy_problems() -> Iterator[checks.CheckMessage]:
    if conf.PRIVATE_KEY_FILE or conf.PRIVATE_KEY:
        try:
            load_signing_key()
        except ConfigurationError as exc:
            yield _error("scotaccount.E003", detail=exc)
    if conf.ENVIRONMENT == "production" and not conf.ATTRIBUTES_URL:
        yield _error("scotaccount.E012")
    if not conf.REDIRECT_URI and not settings.DEBUG:
        yield _error("scotaccount.E009")
    if not conf.POST_LOGOUT_REDIRECT_URI and not settings.DEBUG:
        yield _error("scotaccount.E021")
    loopback = [url for url in _provider_urls().values() if url and is_loopback_url(url)]
    if loopback and not settings.DEBUG:
        yield _error("scotaccount.E010", url=loopback[0])


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(**kwargs: Any) -> list[checks.CheckMessage]:
    """``--deploy``: discovery and JWKS belong in a cache every worker shares."""
    if _has_type_problems():
        return []
    alias = conf.CACHE_ALIAS
    backend = str(settings.CACHES.get(alias, {}).get("BACKEND", ""))
    if backend in PER_PROCESS_CACHES:
        return [_error("scotaccount.W040", alias=alias, backend=backend.rsplit(".", 1)[-1])]
    return []


@checks.register(checks.Tags.security)
def check_attribute_encryption(**kwargs: Any) -> list[checks.CheckMessage]:
    try:
        fields.key_ring()
    except ImproperlyConfigured as exc:
        return [_error("scotaccount.E050", detail=exc)]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_end_session_url(**kwargs: Any) -> list[checks.CheckMessage]:
    """``--deploy``: say where sign-out goes when discovery advertises no endpoint."""
    if _has_type_problems():
        return []
    if conf.END_SESSION_URL:
        url, source = conf.END_SESSION_URL, "SCOTACCOUNT_END_SESSION_URL"
    else:
        url = conf.DOCUMENTED_END_SESSION_URL or "nowhere: no issuer is configured"
        source = "ScotAccount's documented logout path on the configured issuer"
    return [_error("scotaccount.I040", url=url, source=source)]


@checks.register(checks.Tags.security, deploy=True)
def check_attribute_encryption_on(**kwargs: Any) -> list[checks.CheckMessage]:
    try:
        if settings.DEBUG or conf.ATTRIBUTE_ENCRYPTION_KEYS:
            return []
    except ImproperlyConfigured:
        return []  # E050 says what is wrong with the setting
    return [_error("scotaccount.W050")]


def _settings_problems() -> Iterator[checks.CheckMessage]:
    if not conf.CLIENT_ID:
        yield _error("scotaccount.E001")
    yield from _key_problems()
    if not conf._get("SCOTACCOUNT_DISCOVERY_URL") and conf.ENVIRONMENT not in ENVIRONMENTS:
        yield _error("scotaccount.E011", value=conf.ENVIRONMENT)
    elif not conf.ISSUER:
        yield _error("scotaccount.E015")
    yield from _url_problems()
    yield from _environment_problems()
    if conf.ATTRIBUTES_URL and not conf.ATTRIBUTES_ISSUER:
        yield _error("scotaccount.E033")
    yield from _attribute_problems()
    yield from _user_model_problems()
    # The configured value: conf.CLOCK_LEEWAY is already clamped to the cap.
    seconds = as_timedelta(conf._get("SCOTACCOUNT_CLOCK_LEEWAY")).total_seconds()
    if seconds > MAX_LEEWAY_SECONDS:
        yield _error("scotaccount.E013", seconds=int(seconds))
    unsafe = sorted(set(conf.ID_TOKEN_ALGORITHMS) - SAFE_ALGORITHMS)
    if unsafe or not conf.ID_TOKEN_ALGORITHMS:
        yield _error("scotaccount.E014", algorithms=", ".join(unsafe) or "nothing")
    yield from _wiring_problems()
    yield from _session_problems()


def _attribute_problems() -> Iterator[checks.CheckMessage]:
    raw = conf._get("SCOTACCOUNT_ATTRIBUTE_MAX_AGE") or {}
    unknown = sorted(set(raw) - set(AttributeScope.values))
    if unknown:
        yield _error("scotaccount.E030", scopes=", ".join(map(str, unknown)))
    for scope, value in raw.items():
        try:
            too_short = as_timedelta(value) < MIN_ATTRIBUTE_MAX_AGE
        except ImproperlyConfigured:
            too_short = True
        if too_short:
            yield _error("scotaccount.E031", scope=scope, value=repr(value))
    handler = conf.ATTRIBUTES_UNAVAILABLE_HANDLER
    if handler:
        try:
            if not callable(import_string(handler)):
                raise ImportError(f"{handler} is not callable")
        except ImportError as exc:
            yield _error("scotaccount.E032", detail=exc)


def _key_problems() -> Iterator[checks.CheckMessage]:
    if conf.PRIVATE_KEY_FILE and conf.PRIVATE_KEY:
        yield _error("scotaccount.W001")
    if not conf.PRIVATE_KEY_FILE and not conf.PRIVATE_KEY:
        yield _error("scotaccount.E002")


def environment_of(url: str) -> str | None:
    """Which ScotAccount environment a URL belongs to; None for hosts we cannot tell."""
    if is_loopback_url(url):
        return "local"
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith(".integration.scotaccount.service.gov.scot"):
        return "integration"
    if host.endswith(".scotaccount.service.gov.scot"):
        return "production"
    return None


def _provider_urls() -> dict[str, str | None]:
    """Where ScotAccount's sign-in and attributes services are, by setting name."""
    return {
        "SCOTACCOUNT_DISCOVERY_URL": conf.DISCOVERY_URL,
        "SCOTACCOUNT_ATTRIBUTES_URL": conf.ATTRIBUTES_URL,
        "SCOTACCOUNT_ATTRIBUTES_ISSUER": conf.ATTRIBUTES_ISSUER,
        "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": conf.ATTRIBUTES_JWKS_URL,
    }


def _environment_problems() -> Iterator[checks.CheckMessage]:
    found = {name: environment_of(url) for name, url in _provider_urls().items() if url}
    if len({environment for environment in found.values() if environment}) > 1:
        detail = ", ".join(f"{name} on {env}" for name, env in found.items() if env)
        yield _error("scotaccount.E061", detail=detail)


def _user_model_problems() -> Iterator[checks.CheckMessage]:
    if not conf.CREATE_USERS:
        return
    try:
        user_model = get_user_model()
    except ImproperlyConfigured:
        return  # Django's own checks report AUTH_USER_MODEL
    field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    if isinstance(field, EmailField) and not field.null:
        yield _error(
            "scotaccount.E062", model=user_model._meta.label, field=user_model.USERNAME_FIELD
        )


def _url_problems() -> Iterator[checks.CheckMessage]:
    urls = {
        **_provider_urls(),
        "SCOTACCOUNT_REDIRECT_URI": conf.REDIRECT_URI,
        "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI": conf.POST_LOGOUT_REDIRECT_URI,
        "SCOTACCOUNT_END_SESSION_URL": conf.END_SESSION_URL,
    }
    for setting, url in urls.items():
        if not url:
            continue
        if not is_https_or_loopback(url):
            yield _error("scotaccount.E004", setting=setting, url=url)


def _is_scotaccount_backend(path: str) -> bool:
    """True for ``ScotAccountBackend`` or a council's subclass of it."""
    from scotaccount_django.backends import ScotAccountBackend

    try:
        backend = import_string(path)
    except ImportError:
        return False  # Django reports a backend it cannot import when it is used.
    return isinstance(backend, type) and issubclass(backend, ScotAccountBackend)


def _wiring_problems() -> Iterator[checks.CheckMessage]:
    if not any(_is_scotaccount_backend(path) for path in settings.AUTHENTICATION_BACKENDS):
        yield _error("scotaccount.E005")
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        yield _error("scotaccount.E007")
    if str(settings.SESSION_COOKIE_SAMESITE).lower() == "strict":
        yield _error("scotaccount.E008")
    for app in ("django.contrib.sessions", "django.contrib.auth"):
        if app not in settings.INSTALLED_APPS:
            yield _error("scotaccount.E016", app=app)
    for middleware in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ):
        if middleware not in settings.MIDDLEWARE:
            yield _error("scotaccount.E017", middleware=middleware)


def _session_problems() -> Iterator[checks.CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        yield _error("scotaccount.W020")
    else:
        for required in (
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ):
            if required in middleware and middleware.index(required) > middleware.index(
                MIDDLEWARE
            ):
                yield _error("scotaccount.E020", middleware=required)
    durations: dict[str, timedelta | None] = {}
    for setting in ("SESSION_LIFETIME", "SESSION_IDLE_TIMEOUT"):
        try:
            durations[setting] = getattr(conf, setting)
        except ImproperlyConfigured as exc:
            yield _error("scotaccount.E022", setting=f"SCOTACCOUNT_{setting}", detail=exc)
            return
        value = durations[setting]
        if value is not None and value <= timedelta(0):
            yield _error("scotaccount.E022", setting=f"SCOTACCOUNT_{setting}", detail=value)
            return
    lifetime, idle = durations["SESSION_LIFETIME"], durations["SESSION_IDLE_TIMEOUT"]
    assert lifetime is not None
    if lifetime > timedelta(hours=SCOTACCOUNT_SESSION_HOURS):
        yield _error("scotaccount.W021", lifetime=lifetime)
    if idle is not None and idle >= lifetime:
        yield _error("scotaccount.W022", idle=idle, lifetime=lifetime)
