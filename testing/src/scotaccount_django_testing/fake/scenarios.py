"""Named faults a test switches on for one instance: once, N times or always.

The set is closed: :data:`FAULTS` lists every name with what it does, and
:meth:`Scenarios.add` refuses anything else, so a typo fails loudly instead
of silently testing the happy path. Each fake instance has its own
:class:`Scenarios`, so tests (and xdist workers) never see each other's faults.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultSpec:
    """One fault: where it strikes and what it does."""

    name: str
    target: str
    description: str


#: Endpoints whose HTTP exchange itself can fail (status, stall, garbage, redirect, drop).
TRANSPORT_ENDPOINTS = ("discovery", "jwks", "token", "attributes", "attributes_jwks")

#: Statuses a transport fault can answer with, and the body ScotAccount's table gives each.
TRANSPORT_STATUSES: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "invalid scope"),
    401: ("access_denied", "Access_denied: Token not valid"),
    402: ("invalid_session_id", "Not found: Invalid SID or expired session"),
    403: ("access_denied", "Access_denied: Token not valid"),
    404: ("not_found", "Not Found: Page not found"),
    500: ("internal_server_error", "Technical Error"),
    502: ("bad_gateway", "bad_gateway"),
    503: ("internal_server_error", "internal_server_error : Internl Error. Please Retry"),
}

TRANSPORT_KINDS: dict[str, str] = {
    "timeout": "stalls for `timeout_delay` seconds, then answers 504 (a client with a shorter"
    " read timeout times out)",
    "malformed_json": "answers 200 with a truncated JSON body",
    "html_body": "answers 200 with an HTML error page instead of JSON",
    "redirect_other_host": "answers 307 to `/captured` on another loopback origin, which"
    " records what a redirect-following client leaks",
    "connection_closed": "closes the connection without answering (the service is down)",
    "truncated_body": "sends the real answer's headers and half its body, then closes the"
    " connection (fewer bytes than `Content-Length`)",
    "trickle": "sends the real answer one byte every 0.5 s (a per-read timeout never fires)",
}
#: Seconds between the bytes of a ``trickle`` answer.
TRICKLE_INTERVAL = 0.5

#: Authorization errors from ScotAccount's table (plus OAuth's own), sent to the redirect URI.
AUTHORIZE_ERRORS: dict[str, tuple[str, str]] = {
    "authorize_account_selection_required": (
        "account_selection_required",
        "Account sign-up was cancelled",
    ),
    "authorize_access_denied": ("access_denied", "Access denied"),
    "authorize_invalid_dis_prompt": (
        "invalid_dis_prompt",
        "Invalid dis_prompt: found more than one: login, none",
    ),
    "authorize_invalid_request": ("invalid_request", "Required PKCE method(s): [plain, S256]"),
    "authorize_invalid_scope": ("invalid_scope", "Invalid scope: missing scope openid"),
    "authorize_invalid_claims": ("invalid_claims", "Invalid claims: invalid parameter format"),
    "authorize_unsupported_response_type": (
        "unsupported_response_type",
        "Unsupported response type",
    ),
    "authorize_temporarily_unavailable": (
        "temporarily_unavailable",
        "The service is temporarily unavailable",
    ),
    "authorize_server_error": ("server_error", "Internal error"),
    "authorize_unknown_error": ("fake_unrecognised_error", "An error code no RP knows"),
    "authorize_description_markup": (
        "invalid_request",
        '<script>alert("x")</script>\r\nSet-Cookie: injected=1',
    ),
}

_TOKEN_LEVEL: dict[str, tuple[str, str]] = {
    "id_token_bad_signature": ("id_token", "a real ID token with its signature bytes altered"),
    "id_token_alg_none": ("id_token", "header `alg: none`, empty signature"),
    "id_token_hs256_public_key": (
        "id_token",
        "HS256, HMAC keyed with the PEM of the active public key (algorithm confusion)",
    ),
    "id_token_wrong_iss": ("id_token", "`iss` is the issuer with a trailing slash"),
    "id_token_wrong_aud": ("id_token", "`aud` is another client's id"),
    "id_token_aud_extra": ("id_token", "`aud` is `[client_id, other]` with no `azp`"),
    "id_token_expired": ("id_token", "`exp` one hour ago"),
    "id_token_missing_exp": ("id_token", "no `exp` claim"),
    "id_token_iat_future": ("id_token", "`iat` one hour ahead"),
    "id_token_wrong_nonce": ("id_token", "`nonce` differs from the request's"),
    "id_token_missing_nonce": ("id_token", "no `nonce` claim"),
    "id_token_missing_sub": ("id_token", "no `sub` claim"),
    "id_token_sub_not_uuid": ("id_token", "`sub` is not a UUID"),
    "id_token_unknown_kid": ("id_token", "signed by a key that is not in the JWKS"),
    "id_token_sub_upper_case": ("id_token", "`sub` is the person's UUID in upper case"),
    "id_token_exp_string": ("id_token", "`exp` is a numeric string, not a number"),
    "id_token_iat_string": ("id_token", "`iat` is a numeric string, not a number"),
    "id_token_nbf_future": ("id_token", "`nbf` one hour ahead"),
    "id_token_aud_list": ("id_token", "`aud` is `[client_id]`, a one-element list (valid)"),
    "id_token_no_kid_several_keys": (
        "id_token",
        "no `kid` header while the JWKS publishes several keys",
    ),
    "id_token_is_access_token": (
        "id_token",
        "the `id_token` field holds the access token (`typ: at+jwt`, no `aud`)",
    ),
    "token_missing_id_token": ("token_response", "the token response has no `id_token`"),
    "token_missing_access_token": ("token_response", "the token response has no `access_token`"),
    "key_rotation_mid_flow": (
        "token_response",
        "the sign-in keys rotate just before the ID token is signed (new kid, first in JWKS)",
    ),
    "claims_wrong_sub": ("claims_token", "`sub` is another person's"),
    "claims_wrong_iss": ("claims_token", "`iss` is the sign-in issuer"),
    "claims_unsigned": ("claims_token", "header `alg: none`, empty signature"),
    "claims_bad_signature": ("claims_token", "signature bytes altered"),
    "claims_hs256_public_key": (
        "claims_token",
        "HS256, HMAC keyed with the PEM of the active attributes key (algorithm confusion)",
    ),
    "claims_unknown_kid": ("claims_token", "signed by a key not in the attributes JWKS"),
    "claims_signed_by_sign_in_key": (
        "claims_token",
        "signed by the sign-in issuer's active key instead of the attributes key",
    ),
    "claims_sub_upper_case": ("claims_token", "`sub` is the person's UUID in upper case"),
    "claims_iat_string": ("claims_token", "`iat` is a numeric string, not a number"),
    "claims_identity_low": ("claims_token", "identity verified, but only to GPG45 `low`"),
    "claims_address_self_certified": (
        "claims_token",
        "address verified with `validation_method: self_certified`",
    ),
    "claims_old": ("claims_token", "`iat` two years ago and no `exp`"),
    "claims_expired": ("claims_token", "`exp` one hour ago"),
    "claims_empty_list": ("claims_token", "`verified_claims` is an empty list (200, not 404)"),
    "claims_verification_failed": (
        "claims_token",
        "every released entry has outcome `VERIFICATION_FAILED` and no claims",
    ),
    "attributes_key_rotation_mid_flow": (
        "claims_token",
        "the attributes keys rotate just before the claimsToken is signed",
    ),
}


#: The GOV.UK One Login simulator's configurable errors (its ``docs/configured-errors.md``),
#: translated to this fake's faults: group (``authorize``, ``id_token``, ``claims_token`` for
#: One Login's Core Identity JWT) -> One Login name -> (fault, how the translation reads).
ONE_LOGIN_ERRORS: dict[str, dict[str, tuple[str, str]]] = {
    "authorize": {
        "ACCESS_DENIED": ("authorize_access_denied", "the same error"),
        "TEMPORARILY_UNAVAILABLE": ("authorize_temporarily_unavailable", "the same error"),
    },
    "id_token": {
        "INVALID_ISS": ("id_token_wrong_iss", "the same"),
        "INVALID_AUD": ("id_token_wrong_aud", "the same"),
        "INVALID_ALG_HEADER": (
            "id_token_hs256_public_key",
            "header `alg` HS256, not the JWKS's RS256",
        ),
        "INVALID_SIGNATURE": ("id_token_bad_signature", "the same"),
        "TOKEN_EXPIRED": ("id_token_expired", "the same"),
        "TOKEN_NOT_VALID_YET": ("id_token_iat_future", "the same (`iat` ahead)"),
        "NONCE_NOT_MATCHING": ("id_token_wrong_nonce", "the same"),
        "INCORRECT_VOT": (
            "claims_identity_low",
            "ScotAccount states the level of confidence in the claimsToken, not the ID token",
        ),
    },
    "claims_token": {
        "INVALID_ALG_HEADER": ("claims_hs256_public_key", "header `alg` HS256, not RS256"),
        "INVALID_SIGNATURE": ("claims_bad_signature", "the same"),
        "INVALID_ISS": ("claims_wrong_iss", "the same"),
        "INVALID_AUD": (
            "claims_wrong_sub",
            "the claimsToken has no `aud`; it is bound to the person by `sub`",
        ),
        "INCORRECT_SUB": ("claims_wrong_sub", "the same"),
        "TOKEN_EXPIRED": ("claims_expired", "the same"),
    },
}


def one_login_fault(group: str, name: str) -> str:
    """This fake's fault for One Login's error ``name`` in ``group``; ``ValueError`` if none."""
    try:
        return ONE_LOGIN_ERRORS[group][name][0]
    except KeyError:
        known = {key: sorted(value) for key, value in ONE_LOGIN_ERRORS.items()}
        raise ValueError(f"Unknown One Login error {group}:{name}; known: {known}.") from None


def _build_registry() -> dict[str, FaultSpec]:
    registry: dict[str, FaultSpec] = {}
    for name, (error, description) in AUTHORIZE_ERRORS.items():
        registry[name] = FaultSpec(
            name, "authorize", f"redirects with `error={error}`, `{description!r}`, `state`"
        )
    for endpoint in TRANSPORT_ENDPOINTS:
        for status, (error, _) in TRANSPORT_STATUSES.items():
            name = f"{endpoint}_http_{status}"
            registry[name] = FaultSpec(name, endpoint, f"answers {status} `{error}`")
        for kind, description in TRANSPORT_KINDS.items():
            name = f"{endpoint}_{kind}"
            registry[name] = FaultSpec(name, endpoint, description)
    for name, (target, description) in _TOKEN_LEVEL.items():
        registry[name] = FaultSpec(name, target, description)
    return registry


#: Every fault this fake can produce, by name.
FAULTS: dict[str, FaultSpec] = _build_registry()


class Scenarios:
    """The faults switched on for one instance, each with how many times it still fires."""

    def __init__(self, timeout_delay: float = 5.0) -> None:
        #: How long ``*_timeout`` faults stall; tests lower it to stay fast.
        self.timeout_delay = timeout_delay
        self._remaining: dict[str, int | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def available() -> list[str]:
        """Every fault name, sorted."""
        return sorted(FAULTS)

    def add(self, name: str, times: int | None = 1) -> None:
        """Fire ``name`` on the next ``times`` matching requests (``None``: always)."""
        if name not in FAULTS:
            raise ValueError(f"Unknown fault {name!r}; see Scenarios.available().")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for always.")
        with self._lock:
            self._remaining[name] = times

    def remove(self, name: str) -> None:
        with self._lock:
            self._remaining.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._remaining.clear()

    def active(self) -> dict[str, int | None]:
        """Faults still armed and how many firings each has left."""
        with self._lock:
            return dict(self._remaining)

    def take(self, name: str) -> bool:
        """Consume one firing of ``name`` if it is armed."""
        with self._lock:
            if name not in self._remaining:
                return False
            remaining = self._remaining[name]
            if remaining is not None:
                if remaining <= 1:
                    del self._remaining[name]
                else:
                    self._remaining[name] = remaining - 1
            return True

    def take_first(self, names: Iterable[str]) -> str | None:
        """Consume and return the first armed name among ``names``."""
        return next((name for name in names if self.take(name)), None)

    def take_all(self, target: str) -> list[str]:
        """Consume every armed fault aimed at ``target`` (they may combine)."""
        names = [name for name in self.active() if FAULTS[name].target == target]
        return [name for name in names if self.take(name)]
