"""The framework floor: the least a Django relying party must do to sign someone in.

Login: state, nonce and PKCE verifier into the session, redirect. Callback: one
ES256 client assertion, one pooled HTTPS POST to the token endpoint (one TLS
context per process, so a new connection costs a handshake, not a CA bundle
parse), one RS256
ID-token verification (key parsed once), one indexed user lookup and
``auth.login``. No error handling and only the checks PyJWT makes: a yardstick,
not a relying party to deploy.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
import time
from functools import cache
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from tests.benchmarks.mdo import ASSERTION_TYPE, _signing_key

CALLBACK_PATH = "/floor/callback/"


class _SharedContextAdapter(requests.adapters.HTTPAdapter):
    """Pooled connections sharing one TLS context: the CA bundle is parsed once per process."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = ssl.create_default_context(cafile=settings.CA_FILE)
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would set the CA bundle file on every pool, and urllib3 would load it
        # into the context again for each new connection: the context already holds it.
        conn.cert_reqs = "CERT_REQUIRED"


_session = requests.Session()
_session.trust_env = False  # else REQUESTS_CA_BUNDLE turns verify=True into a file to reload
_session.mount("https://", _SharedContextAdapter())


@cache
def _verification_key() -> Any:
    jwks = _session.get(f"{settings.ISSUER}/jwks.json", timeout=10).json()
    return jwt.PyJWK(jwks["keys"][0]).key


def login(request: HttpRequest) -> HttpResponse:
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    request.session["floor"] = {"state": state, "nonce": nonce, "verifier": verifier}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": settings.CLIENT_ID,
        "redirect_uri": settings.ORIGIN + CALLBACK_PATH,
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return HttpResponseRedirect(f"{settings.ISSUER}/authorize?{urlencode(query)}")


def callback(request: HttpRequest) -> HttpResponse:
    flow = request.session["floor"]
    now = int(time.time())
    token_endpoint = f"{settings.ISSUER}/token"
    assertion = jwt.encode(
        {
            "iss": settings.CLIENT_ID,
            "sub": settings.CLIENT_ID,
            "aud": token_endpoint,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
        },
        _signing_key(),
        algorithm="ES256",
    )
    response = _session.post(
        token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": request.GET["code"],
            "redirect_uri": settings.ORIGIN + CALLBACK_PATH,
            "code_verifier": flow["verifier"],
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        timeout=(5, 10),
    )
    claims = jwt.decode(
        response.json()["id_token"],
        _verification_key(),
        algorithms=["RS256"],
        audience=settings.CLIENT_ID,
        issuer=settings.ISSUER,
    )
    user, _ = get_user_model().objects.get_or_create(username=claims["sub"])
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL)
