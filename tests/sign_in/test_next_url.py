"""One ``next`` check, made when ``next`` is stored and again when it is used, on every path."""

from __future__ import annotations

import dataclasses

import pytest

from scotaccount_django._internal import flows
from scotaccount_django._internal.flows import MAX_NEXT_LENGTH
from tests.attributes.helpers import ALL_SCOPES, ATTRIBUTES_PATH, step_up
from tests.flow_helpers import (
    complete,
    pending_flows,
    return_to_app,
    sign_in,
    signed_in_client,
    start_flow,
)

pytestmark = pytest.mark.django_db

EVIL = "https://evil.example/"


def test_an_overlong_next_is_refused_when_stored(client, fake_scotaccount) -> None:
    start_flow(client, next="/" + "a" * MAX_NEXT_LENGTH)
    assert [flow.next_url for flow in pending_flows(client)] == [""]


def test_the_longest_allowed_next_is_kept(client, fake_scotaccount) -> None:
    longest = "/" + "a" * (MAX_NEXT_LENGTH - 1)
    assert sign_in(client, fake_scotaccount, next=longest)["Location"] == longest


def test_h2_a_stored_next_is_checked_again_when_used(client, fake_scotaccount) -> None:
    authorize_url = start_flow(client, next="/fine/")
    [(name, morsel)] = [(n, m) for n, m in client.cookies.items() if n.startswith("scotaccount")]
    sealed = flows.unseal(morsel.value)  # e.g. sealed by an older release
    client.cookies[name] = flows.seal(dataclasses.replace(sealed, next_url=EVIL))
    response = complete(client, fake_scotaccount, authorize_url)
    assert response["Location"] == "/signed-in/"


def test_mozilla_django_oidc_settings_do_not_widen_it(client, fake_scotaccount, settings) -> None:
    settings.OIDC_REDIRECT_ALLOWED_HOSTS = ["evil.example"]
    assert sign_in(client, fake_scotaccount, next=EVIL)["Location"] == "/signed-in/"


@pytest.mark.parametrize("next_url", [EVIL, "/apply/\x00", "//evil.example/"])
def test_the_attributes_view_checks_next_when_nothing_is_missing(
    client, fake_scotaccount, next_url
) -> None:
    person = signed_in_client(client, fake_scotaccount)
    step_up(person, fake_scotaccount, ALL_SCOPES)
    response = person.get(ATTRIBUTES_PATH, {"scope": ALL_SCOPES, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/signed-in/"


def test_the_attributes_view_stores_only_a_safe_next(client, fake_scotaccount) -> None:
    person = signed_in_client(client, fake_scotaccount)
    location = start_flow(person, ATTRIBUTES_PATH, scope=ALL_SCOPES, next=EVIL)
    assert [flow.next_url for flow in pending_flows(person)] == [""]
    answer = fake_scotaccount.complete_authorization(location, persona="morag")
    assert return_to_app(person, answer)["Location"] == "/signed-in/"
