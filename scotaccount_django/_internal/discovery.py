"""ScotAccount's discovery document, checked before anything in it is trusted.

The ``issuer`` must equal the configured issuer exactly (mix-up defence), and
every endpoint must be https (http is tolerated on loopback, for the fake).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from scotaccount_django._internal import documents
from scotaccount_django._internal.documents import Document
from scotaccount_django._internal.http import is_https_or_loopback
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ConfigurationError, ProviderError


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


def check_endpoint_url(url: object, name: str) -> str:
    """``url`` if it is an https URL, or http on loopback; ``ProviderError`` otherwise."""
    if not isinstance(url, str) or not url:
        raise ProviderError(f"{name} is missing")
    if is_https_or_loopback(url):
        return url
    raise ProviderError(f"{name} is not an https URL")


def parse_metadata(document: Document, *, issuer: str) -> ProviderMetadata:
    """The endpoints in ``document``, if it is ``issuer``'s and every endpoint is allowed."""
    if document.get("issuer") != issuer:
        raise ProviderError(
            f"discovery issuer {document.get('issuer')!r:.200} is not the configured {issuer!r}"
        )
    end_session = document.get("end_session_endpoint")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=check_endpoint_url(
            document.get("authorization_endpoint"), "authorization_endpoint"
        ),
        token_endpoint=check_endpoint_url(document.get("token_endpoint"), "token_endpoint"),
        jwks_uri=check_endpoint_url(document.get("jwks_uri"), "jwks_uri"),
        end_session_endpoint=(
            None
            if end_session is None
            else check_endpoint_url(end_session, "end_session_endpoint")
        ),
    )


def get_provider_metadata() -> ProviderMetadata:
    """The sign-in issuer's endpoints, from Django's cache when fresh."""
    url, issuer = conf.DISCOVERY_URL, conf.ISSUER
    if not url or not issuer:
        raise ConfigurationError("SCOTACCOUNT_DISCOVERY_URL (or SCOTACCOUNT_ISSUER) is not set.")
    parse = partial(parse_metadata, issuer=issuer)
    return documents.load(url, kind="discovery", issuer=issuer, parse=parse)
