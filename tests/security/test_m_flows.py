"""SECURITY M1 (flow flood, lockout), M2 (linking needs the linker present), M8 (no-store)."""

from __future__ import annotations

import time

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from scotaccount_django._internal import flows
from scotaccount_django.attributes import attribute_status
from scotaccount_django.models import ScotAccountIdentity, ScotAccountSession
from scotaccount_django.views import LoginView
from tests import urls
from tests.attributes.helpers import ADDRESS, ATTRIBUTES_PATH, start_step_up, step_up
from tests.flow_helpers import (
    LOGIN_PATH,
    complete,
    pending_flows,
    return_to_app,
    sign_in,
    signed_in_client,
    start_flow,
)

User = get_user_model()
CROSS_SITE = {"HTTP_SEC_FETCH_SITE": "cross-site"}
LINKING_BACKEND = "tests.sign_in.test_account_linking.StarterLinkingBackend"


def address_claims(request: HttpRequest) -> HttpResponse:
    held = attribute_status(request.user, [ADDRESS]).held
    return HttpResponse(str(held[ADDRESS].claims.get("address", "")) if held else "none")


urlpatterns = [*urls.urlpatterns, path("address-claims/", address_claims)]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def flow_rows() -> int:
    """Rows in every table of this app but people's identities and sessions."""
    config = apps.get_app_config("scotaccount")
    kept = (ScotAccountIdentity, ScotAccountSession)
    return sum(m.objects.count() for m in config.get_models() if m not in kept)


def test_m1_a_flood_fills_nothing_and_locks_nobody_out(fake_scotaccount) -> None:
    """10,000 cookie-less /login/ hits from one address, 60 browsers signing in meanwhile."""
    login = LoginView.as_view()
    factory = RequestFactory(REMOTE_ADDR="203.0.113.9")  # a proxy: everyone shares it
    browsers = [Client(REMOTE_ADDR="203.0.113.9") for _ in range(60)]
    started = time.perf_counter()
    signed_in = 0
    for hit in range(10_000):
        request = factory.get(LOGIN_PATH)
        request.user = AnonymousUser()
        assert login(request).status_code == 302
        if hit % 166 == 0 and hit // 166 < len(browsers):
            response = sign_in(browsers[hit // 166], fake_scotaccount, "seonaid")
            signed_in += response.status_code == 302
    elapsed = time.perf_counter() - started
    print(
        f"\nM1: 10,000 cookie-less /login/ hits from one address in {elapsed:.1f}s left "
        f"{flow_rows()} rows server-side; {signed_in}/60 browsers behind it signed in"
    )
    assert flow_rows() == 0
    assert signed_in == 60


def test_m1_a_cross_site_page_cannot_evict_a_pending_step_up(client, fake_scotaccount) -> None:
    person = signed_in_client(client, fake_scotaccount)
    authorize_url = start_step_up(person, [ADDRESS])
    for _ in range(20):  # a hostile page sends the browser round our flow starts
        person.get(LOGIN_PATH, {"next": "/" + "a" * 2000}, **CROSS_SITE)
        person.get(ATTRIBUTES_PATH, {"scope": ADDRESS}, **CROSS_SITE)
    response = complete(person, fake_scotaccount, authorize_url)
    assert response.status_code == 302
    assert attribute_status(User.objects.get(), [ADDRESS]).held


def test_m1_a_cross_site_page_cannot_cookie_bomb_the_browser(client, fake_scotaccount) -> None:
    for _ in range(50):
        client.get(LOGIN_PATH, {"next": "/" + "a" * 2000}, **CROSS_SITE)
    assert len(pending_flows(client)) == flows.POOL_SIZES["cross"]
    header = "; ".join(f"{n}={m.value}" for n, m in client.cookies.items() if m.value)
    assert len(header) < 4096


def test_m1_no_rate_limit_and_no_flow_table(client, fake_scotaccount) -> None:
    assert "scotaccount_authorizationflow" not in connection.introspection.table_names()
    for _ in range(100):
        client.cookies.clear()
        assert client.get(LOGIN_PATH).status_code == 302


def test_m1_a_flow_is_single_use_even_with_its_cookie_kept(client, fake_scotaccount) -> None:
    location = fake_scotaccount.complete_authorization(start_flow(client))
    kept = {name: morsel.value for name, morsel in client.cookies.items()}
    assert return_to_app(client, location).status_code == 302
    client.post("/scotaccount/logout/")
    for name, value in kept.items():
        client.cookies[name] = value  # a copy of the cookie, replayed
    assert return_to_app(client, location).status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.fixture
def staff(settings):
    settings.AUTHENTICATION_BACKENDS = [LINKING_BACKEND]
    return User.objects.create(username="staff", is_staff=True)


def test_m2_a_link_abandoned_at_sign_out_links_nobody(client, fake_scotaccount, staff) -> None:
    """Staff start "link my ScotAccount", give up and sign out; the next person finishes it."""
    client.force_login(staff)
    authorize_url = start_flow(client)
    client.post("/scotaccount/logout/")
    response = complete(client, fake_scotaccount, authorize_url, persona="seonaid")
    assert response.status_code == 400
    assert not ScotAccountIdentity.objects.exists()
    assert "_auth_user_id" not in client.session


def test_m2_signing_out_by_another_route_ends_the_flow_too(
    client, fake_scotaccount, staff
) -> None:
    client.force_login(staff)
    authorize_url = start_flow(client)
    Session.objects.all().delete()  # the session expires (or any other sign-out route)
    assert complete(client, fake_scotaccount, authorize_url).status_code == 400
    assert not ScotAccountIdentity.objects.filter(user=staff).exists()


def test_m2_someone_else_signed_in_at_the_callback_is_never_linked(
    client, fake_scotaccount, staff
) -> None:
    client.force_login(staff)
    authorize_url = start_flow(client)
    other = User.objects.create(username="other", is_staff=True)
    client.force_login(other)
    complete(client, fake_scotaccount, authorize_url)
    assert not ScotAccountIdentity.objects.filter(user__in=[staff, other]).exists()


def test_m2_the_documented_backend_links_the_linker_who_is_present(
    client, fake_scotaccount, staff
) -> None:
    client.force_login(staff)
    assert sign_in(client, fake_scotaccount).status_code == 302
    assert ScotAccountIdentity.objects.get().user == staff


def test_m8_the_flow_starting_redirect_is_not_cached(client, fake_scotaccount) -> None:
    assert client.get(LOGIN_PATH)["Cache-Control"] == "no-store"
    person = signed_in_client(Client(), fake_scotaccount)
    assert person.get(ATTRIBUTES_PATH, {"scope": ADDRESS})["Cache-Control"] == "no-store"


def test_m8_values_reached_through_attribute_status_are_not_cached(
    client, fake_scotaccount
) -> None:
    person = signed_in_client(client, fake_scotaccount)
    step_up(person, fake_scotaccount, [ADDRESS])
    response = person.get("/address-claims/")
    assert response.content != b"none"
    assert "no-store" in response["Cache-Control"]
