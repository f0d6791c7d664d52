"""``GET /attributes/values`` faults: 401/403, 404, 5xx, timeouts, redirects, bounded retries."""

from __future__ import annotations

import jwt
import pytest

from scotaccount_django.attributes import get_verified_attributes
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity, VerifiedAttribute
from tests.attributes.helpers import ADDRESS, NEXT, step_up
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    return client


def assertion_claims(entry) -> dict:
    """The DIS-Client-Assertion as sent (faulted requests are journaled before decoding)."""
    return jwt.decode(entry.headers["dis-client-assertion"], options={"verify_signature": False})


def assert_still_signed_in(client):
    assert client.get("/signed-in/").content == b"signed in: True"


@pytest.mark.parametrize("status", [401, 403])
def test_f7_refusing_our_client_is_a_configuration_error(signed_in, fake_scotaccount, status):
    fake_scotaccount.scenarios.add(f"attributes_http_{status}")
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response.context["error_code"] == "provider_rejected_client"
    assert response.context["retry_url"] is None  # retrying will not help
    assert len(fake_scotaccount.journal.for_endpoint("attributes")) == 1  # never retried
    assert not VerifiedAttribute.objects.exists()
    assert AttributeRequest.objects.get().status == AttributeRequest.Status.FAILED
    assert_still_signed_in(signed_in)


def test_404_is_recorded_as_not_available(signed_in, fake_scotaccount):
    fake_scotaccount.scenarios.add("attributes_http_404")
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response["Location"] == NEXT
    assert AttributeRequest.objects.get().missing_scopes == {ADDRESS: "not_available"}
    assert_still_signed_in(signed_in)


@pytest.mark.parametrize(
    "fault", ["attributes_http_500", "attributes_http_502", "attributes_http_503"]
)
def test_a_5xx_is_retried_with_a_fresh_assertion(signed_in, fake_scotaccount, fault):
    fake_scotaccount.scenarios.add(fault, times=2)
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response["Location"] == NEXT
    entries = fake_scotaccount.journal.for_endpoint("attributes")
    assert len(entries) == 3
    assertions = [assertion_claims(entry) for entry in entries]
    assert len({claims["jti"] for claims in assertions}) == 3
    assert {claims["aud"] for claims in assertions} == {fake_scotaccount.attributes_url}
    assert list(get_verified_attributes(ScotAccountIdentity.objects.get().user)) == [ADDRESS]


def test_f7_retries_are_bounded_then_a_friendly_page(signed_in, fake_scotaccount, retry_pauses):
    fake_scotaccount.scenarios.add("attributes_http_503", times=None)
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert retry_pauses == [0.25, 0.75]  # backed off before each retry, never slept in tests
    assert response.status_code == 200  # not 5xx: Django would drop the new session
    assert response.context["error_code"] == "attributes_unavailable"
    assert "/scotaccount/attributes/" in response.context["retry_url"]
    assert len(fake_scotaccount.journal.for_endpoint("attributes")) == 3
    assert not VerifiedAttribute.objects.exists()
    request = AttributeRequest.objects.get()
    assert request.missing_scopes == {ADDRESS: "error"}
    assert_still_signed_in(signed_in)


def test_a_failed_request_does_not_block_the_next_visit(signed_in, fake_scotaccount):
    fake_scotaccount.scenarios.add("attributes_http_503", times=3)
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert step_up(signed_in, fake_scotaccount, [ADDRESS])["Location"] == NEXT
    assert VerifiedAttribute.objects.get().scope == ADDRESS


def test_timeouts_are_retried(signed_in, fake_scotaccount, settings):
    settings.SCOTACCOUNT_TIMEOUT = 0.2
    fake_scotaccount.scenarios.timeout_delay = 1.0
    fake_scotaccount.scenarios.add("attributes_timeout", times=1)
    assert step_up(signed_in, fake_scotaccount, [ADDRESS])["Location"] == NEXT
    assert len(fake_scotaccount.journal.for_endpoint("attributes")) == 2


@pytest.mark.parametrize(
    "fault",
    ["attributes_redirect_other_host", "attributes_malformed_json", "attributes_html_body"],
)
def test_bad_answers_are_refused_without_retry(signed_in, fake_scotaccount, fault):
    fake_scotaccount.scenarios.add(fault)
    response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response.status_code == 200
    assert response.context["error_code"] == "provider"
    assert len(fake_scotaccount.journal.for_endpoint("attributes")) == 1
    # A redirect is never followed: nothing reached the other host.
    assert fake_scotaccount.journal.for_endpoint("captured") == []
    assert not VerifiedAttribute.objects.exists()
    assert_still_signed_in(signed_in)


def test_no_retry_beyond_the_access_tokens_life(signed_in, fake_scotaccount):
    from scotaccount_django._internal import provider

    fake_scotaccount.scenarios.add("attributes_http_503", times=None)
    # A token with less life left than the safety margin is never retried.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(provider, "EXPIRY_MARGIN_SECONDS", 10_000)
        response = step_up(signed_in, fake_scotaccount, [ADDRESS])
    assert response.context["error_code"] == "attributes_unavailable"
    assert len(fake_scotaccount.journal.for_endpoint("attributes")) == 1
