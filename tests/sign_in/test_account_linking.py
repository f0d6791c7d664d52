"""SECURITY L3: an existing account is linked only for the user who started that flow."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

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
