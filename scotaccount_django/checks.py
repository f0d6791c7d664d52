"""System checks with stable ids; every message and hint is in ``MESSAGES``.

The default checks do no I/O, so ``migrate`` runs where the key is not mounted;
``check --deploy`` adds the files and production values, in the same round.
"""

from __future__ import annotations

import difflib
import os
import stat
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

from scotaccount_django._internal import fields
from scotaccount_django._internal.provider import (
    is_https_or_loopback,
    is_loopback_url,
    load_signing_key,
)
from scotaccount_django.conf import (
    DISCOVERY_SUFFIX,
    DOCUMENTED_LOGOUT_PATH,
    ENVIRONMENTS,
    LOCAL_URLS,
    PREFIX,
    SETTINGS,
    URL,
    Settings,
    conf,
    environment_url,
    local_allowed,
    python_literal,
)
from scotaccount_django.exceptions import ConfigurationError
from scotaccount_django.models import AttributeScope

BACKEND = "scotaccount_django.backends.ScotAccountBackend"
MIDDLEWARE = "scotaccount_django.middleware.SessionLifetimeMiddleware"
#: Key file permission bits for group and others: any of them is W003 (and fails diagnose).
NOT_OWNER = stat.S_IRWXG | stat.S_IRWXO

#: id -> (message, hint). Ids are a public promise: never reuse or renumber one.
# fmt: off
MESSAGES: dict[str, tuple[str, str]] = {f"scotaccount.{key}": text for key, text in {
    "E001": ("SCOTACCOUNT_CLIENT_ID is not set.",
             "Set it to the client id ScotAccount gave you at onboarding."),
    "E002": ("SCOTACCOUNT_PRIVATE_KEY is not set.",
             "Set it to your PEM key file's path (ideally on tmpfs), or to the PEM text; "
             "`manage.py scotaccount_keygen PATH` makes one."),
    "E003": ("{detail}", "Sign-in reads the key when it first needs it and logs this then."),
    "E004": ("{setting} is not an https URL: {url}",
             "ScotAccount endpoints must use https; http is only allowed on this machine."),
    "E005": (f"Neither {BACKEND} nor a subclass of it is in AUTHENTICATION_BACKENDS.",
             f"Add '{BACKEND}' (or your subclass of it) to AUTHENTICATION_BACKENDS."),
    "E006": ("The ScotAccount URLs are not included (no URL named 'scotaccount:callback').",
             'Add path("scotaccount/", include("scotaccount_django.urls")) to your URLconf.'),
    "E007": ("SESSION_ENGINE is signed cookies, which cannot be revoked server-side.",
             "Use the database, cache or cached_db session engine."),
    "E008": ("SESSION_COOKIE_SAMESITE is 'Strict': the session is lost coming back from "
             "ScotAccount.", "Use 'Lax' (Django's default)."),
    "E009": ("SCOTACCOUNT_REDIRECT_URI is not set and DEBUG is off.",
             "Set it to the absolute callback URL registered with ScotAccount, e.g. "
             "https://www.example.gov.scot/scotaccount/callback/."),
    "E010": ("ScotAccount settings point at this machine ({url}) and DEBUG is off.",
             "That is the fake ScotAccount, refused at run time too: set "
             "SCOTACCOUNT_ENVIRONMENT to 'integration' or 'production', or in CI "
             "SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True."),
    "E011": ("SCOTACCOUNT_ENVIRONMENT is {value!r}.",
             "Use 'integration', 'production' or 'local' (the fake `manage.py "
             "scotaccount_fake` serves), or set SCOTACCOUNT_DISCOVERY_URL."),
    "E012": ("SCOTACCOUNT_ATTRIBUTES_URL is required in production (it is not published).",
             "Set it to the attributes URL ScotAccount gave you at onboarding."),
    "E015": ("The issuer cannot be worked out from SCOTACCOUNT_DISCOVERY_URL.",
             f"Use a discovery URL ending in {DISCOVERY_SUFFIX}."),
    "E016": ("{app} is not in INSTALLED_APPS.",
             "ScotAccount sign-in needs Django's sessions and auth apps."),
    "E017": ("{middleware} is not in MIDDLEWARE.",
             "ScotAccount sign-in needs Django's session and authentication middleware."),
    "E020": (f"{MIDDLEWARE} comes before {{middleware}} in MIDDLEWARE.",
             "Put it after SessionMiddleware and AuthenticationMiddleware: it reads both."),
    "E021": ("SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI is not set and DEBUG is off, so logout "
             "cannot sign people out of ScotAccount.",
             "Set it to the absolute URL of 'scotaccount:logged_out', registered with "
             "ScotAccount, e.g. https://www.example.gov.scot/scotaccount/logged-out/."),
    "E022": ("{setting} is {value}; it must be {rule}.", "For example {setting} = {example}."),
    "E030": ("SCOTACCOUNT_ATTRIBUTE_MAX_AGE names unknown scopes: {scopes}.",
             "Use scotaccount.gpg45.medium, scotaccount.address and scotaccount.email."),
    "E031": ("SCOTACCOUNT_ATTRIBUTE_MAX_AGE for {scope} is {value}; it must be an hour or more.",
             "Shorter sends people round the step-up again. "
             'For example {{"{scope}": timedelta(days=90)}}.'),
    "E040": ("SCOTACCOUNT_CACHE_ALIAS is {alias!r}, which is not in CACHES.",
             "Use one of the aliases in CACHES: {aliases}."),
    "E041": ("SCOTACCOUNT_CA_BUNDLE {path} is not a file this process can read.",
             "Give the path of a PEM file of CA certificates, or None for certifi's."),
    "E050": ("SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS cannot be used: {detail}",
             "Give a list of Fernet keys (Fernet.generate_key().decode()), the newest first."),
    "E060": ("{setting} is {actual}; it must be {expected}.",
             "For example {setting} = {example}. A value read from an environment variable "
             "is a string: convert it first."),
    "E061": ("Sign-in and attributes point at different ScotAccount environments: {detail}.",
             "Set SCOTACCOUNT_ENVIRONMENT alone and remove the URL overrides, or point "
             "every ScotAccount URL at the same environment."),
    "E062": ("{model}.{field} is the USERNAME_FIELD, an EmailField that cannot be empty, "
             "and ScotAccount gives no email address at sign-in.",
             "Make it null=True, or override create_user() on a subclass of "
             "ScotAccountBackend (see 'Your user model' in docs/installation.md)."),
    "W002": ("{setting} is not a ScotAccount setting, so it is ignored.",
             "{suggestion}See docs/settings.md for the settings there are."),
    "W003": ("The private key file {path} is readable by group or others (mode {mode:04o}).",
             "Make it owner-only: chmod 600 {path}"),
    "W020": (f"{MIDDLEWARE} is not in MIDDLEWARE, so ScotAccount sign-ins last as long as "
             "Django's session (SESSION_COOKIE_AGE), not ScotAccount's 4 hours.",
             "Add it after AuthenticationMiddleware."),
    "W021": ("SCOTACCOUNT_SESSION_LIFETIME is {lifetime}, longer than ScotAccount's 4 hours.",
             "People would stay signed in here after ScotAccount has signed them out."),
    "W022": ("SCOTACCOUNT_SESSION_IDLE_TIMEOUT ({idle}) is not shorter than "
             "SCOTACCOUNT_SESSION_LIFETIME ({lifetime}), so it never applies.",
             "Make it shorter than the lifetime, or set it to None."),
    "W040": ("SCOTACCOUNT_CACHE_ALIAS {alias!r} uses {backend}, which each worker process "
             "keeps to itself.",
             "'One JWKS refetch per 30 s' holds across workers only with a shared cache: "
             "point SCOTACCOUNT_CACHE_ALIAS at Redis, Memcached or the database cache."),
    "I040": ("Sign-out goes to the discovery document's end_session_endpoint; if it "
             "advertises none, to {url}, on a host that is not ScotAccount's.",
             "That is ScotAccount's documented /authorize/logout: make sure this host serves "
             "it."),
    "W050": ("SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS is empty: new verified attributes "
             "(personal data) are stored unencrypted, and encrypted ones cannot be read.",
             "Set it to Fernet keys kept outside the database (docs/deployment.md), then "
             "run `manage.py scotaccount_reencrypt`."),
}.items()}
# fmt: on


