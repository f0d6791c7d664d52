"""The exceptions this app raises. Catch ``ScotAccountError`` to catch them all.

Library errors (PyJWT, urllib3, cryptography) never escape: each is mapped to one of these.
"""

from __future__ import annotations

import re
from typing import Any

from scotaccount_django.reporting import escape


class ScotAccountError(Exception):
    """Base class: raised for anything that stops a ScotAccount flow."""

    #: A short, stable code for logs and templates, given as a class keyword (``code="..."``).
    code = "error"

    def __init_subclass__(cls, code: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = code or cls.code

    def __str__(self) -> str:
        # Messages quote requests and ScotAccount: none may forge a log line (SECURITY M4).
        return escape(super().__str__())


class ConfigurationError(ScotAccountError, code="configuration"):
    """Raised when settings are missing or wrong (checks should have said so)."""


class ProviderError(ScotAccountError, code="provider"):
    """Raised when ScotAccount answers badly: bad status, body, redirect or JSON."""


class ProviderUnavailable(ProviderError, code="provider_unavailable"):
    """Raised when ScotAccount cannot be reached in time (connection, timeout, 5xx)."""


class AttributesUnavailable(ProviderUnavailable, code="attributes_unavailable"):
    """Raised when the attributes endpoint still fails (5xx, timeout) after bounded retries."""


class ProviderRejectedClient(ProviderError, code="provider_rejected_client"):
    """Raised when ScotAccount refuses us (401/403): a key or client id problem."""


class ScotAccountSessionEnded(ProviderError, code="invalid_session_id"):
    """Raised on ``402 invalid_session_id``: the person's ScotAccount session ended mid-flow."""


class InvalidToken(ScotAccountError, code="invalid_token"):
    """Raised when a JWT from ScotAccount fails verification; nothing from it is used."""


class InvalidIDToken(InvalidToken, code="invalid_id_token"):
    """Raised when an ID token fails signature, issuer, audience, time, nonce or sub checks."""


class InvalidClaimsToken(InvalidToken, code="invalid_claims_token"):
    """Raised when a ``claimsToken`` fails verification or does not match the schema."""


class UnknownFlow(ScotAccountError, code="unknown_flow"):
    """Raised when ``state`` is missing or matches no pending flow (or it was already used)."""


class FlowExpired(ScotAccountError, code="flow_expired"):
    """Raised when the flow's lifetime (7 days by default) has passed."""


class BrowserMismatch(ScotAccountError, code="browser_mismatch"):
    """Raised when the callback arrives in a browser other than the one that started it."""


class SubjectMismatch(ScotAccountError, code="subject_mismatch"):
    """Raised when a step-up comes back signed in as a different person."""


class AuthorizationDenied(ScotAccountError, code="authorization_error"):
    """Raised when ScotAccount redirects back with an ``error`` parameter.

    L7: an ``error`` outside RFC 6749's set (a newline forges a log line): ``malformed_error``."""

    def __init__(self, error: str) -> None:
        # RFC 6749 section 4.1.2.1: error is 1*( %x20-21 / %x23-5B / %x5D-7E ).
        well_formed = re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}", error) is not None
        super().__init__(error if well_formed else f"malformed_error {error[:100]!a}")
        self.error = error if well_formed else "malformed_error"


class BadCallback(ScotAccountError, code="bad_request"):
    """Raised when the callback's query is malformed: duplicated, oversized or contradictory."""


class SignInRefused(ScotAccountError, code="sign_in_refused"):
    """Raised when a verified person may not sign in (unknown and creation is off, or inactive)."""


class BadAttributeRequest(ScotAccountError, code="bad_attribute_request"):
    """Raised when a step-up asks for no scope, or for a scope ScotAccount does not offer."""


class StorageFailure(ScotAccountError, code="storage"):
    """Raised when the database fails mid-flow; what was being written is rolled back."""
