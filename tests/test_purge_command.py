"""``manage.py scotaccount_purge`` removes expired flows and keeps live ones."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from scotaccount_django.models import AuthorizationFlow

pytestmark = pytest.mark.django_db


def flow(expires_in: timedelta, state: str) -> AuthorizationFlow:
    return AuthorizationFlow.objects.create(
        state_hash=state,
        nonce_hash="n",
        code_verifier="v",
        browser_binding_hash="b",
        scopes="openid",
        redirect_uri="https://council.example/cb/",
        expires_at=timezone.now() + expires_in,
    )


def test_purge_deletes_only_expired_flows() -> None:
    live = flow(timedelta(days=1), "live")
    flow(-timedelta(seconds=1), "expired")
    out = io.StringIO()
    call_command("scotaccount_purge", stdout=out)
    assert list(AuthorizationFlow.objects.all()) == [live]
    assert "Deleted 1 expired flow(s)." in out.getvalue()
