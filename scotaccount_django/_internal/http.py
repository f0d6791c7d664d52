"""Back-channel HTTP to ScotAccount: timeouts, TLS, a size cap, and no redirects.

Redirects are never followed: a 302/307 from a token or attributes endpoint
would carry the authorization code or our client assertion to another host.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests

from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    ProviderError,
    ProviderRejectedClient,
    ProviderUnavailable,
    ScotAccountSessionEnded,
)

logger = logging.getLogger("scotaccount_django")

#: No legitimate ScotAccount answer is anywhere near this size.
MAX_RESPONSE_BYTES = 512 * 1024

try:
    USER_AGENT = f"scotaccount-django/{version('scotaccount-django')}"
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    USER_AGENT = "scotaccount-django"

_local = threading.local()


def _session() -> requests.Session:
    """One pooled session per thread (``requests.Session`` is not thread-safe)."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        _local.session = session
    return session


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    content_type: str
    body: bytes

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or ``ProviderError``."""
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise ProviderError(f"response is not JSON (HTTP {self.status})") from exc
        if not isinstance(value, dict):
            raise ProviderError(f"response is not a JSON object (HTTP {self.status})")
        return value


def send(
    method: str,
    url: str,
    *,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> ProviderResponse:
    """Make one request; raise for transport faults, redirects and oversized bodies."""
    try:
        response = _session().request(
            method,
            url,
            data=data,
            headers=headers,
            timeout=(conf.CONNECT_TIMEOUT, conf.READ_TIMEOUT),
            allow_redirects=False,
            verify=True,
            stream=True,
        )
        with response:
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    except requests.Timeout as exc:
        raise ProviderUnavailable(f"timed out calling {url}") from exc
    except (requests.RequestException, OSError) as exc:
        raise ProviderUnavailable(f"could not reach {url}: {type(exc).__name__}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise ProviderError(f"response from {url} is larger than {MAX_RESPONSE_BYTES} bytes")
    if 300 <= response.status_code < 400:
        raise ProviderError(f"{url} answered with a redirect (HTTP {response.status_code})")
    return ProviderResponse(
        status=response.status_code,
        content_type=response.headers.get("Content-Type", ""),
        body=body,
    )


def raise_for_status(response: ProviderResponse, what: str) -> None:
    """Map a non-2xx answer to the exception that says whose problem it is."""
    if response.status < 300:
        return
    if response.status == 402:
        # ScotAccount's own use of 402 (reference lines 576-581): the session is gone.
        raise ScotAccountSessionEnded(f"{what} answered HTTP 402{_error_code(response)}")
    if response.status in (401, 403):
        raise ProviderRejectedClient(f"{what} refused our client (HTTP {response.status})")
    if response.status >= 500:
        raise ProviderUnavailable(f"{what} failed (HTTP {response.status})")
    raise ProviderError(f"{what} answered HTTP {response.status}{_error_code(response)}")


def _error_code(response: ProviderResponse) -> str:
    """The OAuth ``error`` code, if the body has one: safe to log, unlike the description."""
    try:
        error = response.json_object().get("error")
    except ProviderError:
        return ""
    return f" ({error!r:.60})" if isinstance(error, str) else ""
