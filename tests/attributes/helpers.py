"""Drive step-ups through the app and the fake ScotAccount, as a browser would."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.test import Client

from scotaccount_django_testing import FakeScotAccount
from tests.flow_helpers import complete, start_flow

ATTRIBUTES_PATH = "/scotaccount/attributes/"
IDENTITY = "scotaccount.gpg45.medium"
ADDRESS = "scotaccount.address"
EMAIL = "scotaccount.email"
ALL_SCOPES = [IDENTITY, ADDRESS, EMAIL]
NEXT = "/signed-in/"


def start_step_up(client: Client, scopes: list[str], **params: Any) -> str:
    """Ask the step-up view for ``scopes``; return the authorize URL it redirects to."""
    return start_flow(client, ATTRIBUTES_PATH, scope=scopes, next=NEXT, **params)


def step_up(
    client: Client,
    fake: FakeScotAccount,
    scopes: list[str],
    persona: str = "morag",
    **choices: Any,
) -> HttpResponse:
    """The whole step-up: attributes view -> fake ScotAccount -> callback."""
    return complete(client, fake, start_step_up(client, scopes), persona, **choices)


def authorize_count(fake: FakeScotAccount) -> int:
    return len(fake.journal.for_endpoint("authorize"))
