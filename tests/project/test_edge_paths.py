"""Small behaviours the coverage report showed no test exercised (docs/testing.md, "Coverage")."""

from __future__ import annotations

import json
import time

import pytest
from django.core import checks
from django.template import Context, Template

from scotaccount_django._internal import provider
from scotaccount_django._internal.provider import ProviderMetadata, ProviderResponse, TokenSet
from scotaccount_django.exceptions import ProviderError
from scotaccount_django.models import ScotAccountSession
from scotaccount_django_testing.fake.clock import Clock

METADATA = ProviderMetadata(
    issuer="https://authz.example.test",
    authorization_endpoint="https://authz.example.test/authorize",
    token_endpoint="https://authz.example.test/token",
    jwks_uri="https://authz.example.test/jwks",
    end_session_endpoint=None,
)


def answer_token_request(monkeypatch: pytest.MonkeyPatch, body: dict[str, object]) -> None:
    """The token endpoint answers 200 with ``body``; no network, no client assertion."""
    response = ProviderResponse(200, json.dumps(body).encode())
    monkeypatch.setattr(provider, "request", lambda *args, **kwargs: response)
    monkeypatch.setattr(provider, "build_client_assertion", lambda audience: "assertion")
    monkeypatch.setattr(provider, "get_metadata", lambda: METADATA)


def exchange() -> TokenSet:
    return provider.exchange_code(
        code="code", code_verifier="verifier", redirect_uri="https://rp.test/cb"
    )


@pytest.mark.parametrize("token_type", [None, "MAC", 7])
def test_a_token_response_that_is_not_bearer_is_refused(monkeypatch, token_type) -> None:
    answer_token_request(
        monkeypatch, {"id_token": "a.b.c", "access_token": "at", "token_type": token_type}
    )
    with pytest.raises(ProviderError, match="is not Bearer"):
        exchange()


@pytest.mark.parametrize("expires_in", [True, "900", 0, -5])
def test_a_nonsense_expires_in_falls_back_to_the_documented_15_minutes(
    monkeypatch, expires_in
) -> None:
    answer_token_request(
        monkeypatch,
        {
            "id_token": "a.b.c",
            "access_token": "at",
            "token_type": "bearer",
            "expires_in": expires_in,
        },
    )
    assert exchange().expires_in == provider.DEFAULT_EXPIRES_IN == 900


def test_a_backend_that_cannot_be_imported_is_not_taken_for_scotaccounts(settings) -> None:
    settings.AUTHENTICATION_BACKENDS = ["no_such_package.backends.Backend"]
    ids = {message.id for message in checks.run_checks()}
    assert "scotaccount.E005" in ids


def test_reason_label_filter_says_why_in_words_and_never_shows_the_code() -> None:
    template = Template(
        "{% load scotaccount %}{{ 'declined'|scotaccount_reason_label }}|"
        "{{ 'something_new'|scotaccount_reason_label }}"
    )
    assert template.render(Context()) == "you chose not to share it|we could not get it"


def test_a_scotaccount_session_names_itself_by_its_key_only() -> None:
    assert str(ScotAccountSession(pk=42)) == "ScotAccount session 42"


def test_the_fakes_clock_can_jump_to_a_time_and_keeps_flowing() -> None:
    clock = Clock()
    clock.set(1_000_000)
    assert 1_000_000 <= clock.now() <= 1_000_002
    clock.advance(60)
    assert 1_000_060 <= clock.now() <= 1_000_062
    assert clock.now() < time.time()
