"""``manage.py scotaccount_fake`` (the core's command delegates here): the fake, for this project.

With ``SCOTACCOUNT_ENVIRONMENT = "local"`` in the project's settings, this one
command is all a developer runs to sign in locally: the fake is configured
from the project's own client id, the public half of its private key, and its
redirect URIs, and listens where the "local" environment points.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from scotaccount_django._internal.provider import is_loopback_url, load_signing_key, public_jwk
from scotaccount_django.conf import LOCAL_HOST, conf
from scotaccount_django.exceptions import ConfigurationError
from scotaccount_django_testing.fake import FakeScotAccount
from scotaccount_django_testing.fake.serve import serve_until_interrupted

#: Where ``manage.py runserver`` serves by default; both names, since browsers use either.
DEFAULT_SITES = ("http://localhost:8000", "http://127.0.0.1:8000")


class Command(BaseCommand):
    help = "Serve the fake ScotAccount (for local development only), set up for this project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            metavar="ORIGIN",
            help="where this project runs, for the redirect URIs when "
            "SCOTACCOUNT_REDIRECT_URI is unset (default: localhost:8000 and 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--auto-approve",
            metavar="PERSONA_ID",
            default=None,
            help="sign in as this test person (e.g. morag) without showing the fake's pages",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sites = options["site"] or list(DEFAULT_SITES)
        fake = self.build_fake(sites, options["auto_approve"])
        next_steps = None  # the fake's settings block, for a project that does not point here
        if conf.ENVIRONMENT == "local":
            next_steps = "\n".join(
                [
                    'SCOTACCOUNT_ENVIRONMENT = "local" already points this project here: '
                    "nothing to paste. With runserver running, sign in at:",
                    *self.sign_in_urls(
                        self.uris(conf.REDIRECT_URI, sites, "scotaccount:callback")
                    ),
                ]
            )
        else:
            self.stderr.write(
                "SCOTACCOUNT_ENVIRONMENT is not 'local', so this project will not use this "
                'fake: set SCOTACCOUNT_ENVIRONMENT = "local" in your development settings.'
            )
        for setting in ("REDIRECT_URI", "POST_LOGOUT_REDIRECT_URI"):
            uri = getattr(conf, setting)
            if uri and not is_loopback_url(uri):
                self.stderr.write(
                    f"SCOTACCOUNT_{setting} is {uri}, not on this machine, so the fake sends "
                    "people there: leave it unset while DEBUG is on."
                )
        try:
            serve_until_interrupted(fake, self.stdout.write, next_steps)
        except OSError as exc:  # the port is taken: say so, as `make demo` does
            raise CommandError(
                f"The fake cannot listen on {LOCAL_HOST}:{conf.LOCAL_PORT} or the port after it "
                f"({exc.strerror}). Stop whatever uses them, or set SCOTACCOUNT_LOCAL_PORT."
            ) from exc

    def build_fake(self, sites: list[str], auto_approve: str | None) -> FakeScotAccount:
        try:
            key = load_signing_key()
        except ConfigurationError as exc:
            raise CommandError(
                f"{exc} Make a key with `manage.py scotaccount_keygen PATH` and set "
                "SCOTACCOUNT_PRIVATE_KEY to PATH."
            ) from exc
        jwk = {**public_jwk(key.private_key.public_key()), "kid": key.kid}
        return FakeScotAccount(
            client_id=conf.CLIENT_ID or "test-client",
            client_keys=[jwk],
            redirect_uris=self.uris(conf.REDIRECT_URI, sites, "scotaccount:callback"),
            post_logout_redirect_uris=self.uris(
                conf.POST_LOGOUT_REDIRECT_URI, sites, "scotaccount:logged_out"
            ),
            auto_approve=auto_approve,
            host=LOCAL_HOST,
            port=conf.LOCAL_PORT,
            attributes_port=conf.LOCAL_PORT + 1,
        )

    @staticmethod
    def sign_in_urls(redirect_uris: list[str]) -> list[str]:
        """The login view on each origin the fake sends people back to."""
        callback, login = reverse("scotaccount:callback"), reverse("scotaccount:login")
        return [f"  {uri.removesuffix(callback)}{login}" for uri in redirect_uris]

    @staticmethod
    def uris(configured: str | None, sites: list[str], url_name: str) -> list[str]:
        """The configured URI, or this view's URL on every local origin."""
        if configured:
            return [configured]
        path = reverse(url_name)
        return [site.rstrip("/") + path for site in sites]
