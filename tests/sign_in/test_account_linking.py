"""SECURITY L3: an existing account is linked only for the user who started that flow."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from scotaccount_django._internal import flows
from scotaccount_django.backends import ScotAccountBackend
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import complete, start_flow

pytestmark = pytest.mark.django_db


class NaiveLinkingBackend(ScotAccountBackend):
    """The pattern the old docstring suggested: link whoever is signed in at the callback."""

    def link_existing_user(self, request, claims):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated and user.is_staff else None


class StarterLinkingBackend(ScotAccountBackend):
    """The documented pattern: link the user who started the flow."""

    def link_existing_user(self, request, claims):
        if self.started_by_id is None:
            return None
        return self.UserModel.objects.get(pk=self.started_by_id)


class RecordingLinkingBackend(StarterLinkingBackend):
    """The documented pattern, noting what the hook is given to decide with."""

    received: list[tuple[object, ...]] = []

    def link_existing_user(self, request, claims):
        self.received.append((request.path, request.user, claims["iss"], claims["sub"]))
        return super().link_existing_user(request, claims)


class StaffLinkingBackend(ScotAccountBackend):
    """A faulty hook: it names the user "staff", whoever started the flow."""

    def link_existing_user(self, request, claims):
        return self.UserModel.objects.get(username="staff")


@pytest.fixture
def staff():
    return get_user_model().objects.create(username="staff", is_staff=True)


def backend(settings, cls):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.{cls.__name__}"]


def test_l3_an_attackers_callback_in_a_staff_browser_links_nothing(
    client, fake_scotaccount, settings, staff
):
    backend(settings, NaiveLinkingBackend)
    attacker = Client()
    attackers_flow = start_flow(attacker)  # started signed out, by the attacker
    client.force_login(staff)
    for name, morsel in attacker.cookies.items():  # planted (possible on http only)
        client.cookies[name] = morsel.value
    complete(client, fake_scotaccount, attackers_flow, persona="morag")
    assert not ScotAccountIdentity.objects.filter(user=staff).exists()


def test_l3_the_user_who_started_the_flow_is_linked(client, fake_scotaccount, settings, staff):
    backend(settings, StarterLinkingBackend)
    client.force_login(staff)
    assert complete(client, fake_scotaccount, start_flow(client)).status_code == 302
    assert ScotAccountIdentity.objects.get().user == staff


def test_l3_a_flow_started_signed_out_links_nobody(client, fake_scotaccount, settings, staff):
    backend(settings, StarterLinkingBackend)
    assert complete(client, fake_scotaccount, start_flow(client)).status_code == 302
    assert ScotAccountIdentity.objects.get().user != staff


def test_l3_the_hook_is_given_the_callback_request_and_the_verified_claims(
    client, fake_scotaccount, settings, staff
):
    backend(settings, RecordingLinkingBackend)
    RecordingLinkingBackend.received.clear()
    client.force_login(staff)
    assert complete(client, fake_scotaccount, start_flow(client)).status_code == 302
    identity = ScotAccountIdentity.objects.get()
    assert RecordingLinkingBackend.received == [
        ("/scotaccount/callback/", staff, identity.issuer, identity.sub)
    ]


def test_l3_a_hook_naming_someone_other_than_the_starter_links_nobody(
    client, fake_scotaccount, settings, staff
):
    """The starter is still signed in; the hook names another user: refused all the same."""
    backend(settings, StaffLinkingBackend)
    starter = get_user_model().objects.create(username="starter")
    client.force_login(starter)
    complete(client, fake_scotaccount, start_flow(client))
    assert not ScotAccountIdentity.objects.filter(user__in=[staff, starter]).exists()
    assert client.session.get("_auth_user_id") != str(staff.pk)


def test_l3_a_request_without_a_user_links_nobody(rf, staff):
    """No ``request.user`` at all (no AuthenticationMiddleware): nobody is present to link."""
    request = rf.get("/scotaccount/callback/")
    started = SimpleNamespace(flow=SimpleNamespace(started_by_id=str(staff.pk)))
    setattr(request, flows.IN_PROGRESS, started)
    linking = StaffLinkingBackend()
    linking.request = request
    claims = {"iss": "https://authz.example", "sub": uuid.uuid4()}
    assert list(linking.filter_users_by_claims(claims)) == []
