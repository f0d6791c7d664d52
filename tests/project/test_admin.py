"""The admin shows identities read-only, with no secrets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("admin", password="pw")
    client.force_login(admin)
    return client


def test_identity_admin_is_searchable_by_sub_and_read_only(admin_client, fake_scotaccount) -> None:
    from django.test import Client

    sign_in(Client(), fake_scotaccount, "morag")
    sign_in(Client(), fake_scotaccount, "seonaid")
    identity = ScotAccountIdentity.objects.get(sub=fake_scotaccount.personas["morag"].sub)
    listing = admin_client.get("/admin/scotaccount/scotaccountidentity/", {"q": str(identity.sub)})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert admin_client.get("/admin/scotaccount/scotaccountidentity/add/").status_code == 403
    change = admin_client.post(
        f"/admin/scotaccount/scotaccountidentity/{identity.pk}/change/", {"sub": "x"}
    )
    assert change.status_code == 403
    identity.refresh_from_db()
    assert str(identity.sub) == fake_scotaccount.personas["morag"].sub
