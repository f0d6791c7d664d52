"""The public reading API: typed accessors, status, expiry per scope, purge and erasure."""

from __future__ import annotations

import datetime
import io
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.utils import timezone

from scotaccount_django import attributes
from scotaccount_django.attributes import (
    ADDRESS,
    EMAIL,
    IDENTITY,
    address_lines,
    attribute_status,
    get_verified_attributes,
    is_identity_verified,
    missing_scopes,
    unavailable_scopes,
    verified_address,
    verified_birth_date,
    verified_email,
    verified_name,
)
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity, VerifiedAttribute

pytestmark = pytest.mark.django_db

CLAIMS = {
    IDENTITY: {
        "given_name": "Seònaid",
        "family_name": "Nic a' Phearsain",
        "birth_date": "1962-05-17",
    },
    ADDRESS: {
        "address": {
            "uprn": "906700081759",
            "subBuildingName": "0/2",
            "buildingNumber": "99",
            "streetName": "BYRES ROAD",
            "addressLocality": "GLASGOW",
            "postalCode": "G12 8TB",
        }
    },
    EMAIL: {"email": "seonaid@example.com"},
}


@pytest.fixture
def identity():
    user = get_user_model().objects.create(username="person")
    return ScotAccountIdentity.objects.create(
        user=user, issuer="https://issuer.example", sub=uuid.uuid4(), last_seen=timezone.now()
    )


def hold(identity, scope, outcome="VERIFIED_SUCCESSFULLY", confidence="medium", **fields):
    return VerifiedAttribute.objects.create(
        identity=identity,
        scope=scope,
        claims=CLAIMS[scope] if outcome != "VERIFICATION_FAILED" else {},
        outcome=outcome,
        trust_framework="uk_tfida",
        confidence_level=confidence if scope == IDENTITY else "",
        verified_at=timezone.now(),
        verifier_organization="DIS",
        txn=uuid.uuid4(),
        **fields,
    )


def record(identity, requested, missing, status="completed"):
    return AttributeRequest.objects.create(
        identity=identity,
        requested_scopes=requested,
        received_scopes=[s for s in requested if s not in missing],
        missing_scopes=missing,
        status=status,
    )


def test_typed_accessors(identity):
    for scope in CLAIMS:
        hold(identity, scope)
    user = identity.user
    name = verified_name(user)
    assert (name.given_name, name.family_name) == ("Seònaid", "Nic a' Phearsain")
    assert name.full_name == "Seònaid Nic a' Phearsain"
    assert verified_birth_date(user) == datetime.date(1962, 5, 17)
    assert verified_email(user) == "seonaid@example.com"
    address = verified_address(user)
    assert address.lines == ("0/2", "99 BYRES ROAD", "GLASGOW")
    assert address.postcode == "G12 8TB"
    assert address.uprn == "906700081759"
    assert is_identity_verified(user)


def test_nothing_held_means_none(identity):
    user = identity.user
    assert verified_name(user) is None
    assert verified_birth_date(user) is None
    assert verified_email(user) is None
    assert verified_address(user) is None
    assert not is_identity_verified(user)
    assert get_verified_attributes(user) == {}


def test_anonymous_and_identity_less_users_hold_nothing(identity):
    assert get_verified_attributes(AnonymousUser()) == {}
    assert missing_scopes(AnonymousUser(), [ADDRESS]) == [ADDRESS]
    other = get_user_model().objects.create(username="staff")
    assert missing_scopes(other, [EMAIL, ADDRESS]) == [ADDRESS, EMAIL]


@pytest.mark.parametrize(
    ("outcome", "confidence", "verified"),
    [
        ("VERIFIED_SUCCESSFULLY", "medium", True),
        ("VERIFIED_WITH_WARNINGS", "medium", True),
        ("VERIFIED_SUCCESSFULLY", "high", True),
        ("VERIFIED_SUCCESSFULLY", "low", False),
        ("VERIFIED_SUCCESSFULLY", "", False),
        ("VERIFICATION_FAILED", "medium", False),
    ],
)
def test_identity_verified_means_gpg45_medium_and_a_verified_outcome(
    identity, outcome, confidence, verified
):
    hold(identity, IDENTITY, outcome=outcome, confidence=confidence)
    assert is_identity_verified(identity.user) is verified


def test_a_failed_verification_is_never_a_name(identity):
    hold(identity, IDENTITY, outcome="VERIFICATION_FAILED")
    assert verified_name(identity.user) is None
    assert unavailable_scopes(identity.user, [IDENTITY]) == {IDENTITY: "verification_failed"}
    assert missing_scopes(identity.user, [IDENTITY]) == []
    assert missing_scopes(identity.user, [IDENTITY], retry=True) == [IDENTITY]


