"""People to sign in as, with stable ``sub`` UUIDs and complete verified attributes.

Every value fits ScotAccount's verified-claims schema (field lengths, digits-only
UPRN and building number, postcode of at most 8 characters); a test proves it.
Names and addresses are invented; emails use the reserved ``example.com`` domain.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

SCOPE_IDENTITY = "scotaccount.gpg45.medium"
SCOPE_ADDRESS = "scotaccount.address"
SCOPE_EMAIL = "scotaccount.email"
#: The attribute scopes, in the order the consent page lists them.
ATTRIBUTE_SCOPES = (SCOPE_IDENTITY, SCOPE_ADDRESS, SCOPE_EMAIL)
#: How the consent page names each scope to a person (never the raw scope name).
SCOPE_LABELS = {
    SCOPE_IDENTITY: "Your name and date of birth, from your identity check",
    SCOPE_ADDRESS: "Your address",
    SCOPE_EMAIL: "Your email address",
}

VERIFIED = "VERIFIED_SUCCESSFULLY"
VERIFIED_WITH_WARNINGS = "VERIFIED_WITH_WARNINGS"
VERIFICATION_FAILED = "VERIFICATION_FAILED"

_TXN_NAMESPACE = uuid.UUID("6f1d2c4e-93b5-4a8e-8c1a-0d5e7b9f2a31")
_VERIFIED_AT = "2025-03-19T10:12:54Z"


@dataclass(frozen=True)
class Persona:
    """A test person. ``None`` for an attribute means ScotAccount has nothing to release."""

    id: str
    sub: str
    summary: str
    given_name: str
    family_name: str
    birth_date: str
    identity_outcome: str | None = VERIFIED
    address: dict[str, str] | None = None
    email: str | None = None
    verified_at: str = _VERIFIED_AT

    def txn(self, scope: str) -> str:
        """A stable verification transaction id per person and scope."""
        return str(uuid.uuid5(_TXN_NAMESPACE, f"{self.sub}:{scope}"))

    def has(self, scope: str) -> bool:
        """Whether ScotAccount holds anything to release for ``scope``."""
        if scope == SCOPE_IDENTITY:
            return self.identity_outcome is not None
        if scope == SCOPE_ADDRESS:
            return self.address is not None
        return scope == SCOPE_EMAIL and self.email is not None

    def verified_claims(self, scopes: list[str]) -> list[dict[str, Any]]:
        """The v2 ``verified_claims`` list: one entry per released scope with data."""
        return [
            self._entry(scope) for scope in ATTRIBUTE_SCOPES if scope in scopes and self.has(scope)
        ]

    def _verification(self, scope: str, outcome: str) -> dict[str, Any]:
        verification: dict[str, Any] = {"outcome": outcome, "trust_framework": "uk_tfida"}
        if scope == SCOPE_IDENTITY:
            verification |= {"assurance_policy": "GPG_45", "confidence_level": "medium"}
        else:
            method = "credit_reference_agency" if scope == SCOPE_ADDRESS else "email_loop"
            verification["validation_method"] = method
        verification |= {
            "time": self.verified_at,
            "verifier": {"organization": "DIS", "txn": self.txn(scope)},
        }
        return verification

    def _entry(self, scope: str) -> dict[str, Any]:
        outcome = self.identity_outcome if scope == SCOPE_IDENTITY else VERIFIED
        entry: dict[str, Any] = {
            "scope": scope,
            "verification": self._verification(scope, outcome or VERIFIED),
        }
        if outcome == VERIFICATION_FAILED:
            return entry
        if scope == SCOPE_IDENTITY:
            entry["claims"] = {
                "given_name": self.given_name,
                "family_name": self.family_name,
                "birth_date": self.birth_date,
            }
        elif scope == SCOPE_ADDRESS:
            entry["claims"] = {"address": dict(self.address or {})}
        else:
            entry["claims"] = {"email": self.email}
        return entry


PERSONAS: dict[str, Persona] = {
    persona.id: persona
    for persona in (
        Persona(
            id="morag",
            sub="3f0c1b7e-8a52-4d3e-9b61-2c7f0e4a9d15",
            summary="Everything verified: identity checked, address and email.",
            given_name="Morag",
            family_name="MacDonald",
            birth_date="1976-08-24",
            address={
                "uprn": "132021690",
                "buildingNumber": "5",
                "streetName": "EXAMPLE PLACE",
                "dependentAddressLocality": "MILNGAVIE",
                "addressLocality": "GLASGOW",
                "postalCode": "G62 7AA",
            },
            email="morag.macdonald@example.com",
        ),
        Persona(
            id="idv-failed",
            sub="8b9a6c1d-2e4f-4a70-b3c5-7d8e9f0a1b2c",
            summary="Identity check failed, so there is no name or date of birth to share;"
            " address and email verified.",
            given_name="Iain",
            family_name="Robertson",
            birth_date="1988-02-29",
            identity_outcome=VERIFICATION_FAILED,
            address={
                "uprn": "906700081759",
                "subBuildingName": "0/2",
                "buildingNumber": "99",
                "streetName": "BYRES ROAD",
                "addressLocality": "GLASGOW",
                "postalCode": "G12 8TB",
            },
            email="iain.robertson@example.com",
        ),
        Persona(
            id="no-address",
            sub="c4d5e6f7-0819-4a2b-8c3d-4e5f6a7b8c9d",
            summary="No address held, so none can be shared; identity and email verified.",
            given_name="Callum",
            family_name="Stewart",
            birth_date="1995-11-03",
            email="callum.stewart@example.com",
        ),
        Persona(
            id="seonaid",
            sub="5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
            summary="Gaelic accents and apostrophes in the name and address; everything verified.",
            given_name="Seònaid Màiri",
            family_name="Nic a' Phearsain-O'Brien",
            birth_date="1962-05-17",
            address={
                "uprn": "138000123456",
                "buildingName": "Taigh na Mòintich",
                "buildingNumber": "12",
                "streetName": "SRÀID A' CHAISTEIL",
                "addressLocality": "STEÒRNABHAGH",
                "postalCode": "HS1 2AB",
            },
            email="seonaid.nicaphearsain@example.com",
        ),
        Persona(
            id="long-address",
            sub="9a8b7c6d-5e4f-4321-9fed-cba987654321",
            summary="Very long names, and an address that fills every field to its limit.",
            given_name="Alexandrina Wilhelmina Georgiana",
            family_name="Fotheringham-Buchanan-Drummond",
            birth_date="1950-01-01",
            address={
                "uprn": "999999999999",
                "organisationName": "THE HIGHLANDS AND ISLANDS COMMUNITY DEVELOPMENT TRUST LIMITE",
                "departmentName": "DEPARTMENT OF RURAL AFFAIRS, FISHERIES AND COASTAL COMMUNITY",
                "subBuildingName": "FLAT 12/3, NORTH WING, THE OLD INFIRMARY BUILDING REAR BLOCK",
                "buildingNumber": "9999",
                "buildingName": "BALLACHULISH HOUSE AND THE ADJOINING COACH HOUSES.",
                "dependentStreetName": (
                    "LOWER MAIN STREET WEST BY THE OLD HARBOUR "
                    "WALL AND THE LIFEBOAT STATION SLIPWAYS"
                ),
                "streetName": (
                    "CAUSEWAYHEAD ROAD NORTH SERVICE ROAD "
                    "BETWEEN THE ROUNDABOUTS AND THE RAIL BRIDGE"
                ),
                "doubleDependentAddressLocality": "KIRKTON OF AUCHTERHOUSE INDUSTRIALS",
                "dependentAddressLocality": "BALLACHULISH AND NORTH BALLACHULISH",
                "addressLocality": "KIRKCUDBRIGHT AND GATEHOUSE OF",
                "postalCode": "KW17 2AB",
            },
            email="alexandrina.fotheringham-buchanan-drummond.long.address@example.com",
        ),
        Persona(
            id="email-only",
            sub="1a2b3c4d-5e6f-4789-8abc-def012345678",
            summary="Only an email address verified: no identity check and no address.",
            given_name="Eilidh",
            family_name="Ross",
            birth_date="2001-07-12",
            identity_outcome=None,
            email="eilidh.ross@example.com",
        ),
        Persona(
            id="idv-warnings",
            sub="2b3c4d5e-6f70-4819-9abc-0123456789ab",
            summary="Identity checked, with warnings; address and email verified.",
            given_name="Hamish",
            family_name="McKay",
            birth_date="1979-12-31",
            identity_outcome=VERIFIED_WITH_WARNINGS,
            address={
                "uprn": "10093012345",
                "buildingNumber": "1",
                "streetName": "HIGH STREET",
                "addressLocality": "EDINBURGH",
                "postalCode": "EH1 1YZ",
            },
            email="hamish.mckay@example.com",
        ),
    )
}

DEFAULT_PERSONA = "morag"