def _message(check_id: str, **fmt: Any) -> checks.CheckMessage:
    message, hint = MESSAGES[check_id]
    level = {"E": checks.ERROR, "W": checks.WARNING, "I": checks.INFO}[check_id.split(".")[1][0]]
    return checks.CheckMessage(level, message.format(**fmt), hint=hint.format(**fmt), id=check_id)


def a_type(value: Any) -> str:
    """``None``, ``an int``, ``a function``: the type only, never the value (it may be the key)."""
    if value is None:
        return "None"
    name = "function" if callable(value) and not isinstance(value, type) else type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _value_problems() -> Iterator[checks.CheckMessage]:
    """Unknown names, wrong types and values out of range: each row's own rules."""
    names = [row.name for row in SETTINGS]
    for name in sorted(set(dir(settings)) - set(names)):
        if name.startswith(PREFIX):
            nearest = difflib.get_close_matches(name, names, n=1)
            suggestion = f"Did you mean {nearest[0]}? " if nearest else ""
            yield _message("scotaccount.W002", setting=name, suggestion=suggestion)
    for row in SETTINGS:
        value, fmt = row.raw(), {"setting": row.name, "example": row.example}
        if not row.kind.accepts(value):
            yield _message(
                "scotaccount.E060", actual=a_type(value), expected=row.kind.expected, **fmt
            )
        elif not row.kind.valid(value):
            literal = python_literal(value)
            yield _message("scotaccount.E022", value=literal, rule=row.kind.rule, **fmt)


