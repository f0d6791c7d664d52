"""Personas: stable subs and attributes that validate against ScotAccount's schema."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path

import jsonschema
import pytest

import scotaccount_django
from scotaccount_django_testing import DEFAULT_PERSONA, PERSONAS

# A verbatim copy of the schema in ScotAccount's docs, shipped with the core.
SCHEMA_PATH = (
    Path(scotaccount_django.__file__).parent / "_internal/schema/verified-claims.schema.json"
)
SCOPES = ["scotaccount.gpg45.medium", "scotaccount.address", "scotaccount.email"]
CLAIMS_DEFS = {
    "scotaccount.gpg45.medium": "gpg45MediumClaimsType",
    "scotaccount.address": "addressClaimsType",
    "scotaccount.email": "emailClaimsType",
}
# The schema, as published, with the entry constraints the docs intended (see reference README).
SCHEMA_DEFS = {
    "addressType": {
        "type": "object",
        "properties": {
            "uprn": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 12},
            "organisationName": {"type": "string", "maxLength": 60},
            "departmentName": {"type": "string", "maxLength": 60},
            "subBuildingName": {"type": "string", "maxLength": 60},
            "buildingNumber": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 4},
            "buildingName": {"type": "string", "maxLength": 50},
            "dependentStreetName": {"type": "string", "maxLength": 80},
            "streetName": {"type": "string", "maxLength": 80},
            "doubleDependentAddressLocality": {"type": "string", "maxLength": 35},
            "dependentAddressLocality": {"type": "string", "maxLength": 35},
            "addressLocality": {"type": "string", "maxLength": 30},
            "postalCode": {"type": "string", "maxLength": 8},
        },
        "additionalProperties": False,
    }
}


def load_schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def entry_schema(schema, scope):
    return {
        "$defs": schema["$defs"],
        "type": "object",
        "properties": {
            "scope": {"$ref": "#/$defs/scopeType"},
            "verification": {"$ref": "#/$defs/verificationType"},
            "claims": {"$ref": f"#/$defs/{CLAIMS_DEFS[scope]}"},
        },
        "required": ["scope", "verification"],
    }


def test_at_least_six_personas_with_stable_uuid_subs():
    assert len(PERSONAS) >= 6
    assert DEFAULT_PERSONA == "morag"
    for required in ("morag", "idv-failed", "no-address", "seonaid", "long-address"):
        assert required in PERSONAS
    subs = [persona.sub for persona in PERSONAS.values()]
    assert len(set(subs)) == len(subs)
    for sub in subs:
        assert str(uuid.UUID(sub)) == sub
    assert PERSONAS["morag"].sub == "3f0c1b7e-8a52-4d3e-9b61-2c7f0e4a9d15"


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_attributes_validate_against_the_schema(persona):
    schema = load_schema()
    entries = persona.verified_claims(SCOPES)
    payload = {
        "iss": "https://issuer.example/jwt",
        "sub": persona.sub,
        "iat": 1,
        "verified_claims": entries,
    }
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    jsonschema.validate(payload, schema, format_checker=checker)
    for entry in entries:
        jsonschema.validate(entry, entry_schema(schema, entry["scope"]), format_checker=checker)
        verification = entry["verification"]
        assert str(uuid.UUID(verification["verifier"]["txn"])) == verification["verifier"]["txn"]
        datetime.fromisoformat(verification["time"].replace("Z", "+00:00"))
        if "address" in entry.get("claims", {}):
            jsonschema.validate(entry["claims"]["address"], SCHEMA_DEFS["addressType"])
        if "birth_date" in entry.get("claims", {}):
            date.fromisoformat(entry["claims"]["birth_date"])


def test_edge_cases():
    identity = PERSONAS["idv-failed"].verified_claims(["scotaccount.gpg45.medium"])
    assert identity[0]["verification"]["outcome"] == "VERIFICATION_FAILED"
    assert "claims" not in identity[0]
    assert PERSONAS["no-address"].verified_claims(["scotaccount.address"]) == []
    seonaid = PERSONAS["seonaid"]
    assert "'" in seonaid.family_name
    assert any(ch in seonaid.given_name for ch in "àèìòù")
    address = PERSONAS["long-address"].address
    limits = SCHEMA_DEFS["addressType"]["properties"]
    assert set(address) == set(limits)
    for name, value in address.items():
        assert len(value) >= limits[name]["maxLength"] - 1, name
    assert [e["scope"] for e in PERSONAS["email-only"].verified_claims(SCOPES)] == [
        "scotaccount.email"
    ]


def test_morag_has_everything():
    morag = PERSONAS["morag"]
    entries = {e["scope"]: e for e in morag.verified_claims(SCOPES)}
    assert set(entries) == set(SCOPES)
    assert entries["scotaccount.gpg45.medium"]["verification"]["confidence_level"] == "medium"
    assert entries["scotaccount.address"]["claims"]["address"]["uprn"].isdigit()
