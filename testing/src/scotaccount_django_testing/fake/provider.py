"""The public face of the fake: :class:`FakeScotAccount`, started as a context manager."""

from __future__ import annotations

import ipaddress
import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from scotaccount_django_testing.fake import control
from scotaccount_django_testing.fake.assertions import KeySource, load_client_keys
from scotaccount_django_testing.fake.browser import complete_authorization
from scotaccount_django_testing.fake.clock import Clock
from scotaccount_django_testing.fake.journal import Journal
from scotaccount_django_testing.fake.keys import KeySet
from scotaccount_django_testing.fake.messages import Request, Response, with_query
from scotaccount_django_testing.fake.personas import DEFAULT_PERSONA, PERSONAS, Persona
from scotaccount_django_testing.fake.scenarios import Scenarios
from scotaccount_django_testing.fake.server import (
    ATTRIBUTES_ROUTES,
    SIGN_IN_ROUTES,
    FakeHTTPServer,
    Routes,
    dispatch,
)
from scotaccount_django_testing.fake.state import (
    Endpoints,
    Lifetimes,
    Mode,
    ProviderState,
    Registration,
)
from scotaccount_django_testing.fake.tls import TestCertificates
from scotaccount_django_testing.fake.variants import VARIANTS, check_variants


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: where the fake may listen without a warning.

    The fake's own rule, not the core's: the kit never imports the core's private modules.
    """
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class FakeScotAccount:
    """A faithful fake ScotAccount: sign-in and attributes issuers on two loopback ports.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`).
    """

    def __init__(
        self,
        client_id: str = "test-client",
        client_keys: Iterable[KeySource] = (),
        redirect_uris: Iterable[str] = ("http://testserver/scotaccount/callback/",),
        post_logout_redirect_uris: Iterable[str] = ("http://testserver/scotaccount/logged-out/",),
        mode: Mode = "strict",
        auto_approve: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        attributes_port: int = 0,
        legacy_claims_layout: bool = False,
        *,
        documented_variants: bool = False,
        variants: Iterable[str] = (),
        code_lifetime: int = 60,
        access_token_lifetime: int = 900,
        id_token_lifetime: int = 900,
        max_assertion_lifetime: int = 600,
        timeout_delay: float = 5.0,
        tls: TestCertificates | None = None,
        keep_alive: bool = True,
    ) -> None:
        if mode not in ("strict", "lax"):
            raise ValueError("mode is 'strict' or 'lax'.")
        if not is_loopback_host(host):
            warnings.warn(
                f"The fake ScotAccount will listen on {host}, beyond loopback.",
                RuntimeWarning,
                stacklevel=2,
            )
        self._state = ProviderState(
            Registration(
                client_id=client_id,
                keys=load_client_keys(client_keys),
                redirect_uris=tuple(redirect_uris),
                post_logout_redirect_uris=tuple(post_logout_redirect_uris),
            ),
            mode=mode,
            auto_approve=auto_approve,
            legacy_claims_layout=legacy_claims_layout,
            lifetimes=Lifetimes(
                code=code_lifetime,
                access_token=access_token_lifetime,
                id_token=id_token_lifetime,
                max_assertion=max_assertion_lifetime,
            ),
            timeout_delay=timeout_delay,
            variants=frozenset(VARIANTS) if documented_variants else check_variants(variants),
        )
        self._host = host
        self._tls = tls
        self._keep_alive = keep_alive
        self._tls_context = tls.server_context() if tls is not None else None
        self._ports = (port, attributes_port)
        self._servers: list[FakeHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # Lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeScotAccount:
        """Bind both origins and serve them from background threads."""
        if self._servers:
            raise RuntimeError("Already started.")
        sign_in = self._bind(self._ports[0], SIGN_IN_ROUTES, serve_control=True)
        attributes = self._bind(self._ports[1], ATTRIBUTES_ROUTES)
        self._servers = [sign_in, attributes]
        self._state.endpoints = Endpoints(
            issuer=_origin(self._scheme, self._host, sign_in.server_address[1]),
            attributes_origin=_origin(self._scheme, self._host, attributes.server_address[1]),
        )
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving; stalled (timeout) requests are released at once."""
        self._stopping.set()
        # Both origins shut down together: each waits up to one poll interval.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers:
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> FakeScotAccount:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self, port: int, routes: Routes, *, serve_control: bool = False) -> FakeHTTPServer:
        index = len(self._servers)

        def answer(request: Request) -> Response:
            other = self._servers[1 - index] if len(self._servers) == 2 else None
            other_port = other.server_address[1] if other else 0
            other_origin = f"{self._scheme}://localhost:{other_port}"
            return dispatch(
                self._state,
                routes,
                request,
                other_origin,
                control.CONTROL_ROUTES if serve_control else None,
            )

        server = FakeHTTPServer(
            self._host,
            port,
            answer,
            self._stopping,
            self._tls_context,
            self._keep_alive,
            clock=self.clock.now,
        )
        self._servers.append(server)
        return server

    # URLs ------------------------------------------------------------------------------

    @property
    def _scheme(self) -> str:
        return "http" if self._tls is None else "https"

    @property
    def ca_file(self) -> Path | None:
        """With ``tls=``: the CA certificate a client must trust; otherwise None."""
        return self._tls.ca_file if self._tls is not None else None

    @property
    def issuer(self) -> str:
        """The sign-in issuer, no trailing slash (``iss`` of ID and access tokens)."""
        return self._state.endpoints.issuer

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks.json"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token_endpoint(self) -> str:
        return self._state.endpoints.token

    @property
    def end_session_endpoint(self) -> str:
        return f"{self.issuer}/authorize/logout"

    @property
    def config_url(self) -> str:
        """``GET``/``POST /config``: the control API (see ``control.py``)."""
        return f"{self.issuer}/config"

    @property
    def journal_url(self) -> str:
        """``GET /journal``: what the relying party sent, as JSON."""
        return f"{self.issuer}/journal"

    @property
    def attributes_url(self) -> str:
        return self._state.endpoints.attributes_url

    @property
    def attributes_issuer(self) -> str:
        """``iss`` of the ``claimsToken`` (``.../jwt``, as the real attributes issuer)."""
        return self._state.endpoints.attributes_issuer

    @property
    def attributes_jwks_url(self) -> str:
        return f"{self._state.endpoints.attributes_origin}/jwks.json"

    # Controls ----------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self._state.registration.client_id

    @property
    def mode(self) -> Mode:
        return self._state.mode

    @property
    def personas(self) -> Mapping[str, Persona]:
        return PERSONAS

    @property
    def scenarios(self) -> Scenarios:
        return self._state.scenarios

    @property
    def clock(self) -> Clock:
        return self._state.clock

    @property
    def signing_keys(self) -> KeySet:
        """The sign-in issuer's keys (ID and access tokens)."""
        return self._state.signing_keys

    @property
    def attributes_keys(self) -> KeySet:
        """The attributes issuer's keys (``claimsToken``)."""
        return self._state.attributes_keys

    @property
    def journal(self) -> Journal:
        return self._state.journal

    @property
    def auto_approve(self) -> str | None:
        return self._state.auto_approve

    @auto_approve.setter
    def auto_approve(self, persona: str | None) -> None:
        if persona is not None and persona not in PERSONAS:
            raise ValueError(f"Unknown persona {persona!r}; choose from {sorted(PERSONAS)}.")
        self._state.auto_approve = persona

    @property
    def legacy_claims_layout(self) -> bool:
        return self._state.legacy_claims_layout

    @legacy_claims_layout.setter
    def legacy_claims_layout(self, value: bool) -> None:
        self._state.legacy_claims_layout = value

    @property
    def variants(self) -> frozenset[str]:
        """The documented variants switched on (see ``variants.VARIANTS``)."""
        return self._state.variants

    def configure(self, config: Mapping[str, object]) -> None:
        """What ``POST /config`` does, from Python: persona, mode, faults, errors, variants,
        key-rotation stages (``control.CONFIG_KEYS``). ``ValueError`` names a bad part."""
        control.apply(self._state, dict(config))

    def frontchannel_logout_url(self, logout_uri: str, sid: str) -> str:
        """What ScotAccount loads in an iframe to end the relying party's ``sid`` session.

        ``iss`` and ``sid`` (Front-Channel Logout 1.0), or ``sid`` alone with the
        ``frontchannel_sid_only`` variant, as the docs mention only ``sid``.
        """
        params: dict[str, str | None] = {"iss": self.issuer, "sid": sid}
        if "frontchannel_sid_only" in self._state.variants:
            del params["iss"]
        return with_query(logout_uri, params)

    def complete_authorization(
        self,
        authorize_url: str,
        persona: str = DEFAULT_PERSONA,
        release: list[str] | None = None,
        cancel: bool = False,
    ) -> str:
        """Sign in and consent through the real HTML forms; returns the redirect's Location."""
        if persona not in PERSONAS:
            raise ValueError(f"Unknown persona {persona!r}; choose from {sorted(PERSONAS)}.")
        return complete_authorization(
            authorize_url,
            persona=persona,
            release=release,
            cancel=cancel,
            verify=str(self.ca_file) if self.ca_file else True,
        )