def _readable(problems: list[checks.CheckMessage]) -> bool:
    """A wrong type stops the round: later checks read the values (a bad range does not)."""
    return all(message.id != "scotaccount.E060" for message in problems)


@checks.register(checks.Tags.security)
def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """The shape of the settings: no I/O, so commands run without the key mounted."""
    problems = list(_value_problems())
    return problems + list(_settings_problems()) if _readable(problems) else problems


@checks.register(checks.Tags.security, deploy=True)
def check_deploy_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """Files and production values, every one in the same round."""
    return list(_deploy_problems()) if _readable(list(_value_problems())) else []


@checks.register(checks.Tags.urls)
def check_urls(**kwargs: Any) -> list[checks.CheckMessage]:
    try:
        reverse("scotaccount:callback")
    except NoReverseMatch:
        return [_message("scotaccount.E006")]
    return []


def configured_urls() -> dict[str, str | None]:
    """Every URL setting, ScotAccount's from the environment, read without M7's refusal."""
    return {
        row.name: row.raw() or environment_url(row.name) for row in SETTINGS if row.kind is URL
    }


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


def key_file_mode() -> int | None:
    """The key file's permission bits; None when the key is inline or the file is missing."""
    path = conf.PRIVATE_KEY_FILE
    return stat.S_IMODE(os.stat(path).st_mode) if path and os.path.exists(path) else None


def _settings_problems() -> Iterator[checks.CheckMessage]:
    if not conf.CLIENT_ID:
        yield _message("scotaccount.E001")
    if not conf.PRIVATE_KEY:
        yield _message("scotaccount.E002")
    urls = configured_urls()
    if not Settings.DISCOVERY_URL.raw() and conf.ENVIRONMENT not in ENVIRONMENTS:
        yield _message("scotaccount.E011", value=conf.ENVIRONMENT)
    elif not str(urls["SCOTACCOUNT_DISCOVERY_URL"]).endswith(DISCOVERY_SUFFIX):
        yield _message("scotaccount.E015")
    for setting, url in urls.items():
        if url and not is_https_or_loopback(url):
            yield _message("scotaccount.E004", setting=setting, url=url)
    # ScotAccount's URLs by environment (the council's own may well be on this machine).
    found = {name: environment_of(url) for name, url in urls.items() if url and name in LOCAL_URLS}
    loopback = [urls[name] for name, environment in found.items() if environment == "local"]
    if (loopback or conf.ENVIRONMENT == "local") and not local_allowed():
        yield _message("scotaccount.E010", url=(loopback or ["local"])[0])
    if len({environment for environment in found.values() if environment}) > 1:
        detail = ", ".join(f"{name} on {env}" for name, env in found.items() if env)
        yield _message("scotaccount.E061", detail=detail)
    if conf.CACHE_ALIAS not in settings.CACHES:
        yield _message(
            "scotaccount.E040", alias=conf.CACHE_ALIAS, aliases=", ".join(settings.CACHES)
        )
    try:
        fields.key_ring()
    except ImproperlyConfigured as exc:
        yield _message("scotaccount.E050", detail=exc)
    ages = conf.ATTRIBUTE_MAX_AGE
    unknown = sorted(set(ages) - set(AttributeScope.values))
    if unknown:
        yield _message("scotaccount.E030", scopes=", ".join(unknown))
    for scope, age in ages.items():
        if age < timedelta(hours=1):
            yield _message("scotaccount.E031", scope=scope, value=python_literal(age))
    yield from _user_model_problems()
    if not any(_is_scotaccount_backend(path) for path in settings.AUTHENTICATION_BACKENDS):
        yield _message("scotaccount.E005")
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        yield _message("scotaccount.E007")
    if str(settings.SESSION_COOKIE_SAMESITE).lower() == "strict":
        yield _message("scotaccount.E008")
    for app in ("django.contrib.sessions", "django.contrib.auth"):
        if app not in settings.INSTALLED_APPS:
            yield _message("scotaccount.E016", app=app)
    middleware = list(settings.MIDDLEWARE)
    ours = middleware.index(MIDDLEWARE) if MIDDLEWARE in middleware else len(middleware)
    for required in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ):
        if required not in middleware:
            yield _message("scotaccount.E017", middleware=required)
        elif middleware.index(required) > ours:
            yield _message("scotaccount.E020", middleware=required)
    if MIDDLEWARE not in middleware:
        yield _message("scotaccount.W020")
    lifetime, idle = conf.SESSION_LIFETIME, conf.SESSION_IDLE_TIMEOUT
    if lifetime > timedelta(hours=4):  # ScotAccount's own session
        yield _message("scotaccount.W021", lifetime=lifetime)
    if idle is not None and idle >= lifetime:
        yield _message("scotaccount.W022", idle=idle, lifetime=lifetime)


