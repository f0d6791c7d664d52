"""ScotAccount's discovery document, checked before anything in it is trusted.

The ``issuer`` must equal the configured issuer exactly (mix-up defence), and
every endpoint must be https (http is tolerated on loopback, for the fake).
"""

from __future__ import annotations

from dataclasses import dataclass

from scotaccount_django._internal.documents import Document, get_document
from scotaccount_django.conf import conf, is_loopback_url
from scotaccount_django.exceptions import ConfigurationError, ProviderError

REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


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
    if url.startswith("https://") or (url.startswith("http://") and is_loopback_url(url)):
        return url
    raise ProviderError(f"{name} is not an https URL")


def _validate(document: Document) -> None:
    expected = conf.ISSUER
    if document.get("issuer") != expected:
        raise ProviderError(
            f"discovery issuer {document.get('issuer')!r:.200} is not the configured {expected!r}"
        )
    for name in REQUIRED_ENDPOINTS:
        check_endpoint_url(document.get(name), name)
    if document.get("end_session_endpoint") is not None:
        check_endpoint_url(document["end_session_endpoint"], "end_session_endpoint")


def get_provider_metadata() -> ProviderMetadata:
    """The sign-in issuer's endpoints, from Django's cache when fresh."""
    url = conf.DISCOVERY_URL
    if not url or not conf.ISSUER:
        raise ConfigurationError("SCOTACCOUNT_DISCOVERY_URL (or SCOTACCOUNT_ISSUER) is not set.")
    document, _ = get_document(url, validate=_validate)
    return ProviderMetadata(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        end_session_endpoint=document.get("end_session_endpoint"),
    )
