"""The council's project as a browser meets it, with the fake ScotAccount in-process.

Everything a check does goes through HTTP: ``django.test.Client`` against the
project's own URLconf, middleware, backend and templates, and the fake's real
sign-in pages. Only the settings that name ScotAccount's URLs (and the caches,
so nothing lands in the council's Redis) are overridden.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connections, transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from scotaccount_django_testing.fake import FakeScotAccount
from scotaccount_django_testing.project_key import public_jwk

#: Settings whose value points at ScotAccount: the self-test points them at the fake.
PROVIDER_SETTINGS = (
    "SCOTACCOUNT_DISCOVERY_URL",
    "SCOTACCOUNT_ATTRIBUTES_URL",
    "SCOTACCOUNT_ATTRIBUTES_JWKS_URL",
)


class CheckFailed(Exception):
    """A check saw the project do what it must not; the message says what."""


def expect(condition: bool, failure: str) -> None:
    if not condition:
        raise CheckFailed(failure)


def redirect_uri_overrides() -> dict[str, Any]:
    """For a project that derives its redirect URIs (``DEBUG``): the views on ``testserver``."""
    missing: dict[str, Any] = {
        name: f"http://testserver{reverse(url_name)}"
        for name, url_name in (
            ("SCOTACCOUNT_REDIRECT_URI", "scotaccount:callback"),
            ("SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI", "scotaccount:logged_out"),
        )
        if not getattr(settings, name, None)
    }
    if missing:
        missing["ALLOWED_HOSTS"] = [*settings.ALLOWED_HOSTS, "testserver"]
    return missing


def overrides_for(fake: FakeScotAccount) -> dict[str, Any]:
    """The provider URL settings pointing at ``fake``; a private cache per alias; no real mail."""
    caches = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"scotaccount-selftest-{alias}",
        }
        for alias in settings.CACHES
    }
    return {
        "SCOTACCOUNT_DISCOVERY_URL": fake.discovery_url,
        "SCOTACCOUNT_ATTRIBUTES_URL": fake.attributes_url,
        "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": fake.attributes_jwks_url,
        # The fake is on loopback; a self-test run is the CI case the opt-in is for (M7).
        "SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG": True,
        "CACHES": caches,
        # Receivers of the app's signals run (they are part of the project); mail they send
        # stays in memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


@contextmanager
def running_fake(**options: Any) -> Iterator[FakeScotAccount]:
    """A strict fake registered with the project's client id, key and URIs; settings point at it.

    ``options`` go to ``FakeScotAccount``. Everything is put back on exit, including
    the key made for a project that configures none.
    """
    with override_settings(**redirect_uri_overrides()):
        fake = FakeScotAccount(
            client_id=getattr(settings, "SCOTACCOUNT_CLIENT_ID", None) or "test-client",
            client_keys=[public_jwk(settings)],  # may set a generated key, inside the override
            redirect_uris=[settings.SCOTACCOUNT_REDIRECT_URI],
            post_logout_redirect_uris=[settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI],
            mode="strict",
            **options,
        )
        with fake, override_settings(**overrides_for(fake)):
            yield fake


@contextmanager
def rolled_back() -> Iterator[None]:
    """One transaction per database, always rolled back: the council's data is left as it was.

    Like Django's ``TestCase``: ``select_for_update`` works inside it, and a
    nested ``atomic(durable=True)`` is allowed (the ``_from_testcase`` mark).
    ``on_commit`` callbacks are run by :class:`Browser` at the end of each request,
    when a real server would have committed.
    """
    with ExitStack() as stack:
        for alias in connections:
            atomic = transaction.atomic(using=alias)
            atomic._from_testcase = True  # type: ignore[attr-defined]  # see docstring
            stack.enter_context(atomic)
            stack.callback(transaction.set_rollback, True, using=alias)
        yield


class Browser(Client):
    """One person's browser on the project's own site (its host and scheme)."""

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        secure = parts.scheme == "https"
        super().__init__()
        self.defaults.update(
            {
                "HTTP_HOST": parts.netloc,
                "SERVER_PORT": str(parts.port or (443 if secure else 80)),
                "wsgi.url_scheme": parts.scheme,
            }
        )
        proxy_header = settings.SECURE_PROXY_SSL_HEADER
        if secure and proxy_header:  # behind a proxy, is_secure() reads only this header
            self.defaults[proxy_header[0]] = proxy_header[1]

    def request(self, **request: Any) -> Any:
        """Run the ``on_commit`` callbacks the request registered, as its commit would."""
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(TestCase.captureOnCommitCallbacks(using=alias, execute=True))
            return super().request(**request)

    def is_signed_in(self) -> bool:
        return SESSION_KEY in self.session

    def visit(self, location: str) -> HttpResponse:
        """Follow a redirect that points at this site (path and query only)."""
        parts = urlsplit(location)
        return self.get(f"{parts.path}?{parts.query}")  # type: ignore[return-value]


class Site:
    """The project under test and the fake ScotAccount it is pointed at, for one check."""

    def __init__(self, fake: FakeScotAccount) -> None:
        self.fake = fake
        callback = urlsplit(str(settings.SCOTACCOUNT_REDIRECT_URI))
        self.origin = f"{callback.scheme}://{callback.netloc}"

    @property
    def host(self) -> str:
        return urlsplit(self.origin).netloc

    @property
    def after_sign_in(self) -> str:
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def browser(self) -> Browser:
        return Browser(self.origin)

    def start(self, browser: Browser, url_name: str = "scotaccount:login", **query: Any) -> str:
        """Ask the project to start a flow; the authorize URL it sends the browser to."""
        response = browser.get(reverse(url_name), query)
        expect(
            response.status_code == 302 and response["Location"].startswith(self.fake.issuer),
            f"{reverse(url_name)} answered {response.status_code}, not a redirect to ScotAccount",
        )
        return str(response["Location"])

    def at_scotaccount(self, authorize_url: str, persona: str = "morag", **choices: Any) -> str:
        """Sign in and consent at the fake; the callback URL it sends the browser back to."""
        return self.fake.complete_authorization(authorize_url, persona=persona, **choices)

    def sign_in(self, browser: Browser, persona: str = "morag", **query: Any) -> HttpResponse:
        """The whole sign-in: the login view, the fake's pages, the callback."""
        return browser.visit(self.at_scotaccount(self.start(browser, **query), persona))

    def signed_in(self, persona: str = "morag") -> Browser:
        """A new browser, signed in as ``persona`` (a check fails if that does not work)."""
        browser = self.browser()
        response = self.sign_in(browser, persona)
        expect(
            browser.is_signed_in(),
            f"an ordinary sign-in did not sign in (callback answered {response.status_code})",
        )
        return browser

    def tokens_issued(self) -> int:
        """How many token responses the fake has sent: proof a hostile token was delivered."""
        return sum(entry.outcome == "tokens issued" for entry in self.fake.journal)
