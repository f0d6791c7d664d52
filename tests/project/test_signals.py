"""Signals are sent after the commit; a receiver that raises never breaks the flow."""

from __future__ import annotations

import logging

import pytest

from scotaccount_django import signals
from scotaccount_django.models import ScotAccountSession
from tests.flow_helpers import sign_in, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    events: list[str] = []

    def receiver(sender, **kwargs):
        events.append("signed_in")

    signals.signed_in.connect(receiver)
    yield events
    signals.signed_in.disconnect(receiver)


def test_signed_in_waits_for_the_commit(
    client, fake_scotaccount, received, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        assert sign_in(client, fake_scotaccount).status_code == 302
        assert received == []  # the transaction has not committed yet
    assert len(callbacks) == 1
    callbacks[0]()
    assert received == ["signed_in"]


@pytest.mark.parametrize("signal", ["signed_in", "signed_out"])
def test_a_raising_receiver_is_logged_and_ignored(
    client, fake_scotaccount, caplog, signal, django_capture_on_commit_callbacks
) -> None:
    def broken(sender, **kwargs):
        raise RuntimeError("council bug")

    getattr(signals, signal).connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            person = signed_in_client(client, fake_scotaccount)
            response = person.post("/scotaccount/logout/")
    finally:
        getattr(signals, signal).disconnect(broken)
    assert response.status_code == 302
    assert not person.session.get("_auth_user_id")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "django.dispatch"
    assert "broken" in errors[0].getMessage()
    assert errors[0].exc_info[0] is RuntimeError


def test_front_channel_bookkeeping_needs_no_receiver(
    client, fake_scotaccount, monkeypatch
) -> None:
    # Not even the app's own audit receiver: the sid registry is written directly.
    monkeypatch.setattr(signals.signed_in, "receivers", [])
    monkeypatch.setattr(signals.signed_in, "sender_receivers_cache", {})
    assert not signals.signed_in.has_listeners()
    signed_in_client(client, fake_scotaccount)
    assert ScotAccountSession.objects.filter(session_key=client.session.session_key).exists()


def test_signed_in_says_whether_the_identity_is_new(
    client, fake_scotaccount, django_capture_on_commit_callbacks
) -> None:
    created: list[bool] = []

    def receiver(sender, **kwargs):
        created.append(kwargs["created"])

    signals.signed_in.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            signed_in_client(client, fake_scotaccount)
            client.logout()
            signed_in_client(client, fake_scotaccount)
    finally:
        signals.signed_in.disconnect(receiver)
    assert created == [True, False]
