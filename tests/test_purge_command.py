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


def test_purge_applies_an_attribute_retention_limit(client, fake_scotaccount) -> None:
    import time_machine

    from scotaccount_django.models import VerifiedAttribute
    from tests.flow_helpers import complete, sign_in, start_flow

    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=True):
        sign_in(client, fake_scotaccount, "morag")
        url = start_flow(client, "/scotaccount/attributes/", scope="scotaccount.email", next="/")
        complete(client, fake_scotaccount, url, "morag")
    assert VerifiedAttribute.objects.count() == 1
    out = io.StringIO()
    call_command("scotaccount_purge", "--attributes-older-than", "400", stdout=out)
    assert VerifiedAttribute.objects.count() == 1
    with time_machine.travel("2027-03-01T12:00:00+00:00"):
        call_command("scotaccount_purge", "--attributes-older-than", "30", stdout=out)
    assert VerifiedAttribute.objects.count() == 0
    assert "Deleted 1 verified attribute(s)" in out.getvalue()


def test_purge_refuses_a_nonsense_retention() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("scotaccount_purge", "--attributes-older-than", "0")
