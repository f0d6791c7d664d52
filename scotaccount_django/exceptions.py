"""The exceptions this app raises. Catch ``ScotAccountError`` to catch them all.

Library errors (PyJWT, requests, cryptography) never escape: each is mapped to
one of these, so callers handle one family and the log gets one clear reason.
"""

from __future__ import annotations

import re


class ScotAccountError(Exception):
    """Base class: raised for anything that stops a ScotAccount flow."""

    #: A short, stable code for logs and templates (never personal data).
    code = "error"


class ConfigurationError(ScotAccountError):
    """Raised when settings are missing or wrong (checks should have said so)."""

    code = "configuration"


class ProviderError(ScotAccountError):
    """Raised when ScotAccount answers badly: bad status, body, redirect or JSON."""

    code = "provider"


class ProviderUnavailable(ProviderError):
    """Raised when ScotAccount cannot be reached in time (connection, timeout, 5xx)."""

    code = "provider_unavailable"


class AttributesUnavailable(ProviderUnavailable):
    """Raised when the attributes endpoint still fails (5xx, timeout) after bounded retries."""

    code = "attributes_unavailable"


class ProviderRejectedClient(ProviderError):
    """Raised when ScotAccount refuses us (401/403): a key or client id problem.

    An IP allow-list block looks different: a 503 or a time-out (reference line 1226).
    """

    code = "provider_rejected_client"


class ScotAccountSessionEnded(ProviderError):
    """Raised on ScotAccount's ``402 invalid_session_id``: "Invalid SID or expired session".

    Documented for the token and attributes endpoints (reference lines 576-581,
    942-947): the person's ScotAccount session ended before the flow finished.
    """

    code = "invalid_session_id"


class InvalidToken(ScotAccountError):
    """Raised when a JWT from ScotAccount fails verification; nothing from it is used."""

    code = "invalid_token"


class InvalidIDToken(InvalidToken):
    """Raised when an ID token fails signature, issuer, audience, time, nonce or sub checks."""

    code = "invalid_id_token"


class InvalidClaimsToken(InvalidToken):
    """Raised when a ``claimsToken`` fails verification or does not match the schema."""

    code = "invalid_claims_token"


class UnknownFlow(ScotAccountError):
    """Raised when ``state`` is missing or matches no pending flow (or it was already used)."""

    code = "unknown_flow"


class FlowExpired(ScotAccountError):
    """Raised when the flow's lifetime (7 days by default) has passed."""

    code = "flow_expired"


class BrowserMismatch(ScotAccountError):
    """Raised when the callback arrives in a browser other than the one that started it."""

    code = "browser_mismatch"


class SubjectMismatch(ScotAccountError):
    """Raised when a step-up comes back signed in as a different person."""

    code = "subject_mismatch"


#: RFC 6749 section 4.1.2.1: ``error`` is ``1*( %x20-21 / %x23-5B / %x5D-7E )``.
OAUTH_ERROR_VALUE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}")
#: What a value outside that set becomes: it matches no documented error.
MALFORMED_ERROR = "malformed_error"


class AuthorizationDenied(ScotAccountError):
    """Raised when ScotAccount redirects back with an ``error`` parameter.

    ``error`` comes from the query string, so anyone can send anything: a value
    outside RFC 6749's character set (a newline would forge a log line) becomes
    ``MALFORMED_ERROR``, and the message keeps only an escaped, shortened copy.
    """

    code = "authorization_error"

    def __init__(self, error: str, description: str = "") -> None:
        well_formed = OAUTH_ERROR_VALUE.fullmatch(error) is not None
        super().__init__(error if well_formed else f"{MALFORMED_ERROR} {error[:100]!a}")
        self.error = error if well_formed else MALFORMED_ERROR
        self.description = description


class BadCallback(ScotAccountError):
    """Raised when the callback's query is malformed: duplicated, oversized or contradictory."""

    code = "bad_request"


class SignInRefused(ScotAccountError):
    """Raised when a verified person may not sign in (unknown and creation is off, or inactive)."""

    code = "sign_in_refused"


class BadAttributeRequest(ScotAccountError):
    """Raised when a step-up asks for no scope, or for a scope ScotAccount does not offer."""

    code = "bad_attribute_request"


class StorageFailure(ScotAccountError):
    """Raised when the database fails mid-flow; what was being written is rolled back."""

    code = "storage"
