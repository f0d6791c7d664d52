"""Any user model: Django's, one keyed on a nullable email, one with extra required fields.

The email-keyed tests run under ``tests.settings_custom_user`` (``make test`` runs
them in its second pass) and skip with that reason under the default settings.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.test import Client

from scotaccount_django.backends import ScotAccountBackend
from scotaccount_django.checks import check_settings
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.any_user_model,
    pytest.mark.skipif(
        django_settings.AUTH_USER_MODEL != "custom_user.EmailUser",
        reason="needs tests.settings_custom_user (make test runs it)",
    ),
]


class StaffNumberBackend(ScotAccountBackend):
    """The documented override for a user model with extra required fields."""

    def new_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        user = self.UserModel(email=None, staff_number=0)
        user.set_unusable_password()
        user.save()
        return user


def test_email_keyed_users_are_created_with_no_email(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount, "morag")
    sign_in(Client(), fake_scotaccount, "seonaid")
    users = list(get_user_model().objects.all())
    assert len(users) == 2  # two empty emails do not clash on the unique field
    assert [user.email for user in users] == [None, None]
    assert not any(user.has_usable_password() for user in users)
    assert ScotAccountIdentity.objects.count() == 2


def test_extra_required_fields_use_the_documented_override() -> None:
    from tests.custom_user.models import StaffNumberUser

    default, documented = ScotAccountBackend(), StaffNumberBackend()
    default.UserModel = documented.UserModel = StaffNumberUser
    with pytest.raises(IntegrityError), transaction.atomic():
        default.new_user({"sub": "x"})  # staff_number is required
    user = documented.new_user({"sub": "x"})
    assert (user.email, user.staff_number, user.has_usable_password()) == (None, 0, False)


def test_admin_search_uses_the_username_field(admin_client_for_email_user) -> None:
    response = admin_client_for_email_user.get(
        "/admin/scotaccount/scotaccountidentity/", {"q": "someone@example.org"}
    )
    assert response.status_code == 200


def test_admin_shows_people_who_have_no_email_yet(
    admin_client_for_email_user, fake_scotaccount
) -> None:
    """str() of such a user is None (its USERNAME_FIELD is empty), which the admin cannot show."""
    sign_in(Client(), fake_scotaccount, "morag")
    identity = ScotAccountIdentity.objects.get()
    pages = [
        "/admin/scotaccount/scotaccountidentity/",
        f"/admin/scotaccount/scotaccountidentity/{identity.pk}/change/",
    ]
    for page in pages:
        response = admin_client_for_email_user.get(page)
        assert response.status_code == 200
        assert f"User {identity.user_id}" in response.content.decode()


def test_a_non_nullable_email_username_is_reported(settings) -> None:
    settings.AUTH_USER_MODEL = "custom_user.StrictEmailUser"
    assert "scotaccount.E062" in {message.id for message in check_settings()}
    settings.SCOTACCOUNT_CREATE_USERS = False
    assert "scotaccount.E062" not in {message.id for message in check_settings()}


@pytest.fixture
def admin_client_for_email_user(client) -> Client:
    admin = get_user_model().objects.create_superuser("admin@example.org", "pw")
    client.force_login(admin)
    return client
