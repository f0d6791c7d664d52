"""Parsing both ``claimsToken`` layouts into validated entries (after verification)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from scotaccount_django._internal.claims import parse_payload
from scotaccount_django.exceptions import InvalidClaimsToken

V2 = {
    "$schema": "https://schema.scotaccount.service.gov.scot/external/v2/scotaccount-verified-claims",
    "iss": "https://issuer.main.integration.scotaccount.service.gov.scot/jwt",
    "sub": "3f0c1b7e-8a52-4d3e-9b61-2c7f0e4a9d15",
    "iat": 1742379174,
    "verified_claims": [
        {
            "scope": "scotaccount.address",
            "verification": {
                "outcome": "VERIFIED_SUCCESSFULLY",
                "trust_framework": "uk_tfida",
                "validation_method": "credit_reference_agency",
                "time": "2025-03-19T10:12:54Z",
                "verifier": {"organization": "DIS", "txn": "e766b0f2-1873-4199-8f62-e6af182a7f47"},
            },
            "claims": {
                "address": {
                    "uprn": "132021690",
                    "buildingNumber": "5",
                    "streetName": "EXAMPLE PLACE",
                    "dependentAddressLocality": "MILNGAVIE",
                    "addressLocality": "GLASGOW",
                    "postalCode": "G62 7AA",
                }
            },
        },
        {
            "scope": "scotaccount.gpg45.medium",
            "verification": {
                "outcome": "VERIFIED_SUCCESSFULLY",
                "trust_framework": "uk_tfida",
                "assurance_policy": "GPG_45",
                "confidence_level": "medium",
                "time": "2025-03-19T10:12:54Z",
                "verifier": {"organization": "DIS", "txn": "e766b0f2-1873-4199-8f62-e6af182a7f47"},
            },
            "claims": {
                "given_name": "Morag",
                "family_name": "Example",
                "birth_date": "1976-08-24",
            },
        },
    ],
}
V2_SUB = uuid.UUID(V2["sub"])
#: The decoded example from ScotAccount's docs (older layout; no iss/sub/iat of its own).
LEGACY = {
    "verified_claims": {
        "verification": {
            "outcome": "f2cfe0e1-6fbe-4cb6-9e8d-1c1f1427cc2a VERIFIED SUCCESSFULLY",
            "trust_framework": "uk_tfida",
            "assurance_level": "GPG45-Medium",
            "time": "2023-02-15T16:39Z",
            "verifier": {"organization": "DIS", "txn": "a4dbe877-df63-4608-95b0-3a7fe3a4d751"},
        }
    },
    "claims": {
        "uuid": "f2cfe0e1-6fbe-4cb6-9e8d-1c1f1427cc2a",
        "given_name": "sample_given_name",
        "family_name": "sample_familiy_name",
        "birth_date": "1990-09-08",
        "address": {
            "uprn": "906700081759",
            "subBuildingName": "0/2",
            "buildingNumber": "99",
            "streetName": "sample_street_name",
            "addressLocality": "sample_localtion",
            "postalCode": "X111XX",
        },
    },
}
LEGACY_SUB = uuid.UUID("f2cfe0e1-6fbe-4cb6-9e8d-1c1f1427cc2a")


def reference(name: str) -> dict:
    path = Path(__file__).resolve().parent.parent / "data" / name  # copied from ScotAccount's docs
    return json.loads(path.read_text())


def test_the_copies_match_the_reference_examples():
    for name, copied in (
        ("claims-token-v2-example.json", V2),
        ("claims-token-legacy-example.json", LEGACY),
    ):
        assert reference(name) == copied


def test_the_v2_layout():
    address, identity = parse_payload(copy.deepcopy(V2), sub=V2_SUB)
    assert address.scope == "scotaccount.address"
    assert address.claims["address"]["uprn"] == "132021690"
    assert address.validation_method == "credit_reference_agency"
    assert address.txn == uuid.UUID("e766b0f2-1873-4199-8f62-e6af182a7f47")
    assert address.verified_at.isoformat() == "2025-03-19T10:12:54+00:00"
    assert identity.scope == "scotaccount.gpg45.medium"
    assert identity.claims == {
        "given_name": "Morag",
        "family_name": "Example",
        "birth_date": "1976-08-24",
    }
    assert identity.is_verified
    assert identity.confidence_level == "medium"


def test_the_legacy_layout():
    parsed = parse_payload(copy.deepcopy(LEGACY), sub=LEGACY_SUB)
    entries = {entry.scope: entry for entry in parsed}
    assert set(entries) == {"scotaccount.gpg45.medium", "scotaccount.address"}
    identity = entries["scotaccount.gpg45.medium"]
    assert identity.outcome == "VERIFIED_SUCCESSFULLY"
    assert identity.assurance_policy == "GPG_45"
    assert identity.confidence_level == "medium"
    assert identity.verified_at.isoformat() == "2023-02-15T16:39:00+00:00"
    assert identity.claims["birth_date"] == "1990-09-08"
    assert "uuid" not in identity.claims
    address = entries["scotaccount.address"]
    assert address.confidence_level == ""
    assert address.claims["address"]["postalCode"] == "X111XX"


def test_the_legacy_layout_naming_someone_else_is_refused():
    with pytest.raises(InvalidClaimsToken):
        parse_payload(copy.deepcopy(LEGACY), sub=V2_SUB)
    payload = copy.deepcopy(LEGACY)
    del payload["claims"]["uuid"]
    with pytest.raises(InvalidClaimsToken, match="different person"):
        parse_payload(payload, sub=V2_SUB)


def mutated(change) -> dict:
    payload = copy.deepcopy(V2)
    change(payload["verified_claims"])
    return payload


def address_of(entries):
    return entries[0]["claims"]["address"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda e: address_of(e).update(streetName="X" * 81), id="street-too-long"),
        pytest.param(lambda e: address_of(e).update(uprn="12A"), id="uprn-not-digits"),
        pytest.param(lambda e: address_of(e).update(uprn="1234567890123"), id="uprn-too-long"),
        pytest.param(lambda e: address_of(e).update(uprn="123\n"), id="uprn-newline"),
        pytest.param(lambda e: address_of(e).update(postalCode="G62  7AAX"), id="postcode-long"),
        pytest.param(lambda e: address_of(e).update(buildingNumber="12345"), id="number-long"),
        pytest.param(lambda e: address_of(e).update(postalCode=62), id="postcode-not-string"),
        pytest.param(
            lambda e: e[0]["verification"].update(outcome="VERIFIED"), id="unknown-outcome"
        ),
        pytest.param(
            lambda e: e[0]["verification"].update(outcome="VERIFIED SUCCESSFULLY"),
            id="v2-with-spaces",
        ),
        pytest.param(
            lambda e: e[0]["verification"].update(trust_framework="other"), id="trust-framework"
        ),
        pytest.param(lambda e: e[0]["verification"].update(time="yesterday"), id="bad-time"),
        pytest.param(
            lambda e: e[0]["verification"].update(time="2025-03-19T10:12:54"), id="no-zone"
        ),
        pytest.param(lambda e: e[0]["verification"]["verifier"].update(txn="1"), id="bad-txn"),
        pytest.param(lambda e: e[0]["verification"]["verifier"].pop("txn"), id="no-txn"),
        pytest.param(lambda e: e[0]["verification"].pop("outcome"), id="no-outcome"),
        pytest.param(lambda e: e[0].pop("claims"), id="verified-without-claims"),
        pytest.param(lambda e: e[0].pop("scope"), id="no-scope"),
        pytest.param(lambda e: e[0].update(scope="scotaccount.phone"), id="unknown-scope"),
        pytest.param(lambda e: e[1]["claims"].update(birth_date="1976-02-30"), id="bad-date"),
        pytest.param(lambda e: e[1]["claims"].pop("family_name"), id="no-family-name"),
        pytest.param(lambda e: e[1].update(scope="scotaccount.address"), id="duplicate-scope"),
        pytest.param(lambda e: e.append("entry"), id="entry-not-object"),
        pytest.param(
            lambda e: e.append({**e[0], "scope": "scotaccount.email", "claims": {"email": "x"}}),
            id="bad-email",
        ),
    ],
)
def test_schema_violations_are_refused_cleanly(change):
    with pytest.raises(InvalidClaimsToken, match=r"schema|same scope"):
        parse_payload(mutated(change), sub=V2_SUB)


def test_verified_claims_must_be_a_list_or_an_object():
    for value in (None, "x", 3):
        with pytest.raises(InvalidClaimsToken):
            parse_payload({**V2, "verified_claims": value}, sub=V2_SUB)


def test_undeclared_properties_are_dropped_not_stored():
    def add_extras(entries):
        address_of(entries)["note"] = "not in the schema"
        entries[1]["claims"]["nationality"] = "GB"

    address, identity = parse_payload(mutated(add_extras), sub=V2_SUB)
    assert "note" not in address.claims["address"]
    assert "nationality" not in identity.claims


def test_a_failed_verification_keeps_no_claims():
    def fail(entries):
        entries[1]["verification"]["outcome"] = "VERIFICATION_FAILED"

    _, identity = parse_payload(mutated(fail), sub=V2_SUB)
    assert not identity.is_verified
    assert identity.claims == {}


def test_an_empty_list_is_no_entries():
    assert parse_payload({**V2, "verified_claims": []}, sub=V2_SUB) == []
