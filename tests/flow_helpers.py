"""Drive complete flows through the app and the fake ScotAccount, as a browser would."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.http import HttpResponse
from django.test import Client

from scotaccount_django_testing import FakeScotAccount

LOGIN_PATH = "/scotaccount/login/"
EXAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "example_project"


def start_flow(client: Client, path: str = LOGIN_PATH, **params: Any) -> str:
    """Ask the app to start a flow; return the ScotAccount authorize URL it redirects to."""
    response = client.get(path, params)
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def session_sid(session: Any) -> str:
    """ScotAccount's ``sid`` for a signed-in session: a claim of the ID token it keeps."""
    from scotaccount_django._internal.sessions import ID_TOKEN

    return str(jwt.decode(session[ID_TOKEN], options={"verify_signature": False})["sid"])


def pending_flows(client: Client) -> list[Any]:
    """The flows sealed in ``client``'s flow cookies (deleted cookies left out)."""
    from scotaccount_django._internal.flows import FLOW_COOKIE, unseal

    return [
        unseal(morsel.value)
        for name, morsel in client.cookies.items()
        if name.removeprefix("__Host-").startswith(FLOW_COOKIE) and morsel.value
    ]


def return_to_app(client: Client, location: str) -> HttpResponse:
    """Follow ScotAccount's redirect back to the app's callback in ``client``."""
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")  # type: ignore[return-value]


def complete(
    client: Client,
    fake: FakeScotAccount,
    authorize_url: str,
    persona: str = "morag",
    **choices: Any,
) -> HttpResponse:
    """Sign in at the fake as ``persona`` and bring the answer back to the app."""
    location = fake.complete_authorization(authorize_url, persona=persona, **choices)
    return return_to_app(client, location)


def sign_in(
    client: Client, fake: FakeScotAccount, persona: str = "morag", **params: Any
) -> HttpResponse:
    """The whole sign-in: login view -> fake ScotAccount -> callback."""
    return complete(client, fake, start_flow(client, **params), persona)


def signed_in_client(client: Client, fake: FakeScotAccount, persona: str = "morag") -> Client:
    """``client`` after a successful sign-in as ``persona``."""
    response = sign_in(client, fake, persona)
    assert response.status_code == 302, response.content[:500]
    assert client.session.get("_auth_user_id"), "the sign-in did not complete"
    return client
