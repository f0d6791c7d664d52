"""Admin for verified attributes: read-only, and only for staff with the view permission."""

from __future__ import annotations

import uuid

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from scotaccount_django.models import AttributeRequest, ScotAccountIdentity, VerifiedAttribute

pytestmark = pytest.mark.django_db

LIST = "/admin/scotaccount/verifiedattribute/"
REQUESTS = "/admin/scotaccount/attributerequest/"


@pytest.fixture
def attribute():
    person = get_user_model().objects.create(username="person")
    identity = ScotAccountIdentity.objects.create(
        user=person, issuer="https://issuer.example", sub=uuid.uuid4(), last_seen=timezone.now()
    )
    request = AttributeRequest.objects.create(
        identity=identity, requested_scopes=["scotaccount.email"], status="completed"
    )
    return VerifiedAttribute.objects.create(
        identity=identity,
        scope="scotaccount.email",
        claims={"email": "private.person@example.com"},
        outcome="VERIFIED_SUCCESSFULLY",
        trust_framework="uk_tfida",
        verified_at=timezone.now(),
        verifier_organization="DIS",
        txn=uuid.uuid4(),
        request=request,
    )


def staff(client, *codenames):
    user = get_user_model().objects.create(username=f"staff-{uuid.uuid4().hex[:6]}", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def test_i2_staff_without_the_view_permission_see_nothing(client, attribute):
    staff(client, "change_verifiedattribute", "change_attributerequest")
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{attribute.pk}/change/").status_code == 403
    assert client.get(REQUESTS).status_code == 403


def test_staff_with_the_view_permission_can_search_by_sub(client, attribute):
    staff(client, "view_verifiedattribute")
    response = client.get(LIST, {"q": str(attribute.identity.sub)})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert client.get(LIST, {"q": str(uuid.uuid4())}).context["cl"].result_count == 0
    # Lists never show claims.
    assert b"private.person@example.com" not in response.content


def test_values_need_the_dedicated_permission(client, attribute):
    staff(client, "view_verifiedattribute")
    detail = client.get(f"{LIST}{attribute.pk}/change/")
    assert detail.status_code == 200
    assert b"private.person@example.com" not in detail.content
    assert b"scotaccount.view_attribute_values" in detail.content


def test_staff_with_the_values_permission_see_them_decrypted(client, attribute, settings):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    attribute.save()  # now stored encrypted
    staff(client, "view_verifiedattribute", "view_attribute_values")
    detail = client.get(f"{LIST}{attribute.pk}/change/")
    assert b"private.person@example.com" in detail.content


def test_nothing_can_be_added_or_changed(admin_client, attribute):
    assert admin_client.get(f"{LIST}add/").status_code == 403
    response = admin_client.post(
        f"{LIST}{attribute.pk}/change/", {"outcome": "VERIFIED_SUCCESSFULLY"}
    )
    assert response.status_code == 403
    assert admin_client.get(f"{REQUESTS}add/").status_code == 403
    assert admin_client.get(f"{REQUESTS}{attribute.request.pk}/change/").status_code == 200
