"""``GET /attributes/values``: the access token plus a fresh ``DIS-Client-Assertion``.

The assertion's ``aud`` is the attributes URL, never the token endpoint's, so
one captured at either endpoint is useless at the other; every attempt,
retries included, signs a new one (new ``jti``). Only 5xx and transport
faults are retried, a few times, and never past the access token's life.
The access token is never logged and never kept.
"""

from __future__ import annotations

import logging
import time

from scotaccount_django._internal import http
from scotaccount_django._internal.assertions import build_client_assertion
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    AttributesUnavailable,
    ConfigurationError,
    ProviderError,
    ProviderUnavailable,
)

logger = logging.getLogger("scotaccount_django")

MAX_ATTEMPTS = 3
#: Pause before the 2nd and 3rd attempts: long enough for a blip, short for a person waiting.
BACKOFF_SECONDS = (0.25, 0.75)
#: Never start an attempt this close to the access token's expiry.
EXPIRY_MARGIN_SECONDS = 30


def fetch_claims_token(access_token: str, *, expires_at: float) -> str | None:
    """The ``claimsToken``, or None when ScotAccount has no data (404).

    ``expires_at`` is the access token's expiry on ``time.monotonic()``'s clock.
    Raises ``ProviderRejectedClient`` (401/403), ``AttributesUnavailable``
    (5xx or timeouts after retries) or ``ProviderError`` (anything else).
    """
    url = conf.ATTRIBUTES_URL
    if not url:
        raise ConfigurationError("SCOTACCOUNT_ATTRIBUTES_URL is not set.")
    attempt = 1
    while True:
        try:
            return _attempt(url, access_token)
        except ProviderUnavailable as exc:
            out_of_time = (
                time.monotonic() + BACKOFF_SECONDS[-1] > expires_at - EXPIRY_MARGIN_SECONDS
            )
            if attempt >= MAX_ATTEMPTS or out_of_time:
                raise AttributesUnavailable(f"{exc} (after {attempt} attempts)") from exc
            logger.info("Attributes endpoint attempt %d failed, retrying: %s", attempt, exc)
            time.sleep(BACKOFF_SECONDS[attempt - 1])
            attempt += 1


def _attempt(url: str, access_token: str) -> str | None:
    response = http.send(
        "GET",
        url,
        headers={
            "Accept": "application/json",
            "Authorization": f"Bearer {access_token}",
            "DIS-Client-Assertion": build_client_assertion(url),
        },
    )
    if response.status == 404:
        return None
    http.raise_for_status(response, "attributes endpoint")
    claims_token = response.json_object().get("claimsToken")
    if not isinstance(claims_token, str) or not claims_token:
        raise ProviderError("attributes response has no claimsToken")
    return claims_token