def test_status_sorts_held_missing_and_unavailable(identity):
    hold(identity, EMAIL)
    record(identity, [ADDRESS], {ADDRESS: "declined"})
    status = attribute_status(identity.user, [ADDRESS, IDENTITY, EMAIL])
    assert list(status.held) == [EMAIL]
    assert status.missing == [IDENTITY]
    assert status.unavailable == {ADDRESS: "declined"}


def test_only_the_latest_answer_about_a_scope_counts(identity):
    record(identity, [ADDRESS], {ADDRESS: "declined"})
    record(identity, [ADDRESS, EMAIL], {ADDRESS: "error", EMAIL: "error"}, status="failed")
    assert unavailable_scopes(identity.user, [ADDRESS]) == {ADDRESS: "declined"}
    record(identity, [ADDRESS], {})  # a later deliberate retry that delivered it...
    VerifiedAttribute.objects.all().delete()  # ...and was then purged
    assert missing_scopes(next_request_user(identity), [ADDRESS]) == [ADDRESS]


def next_request_user(identity):
    """The person's user as the next request loads it (answers are kept per request)."""
    return type(identity.user).objects.get(pk=identity.user_id)


def test_answers_are_read_once_per_request(identity, django_assert_num_queries):
    for scope in CLAIMS:
        hold(identity, scope)
    user = next_request_user(identity)
    with django_assert_num_queries(1):
        for _ in range(3):
            assert verified_name(user) is not None
            assert verified_address(user) is not None
            assert verified_email(user) is not None
    VerifiedAttribute.objects.filter(scope=EMAIL).delete()
    assert verified_email(user) is not None  # the same request: the same answer
    assert verified_email(next_request_user(identity)) is None


def test_unknown_scopes_are_a_programming_error(identity):
    with pytest.raises(ValueError, match="gpg-45-medium"):
        missing_scopes(identity.user, ["gpg-45-medium"])


def test_attributes_expire_per_scope(identity, settings, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {ADDRESS: timedelta(days=90), EMAIL: 3600}
    for scope in CLAIMS:
        hold(identity, scope)
    time_machine.shift(timedelta(hours=1))
    assert set(get_verified_attributes(identity.user)) == {IDENTITY, ADDRESS}
    assert missing_scopes(identity.user, [EMAIL]) == [EMAIL]
    time_machine.shift(timedelta(days=90))
    assert set(get_verified_attributes(identity.user)) == {IDENTITY}
    assert verified_address(identity.user) is None


def test_address_lines_follow_paf_order():
    assert address_lines(
        {
            "organisationName": "HIGHLAND COUNCIL",
            "departmentName": "ROADS",
            "buildingName": "COUNCIL HQ",
            "buildingNumber": "1",
            "dependentStreetName": "WEST LANE",
            "streetName": "GLENURQUHART ROAD",
            "doubleDependentAddressLocality": "A",
            "dependentAddressLocality": "B",
            "addressLocality": "INVERNESS",
            "postalCode": "IV3 5NX",
        }
    ) == (
        "HIGHLAND COUNCIL",
        "ROADS",
        "COUNCIL HQ",
        "1 WEST LANE",
        "GLENURQUHART ROAD",
        "A",
        "B",
        "INVERNESS",
    )
    assert address_lines({"buildingNumber": "7", "addressLocality": "OBAN"}) == ("7", "OBAN")


def test_purge_deletes_what_is_older_than_the_age(identity, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    hold(identity, EMAIL)
    record(identity, [ADDRESS], {ADDRESS: "declined"})
    time_machine.shift(timedelta(days=31))
    hold(identity, ADDRESS)
    out = io.StringIO()
    call_command("scotaccount_purge", "--attributes-older-than", "30", stdout=out)
    assert "Deleted 1 verified attribute(s) and 1 attribute request record(s)" in out.getvalue()
    assert list(VerifiedAttribute.objects.values_list("scope", flat=True)) == [ADDRESS]
    assert not AttributeRequest.objects.exists()


def test_deleting_the_user_erases_their_attributes(identity):
    hold(identity, ADDRESS)
    record(identity, [ADDRESS], {})
    identity.user.delete()
    assert not VerifiedAttribute.objects.exists()
    assert not AttributeRequest.objects.exists()


def test_the_public_names_are_pinned():
    assert set(attributes.__all__) <= set(dir(attributes))
