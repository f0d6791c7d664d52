"""The admin shows identities and pending flows read-only, with no secrets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from scotaccount_django.models import AuthorizationFlow, ScotAccountIdentity
from tests.flow_helpers import sign_in, start_flow

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


def test_flow_admin_never_shows_secrets(admin_client, fake_scotaccount) -> None:
    from django.test import Client

    start_flow(Client())
    flow = AuthorizationFlow.objects.get()
    page = admin_client.get(f"/admin/scotaccount/authorizationflow/{flow.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    for secret in (
        flow.code_verifier,
        flow.state_hash,
        flow.nonce_hash,
        flow.browser_binding_hash,
    ):
        assert secret not in body
    listing = admin_client.get("/admin/scotaccount/authorizationflow/").content.decode()
    assert flow.code_verifier not in listing
