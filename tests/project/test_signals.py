"""Sign-in and sign-out are Django's own signals; ``attributes_received`` waits for the commit."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.signals import user_logged_in, user_logged_out

from scotaccount_django import signals
from scotaccount_django.models import ScotAccountSession
from tests.attributes.helpers import ADDRESS, step_up
from tests.flow_helpers import sign_in, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    events: list[str] = []

    def logged_in(sender, **kwargs):
        events.append("user_logged_in")

    def logged_out(sender, **kwargs):
        events.append("user_logged_out")

    def attributes(sender, **kwargs):
        events.append("attributes_received")

    user_logged_in.connect(logged_in)
    user_logged_out.connect(logged_out)
    signals.attributes_received.connect(attributes)
    yield events
    user_logged_in.disconnect(logged_in)
    user_logged_out.disconnect(logged_out)
    signals.attributes_received.disconnect(attributes)


def test_a_sign_in_and_a_logout_send_djangos_signals_once(client, fake_scotaccount, received):
    person = signed_in_client(client, fake_scotaccount)
    person.post("/scotaccount/logout/")
    assert received == ["user_logged_in", "user_logged_out"]


def test_a_step_up_is_not_a_second_sign_in(
    client, fake_scotaccount, received, django_capture_on_commit_callbacks
):
    """Same person: no user_logged_in, no second registry row; the key still cycles."""
    person = signed_in_client(client, fake_scotaccount)
    key = person.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        step_up(person, fake_scotaccount, [ADDRESS])
    assert received == ["user_logged_in", "attributes_received"]
    assert person.session.session_key != key
    [row] = ScotAccountSession.objects.all()
    assert row.session_key == person.session.session_key  # the registry followed the key


def test_attributes_received_waits_for_the_commit(
    client, fake_scotaccount, received, django_capture_on_commit_callbacks
) -> None:
    person = signed_in_client(client, fake_scotaccount)
    with django_capture_on_commit_callbacks() as callbacks:
        step_up(person, fake_scotaccount, [ADDRESS])
        assert "attributes_received" not in received  # the transaction has not committed
    for callback in callbacks:
        callback()
    assert received[-1] == "attributes_received"


def test_a_raising_receiver_is_logged_and_ignored(
    client, fake_scotaccount, caplog, django_capture_on_commit_callbacks
) -> None:
    def broken(sender, **kwargs):
        raise RuntimeError("council bug")

    signals.attributes_received.connect(broken)
    try:
        person = signed_in_client(client, fake_scotaccount)
        with django_capture_on_commit_callbacks(execute=True):
            response = step_up(person, fake_scotaccount, [ADDRESS])
    finally:
        signals.attributes_received.disconnect(broken)
    assert response.status_code == 302
    assert person.session.get("_auth_user_id")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "django.dispatch"
    assert "broken" in errors[0].getMessage()
    assert errors[0].exc_info[0] is RuntimeError


def test_front_channel_bookkeeping_needs_no_receiver(
    client, fake_scotaccount, monkeypatch
) -> None:
    # Not even the app's own audit receiver: the sid registry is written directly.
    monkeypatch.setattr(user_logged_in, "receivers", [])
    monkeypatch.setattr(user_logged_in, "sender_receivers_cache", {})
    assert not user_logged_in.has_listeners()
    sign_in(client, fake_scotaccount)
    assert ScotAccountSession.objects.filter(session_key=client.session.session_key).exists()