def _deploy_problems() -> Iterator[checks.CheckMessage]:
    if conf.PRIVATE_KEY:
        try:
            load_signing_key()
        except ConfigurationError as exc:
            yield _message("scotaccount.E003", detail=exc)
    mode = key_file_mode()
    if mode is not None and mode & NOT_OWNER:
        yield _message("scotaccount.W003", path=conf.PRIVATE_KEY_FILE, mode=mode)
    if conf.CA_BUNDLE and not os.access(conf.CA_BUNDLE, os.R_OK):
        yield _message("scotaccount.E041", path=conf.CA_BUNDLE)
    if conf.ENVIRONMENT == "production" and not conf.ATTRIBUTES_URL:
        yield _message("scotaccount.E012")
    if not conf.REDIRECT_URI and not settings.DEBUG:
        yield _message("scotaccount.E009")
    if not conf.POST_LOGOUT_REDIRECT_URI and not settings.DEBUG:
        yield _message("scotaccount.E021")
    backend = str(settings.CACHES.get(conf.CACHE_ALIAS, {}).get("BACKEND", ""))
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")):  # one process, or none
        alias, name = conf.CACHE_ALIAS, backend.rsplit(".", 1)[-1]
        yield _message("scotaccount.W040", alias=alias, backend=name)
    # ScotAccount and the fake both serve the documented logout; another host may not.
    discovery = configured_urls()["SCOTACCOUNT_DISCOVERY_URL"] or ""
    if discovery.endswith(DISCOVERY_SUFFIX) and environment_of(discovery) is None:
        url = discovery.removesuffix(DISCOVERY_SUFFIX) + DOCUMENTED_LOGOUT_PATH
        yield _message("scotaccount.I040", url=url)
    if not settings.DEBUG and not conf.ATTRIBUTE_ENCRYPTION_KEYS:
        yield _message("scotaccount.W050")


def _user_model_problems() -> Iterator[checks.CheckMessage]:
    if not conf.CREATE_USERS:
        return
    try:
        user_model = get_user_model()
    except ImproperlyConfigured:
        return  # Django's own checks report AUTH_USER_MODEL
    field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    if isinstance(field, EmailField) and not field.null:
        yield _message(
            "scotaccount.E062", model=user_model._meta.label, field=user_model.USERNAME_FIELD
        )


def _is_scotaccount_backend(path: str) -> bool:
    """True for ``ScotAccountBackend`` or a council's subclass of it."""
    from scotaccount_django.backends import ScotAccountBackend

    try:
        backend = import_string(path)
    except ImportError:
        return False  # Django reports a backend it cannot import when it is used.
    return isinstance(backend, type) and issubclass(backend, ScotAccountBackend)
