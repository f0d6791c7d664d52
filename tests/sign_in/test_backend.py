"""ScotAccountBackend: keyed on sub, never on email; hooks; inactive users; other logins."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client

from scotaccount_django.backends import ScotAccountBackend
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()


class LinkingBackend(ScotAccountBackend):
    """Links every new sub to the user called 'existing' (a test stand-in for a real rule)."""

    def link_existing_user(self, request, claims):
        return User.objects.filter(username="existing").first()


def test_link_hook_attaches_an_existing_user(client, fake_scotaccount, settings) -> None:
    settings.AUTHENTICATION_BACKENDS = ["tests.sign_in.test_backend.LinkingBackend"]
    existing = User.objects.create_user("existing")
    client.force_login(existing)  # only the user who starts the flow can be linked (L3)
    sign_in(client, fake_scotaccount, "morag")
    assert ScotAccountIdentity.objects.get().user == existing
    assert User.objects.count() == 1


def test_unknown_people_are_refused_when_creation_is_off(
    client, fake_scotaccount, settings
) -> None:
    settings.SCOTACCOUNT_CREATE_USERS = False
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 403
    assert not User.objects.exists()


def test_known_people_still_sign_in_when_creation_is_off(
    client, fake_scotaccount, settings
) -> None:
    sign_in(client, fake_scotaccount)
    settings.SCOTACCOUNT_CREATE_USERS = False
    assert sign_in(Client(), fake_scotaccount).status_code == 302


def test_inactive_user_cannot_sign_in(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount)
    User.objects.update(is_active=False)
    other = Client()
    assert sign_in(other, fake_scotaccount).status_code == 403
    assert "_auth_user_id" not in other.session


def test_deactivated_users_existing_session_stops_working(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount)
    assert client.get("/signed-in/").content == b"signed in: True"
    User.objects.update(is_active=False)
    response = client.get("/signed-in/")
    assert response.status_code == 302
    assert response["Location"].startswith("/scotaccount/session-ended/")
    assert "_auth_user_id" not in client.session


def test_password_logins_pass_through_untouched() -> None:
    User.objects.create_user("staff", password="correct horse battery staple")
    user = authenticate(username="staff", password="correct horse battery staple")
    assert user is not None
    assert ScotAccountBackend().authenticate(None, username="staff", password="x") is None


def test_backend_construction_reads_no_settings(settings) -> None:
    del settings.SCOTACCOUNT_CLIENT_ID
    ScotAccountBackend()  # mozilla-django-oidc's own __init__ would raise here
