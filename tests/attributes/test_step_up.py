"""The step-up, end to end through the fake ScotAccount: what is asked, stored and recorded."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session

from scotaccount_django._internal.flows import Purpose
from scotaccount_django.attributes import get_verified_attributes, is_identity_verified
from scotaccount_django.models import (
    AttributeRequest,
    ScotAccountIdentity,
    VerifiedAttribute,
)
from scotaccount_django.signals import attributes_received
from scotaccount_django_testing import PERSONAS
from tests.attributes.helpers import (
    ADDRESS,
    ALL_SCOPES,
    ATTRIBUTES_PATH,
    EMAIL,
    IDENTITY,
    NEXT,
    authorize_count,
    start_step_up,
    step_up,
)
from tests.flow_helpers import complete, pending_flows, return_to_app, sign_in

# any_user_model: `make test` runs these with tests.settings_custom_user as well.
pytestmark = [pytest.mark.django_db, pytest.mark.any_user_model]


def requested_scope(authorize_url: str) -> list[str]:
    return parse_qs(urlsplit(authorize_url).query)["scope"][0].split()


def the_user():
    return ScotAccountIdentity.objects.get().user


@pytest.fixture
def signed_in(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    return client


def test_all_scopes_released(signed_in, fake_scotaccount, django_capture_on_commit_callbacks):
    received = []
    attributes_received.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    finally:
        attributes_received.disconnect(dispatch_uid="t1")
    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert set(get_verified_attributes(the_user())) == set(ALL_SCOPES)
    assert is_identity_verified(the_user())
    request = AttributeRequest.objects.get()
    assert request.status == AttributeRequest.Status.COMPLETED
    assert request.received_scopes == ALL_SCOPES
    assert request.missing_scopes == {}
    assert [(kw["received"], kw["missing"]) for kw in received] == [(ALL_SCOPES, [])]
    assert received[0]["identity"] == ScotAccountIdentity.objects.get()
    assert received[0]["user"] == the_user()
    # The person is still signed in, as the same user.
    assert signed_in.get("/signed-in/").content == b"signed in: True"


def test_a1_the_step_up_asks_for_openid_and_only_the_missing_scopes(signed_in, fake_scotaccount):
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    authorize_url = start_step_up(signed_in, ALL_SCOPES)
    assert requested_scope(authorize_url) == ["openid", IDENTITY, EMAIL]
    [flow] = pending_flows(signed_in)  # the first step-up's cookie was spent
    assert flow.purpose == Purpose.ATTRIBUTES
    assert flow.initiating_sub == ScotAccountIdentity.objects.get().sub


def test_a_subset_released(signed_in, fake_scotaccount):
    response = step_up(signed_in, fake_scotaccount, ALL_SCOPES, release=[ADDRESS])
    assert response["Location"] == NEXT
    assert list(get_verified_attributes(the_user())) == [ADDRESS]
    request = AttributeRequest.objects.get()
    assert request.received_scopes == [ADDRESS]
    assert request.missing_scopes == {IDENTITY: "declined", EMAIL: "declined"}


def test_all_declined_by_cancelling(signed_in, fake_scotaccount):
    response = step_up(signed_in, fake_scotaccount, [ADDRESS, EMAIL], cancel=True)
    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert not VerifiedAttribute.objects.exists()
    request = AttributeRequest.objects.get()
    assert request.missing_scopes == {ADDRESS: "declined", EMAIL: "declined"}
    assert signed_in.get("/signed-in/").content == b"signed in: True"


def test_all_declined_by_releasing_nothing(signed_in, fake_scotaccount):
    response = step_up(signed_in, fake_scotaccount, [ADDRESS, EMAIL], release=[])
    assert response["Location"] == NEXT
    assert not VerifiedAttribute.objects.exists()
    assert AttributeRequest.objects.get().missing_scopes == {
        ADDRESS: "declined",
        EMAIL: "declined",
    }
    # Nothing was granted, so the attributes endpoint was not even called.
    assert fake_scotaccount.journal.for_endpoint("attributes") == []


def test_declined_scopes_are_not_requested_again(signed_in, fake_scotaccount):
    step_up(signed_in, fake_scotaccount, [ADDRESS], cancel=True)
    before = authorize_count(fake_scotaccount)
    response = signed_in.get(ATTRIBUTES_PATH, {"scope": ADDRESS, "next": NEXT})
    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert authorize_count(fake_scotaccount) == before


def test_a_deliberate_retry_asks_again(signed_in, fake_scotaccount):
    step_up(signed_in, fake_scotaccount, [ADDRESS], cancel=True)
    authorize_url = start_step_up(signed_in, [ADDRESS], retry="1")
    assert requested_scope(authorize_url) == ["openid", ADDRESS]
    complete(signed_in, fake_scotaccount, authorize_url)
    assert list(get_verified_attributes(the_user())) == [ADDRESS]


def test_f5_identity_verification_failed_is_never_stored_as_verified(client, fake_scotaccount):
    sign_in(client, fake_scotaccount, persona="idv-failed")
    response = step_up(client, fake_scotaccount, [IDENTITY, ADDRESS], persona="idv-failed")
    assert response["Location"] == NEXT
    stored = VerifiedAttribute.objects.get(scope=IDENTITY)
    assert stored.outcome == "VERIFICATION_FAILED"
    assert not stored.is_verified
    assert stored.claims == {}
    assert not is_identity_verified(the_user())
    assert list(get_verified_attributes(the_user())) == [ADDRESS]
    request = AttributeRequest.objects.get()
    assert request.missing_scopes == {IDENTITY: "verification_failed"}
    # Not asked for again automatically.
    before = authorize_count(fake_scotaccount)
    assert client.get(ATTRIBUTES_PATH, {"scope": IDENTITY, "next": NEXT})["Location"] == NEXT
    assert authorize_count(fake_scotaccount) == before


def test_not_available_is_recorded(client, fake_scotaccount):
    sign_in(client, fake_scotaccount, persona="no-address")
    step_up(client, fake_scotaccount, [ADDRESS, EMAIL], persona="no-address")
    assert list(get_verified_attributes(the_user())) == [EMAIL]
    assert AttributeRequest.objects.get().missing_scopes == {ADDRESS: "not_available"}


def test_nothing_to_release_is_a_404_recorded_as_not_available(client, fake_scotaccount):
    sign_in(client, fake_scotaccount, persona="no-address")
    response = step_up(client, fake_scotaccount, [ADDRESS], persona="no-address")
    assert response["Location"] == NEXT
    assert fake_scotaccount.journal.last("attributes").status == 404
    assert AttributeRequest.objects.get().missing_scopes == {ADDRESS: "not_available"}
    assert client.get("/signed-in/").content == b"signed in: True"


def test_the_same_attribute_is_never_asked_for_twice(signed_in, fake_scotaccount):
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    before = authorize_count(fake_scotaccount)
    response = signed_in.get(ATTRIBUTES_PATH, {"scope": ADDRESS, "next": NEXT})
    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert authorize_count(fake_scotaccount) == before
    assert pending_flows(signed_in) == []


def test_f8_the_same_verification_received_twice_is_one_record(
    signed_in, fake_scotaccount, settings, time_machine
):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {ADDRESS: 3600}
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    first = VerifiedAttribute.objects.get()
    # An hour on, the address has expired here; ScotAccount sends the same verification.
    time_machine.move_to(first.received_at + timedelta(seconds=3601))
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    (again,) = VerifiedAttribute.objects.all()
    assert again.txn == first.txn
    assert again.received_at > first.received_at
    assert again.request == AttributeRequest.objects.first()  # the newest request
    assert AttributeRequest.objects.count() == 2


def test_m2_a_step_up_ends_with_the_session_that_started_it(signed_in, fake_scotaccount):
    """Signing out by any route (here: the session ends) ends the flows the user started."""
    user = the_user()
    authorize_url = start_step_up(signed_in, [ADDRESS])
    # The 4-hour session ends while the person is away at ScotAccount.
    Session.objects.all().delete()
    assert signed_in.get("/signed-in/").content == b"signed in: False"
    response = complete(signed_in, fake_scotaccount, authorize_url)
    assert response.status_code == 400
    assert signed_in.get("/signed-in/").content == b"signed in: False"
    assert list(get_verified_attributes(user)) == []


def test_b6_a_step_up_coming_back_as_someone_else_is_refused(signed_in, fake_scotaccount):
    authorize_url = start_step_up(signed_in, [ADDRESS])
    response = complete(signed_in, fake_scotaccount, authorize_url, persona="seonaid")
    assert response.status_code == 403
    assert response.context["error_code"] == "subject_mismatch"
    assert not VerifiedAttribute.objects.exists()
    assert not AttributeRequest.objects.exists()
    assert ScotAccountIdentity.objects.count() == 1
    # Seònaid was never signed in here.
    assert not ScotAccountIdentity.objects.filter(sub=PERSONAS["seonaid"].sub).exists()


def test_signed_out_people_sign_in_first(client, fake_scotaccount):
    response = client.get(ATTRIBUTES_PATH, {"scope": ADDRESS, "next": NEXT})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/scotaccount/login/"
    back = parse_qs(location.query)["next"][0]
    assert back.startswith(ATTRIBUTES_PATH)
    assert authorize_count(fake_scotaccount) == 0


@pytest.mark.parametrize(
    "query",
    [{}, {"scope": "scotaccount.phone"}, {"scope": "openid"}, {"scope": "gpg-45-medium"}],
)
def test_unknown_or_no_scopes_are_a_clean_400(signed_in, fake_scotaccount, query):
    before = authorize_count(fake_scotaccount)
    response = signed_in.get(ATTRIBUTES_PATH, {**query, "next": NEXT})
    assert response.status_code == 400
    assert response.context["error_code"] == "bad_attribute_request"
    assert authorize_count(fake_scotaccount) == before


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_an_unsafe_next_is_never_followed(signed_in, fake_scotaccount, next_url):
    authorize_url = start_flow_with_next(signed_in, next_url)
    response = complete(signed_in, fake_scotaccount, authorize_url)
    assert response["Location"] == "/signed-in/"  # LOGIN_REDIRECT_URL, not the attacker's


def start_flow_with_next(client, next_url):
    response = client.get(ATTRIBUTES_PATH, {"scope": ADDRESS, "next": next_url})
    assert response.status_code == 302
    return response["Location"]


def test_the_callback_is_not_replayable(signed_in, fake_scotaccount):
    """A replay while signed in (Back, Refresh) just continues: nothing exchanged or stored."""
    authorize_url = start_step_up(signed_in, [ADDRESS])
    location = fake_scotaccount.complete_authorization(authorize_url)
    assert return_to_app(signed_in, location).status_code == 302
    tokens = len(fake_scotaccount.journal.for_endpoint("token"))
    replay = return_to_app(signed_in, location)
    assert replay.status_code == 302
    assert len(fake_scotaccount.journal.for_endpoint("token")) == tokens
    assert AttributeRequest.objects.count() == 1


def test_f1_the_attributes_assertion_is_for_the_attributes_url(signed_in, fake_scotaccount):
    step_up(signed_in, fake_scotaccount, [ADDRESS])
    token_assertion = fake_scotaccount.journal.last("token").client_assertion
    attributes_entry = fake_scotaccount.journal.last("attributes")
    assertion = attributes_entry.client_assertion
    assert assertion["claims"]["aud"] == fake_scotaccount.attributes_url
    assert token_assertion["claims"]["aud"] == fake_scotaccount.token_endpoint
    assert assertion["claims"]["aud"] != token_assertion["claims"]["aud"]
    assert assertion["claims"]["jti"] != token_assertion["claims"]["jti"]
    assert attributes_entry.headers["authorization"].startswith("Bearer ")
    assert not attributes_entry.failed_rules


def test_f9_tokens_and_claims_token_are_not_kept(signed_in, fake_scotaccount, caplog):
    caplog.set_level("DEBUG")
    step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    access_token = fake_scotaccount.journal.last("attributes").headers["authorization"][7:]
    stored = repr(list(VerifiedAttribute.objects.values())) + repr(
        list(AttributeRequest.objects.values())
    )
    assert access_token not in stored
    assert "eyJ" not in stored
    assert access_token not in caplog.text
    assert "eyJ" not in caplog.text
    # No personal data in the log either.
    for value in ("Morag", "MacDonald", "1976-08-24", "G62 7AA", "morag.macdonald"):
        assert value not in caplog.text
