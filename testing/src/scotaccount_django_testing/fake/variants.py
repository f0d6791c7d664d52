"""Documented variants: answers ScotAccount's own documentation shows, which differ from the
fake's default reading of it.

The default fake answers as the current service is believed to behave; with a
variant switched on it answers exactly as an example in
``scotaccount-rp-technical-docs.txt`` does (line numbers below), so a relying
party can prove it survives both. ``FakeScotAccount(documented_variants=True)``
switches every variant on; ``variants=[...]`` picks some.
"""

from __future__ import annotations

from collections.abc import Iterable

from scotaccount_django_testing.fake.personas import (
    SCOPE_ADDRESS,
    SCOPE_EMAIL,
    SCOPE_IDENTITY,
)

#: Every variant, by name, with what it changes and where the docs show it.
VARIANTS: dict[str, str] = {
    "token_scope_as_documented": (
        "the token response's `scope` (and the access token's `scp`) lists claim names and "
        "the old scope name `gpg-45-medium`, not the scopes asked for (docs lines 829, 2097)"
    ),
    "legacy_claims_token": (
        "the `claimsToken` has the docs' older layout: one `verified_claims` object, "
        "top-level `claims` with `uuid`, and no `iss`, `sub` or `iat` (lines 922, 2244)"
    ),
    "logout_state_appended": (
        "the logout return appends `&state=` to the post-logout redirect URI, with no `?` "
        "(line 2412)"
    ),
    "discovery_without_end_session": (
        "discovery has no `end_session_endpoint`; the docs only document "
        "`/authorize/logout` on the sign-in host (lines 2363-2367)"
    ),
    "frontchannel_sid_only": (
        "front-channel logout requests carry `sid` only, no `iss` (line 2564)"
    ),
    "id_token_typ_at_jwt": (
        "ID tokens carry the header `typ: at+jwt`, as the docs' example ID token does (line 830)"
    ),
}

#: The claim names the docs' token response lists for each released scope (line 829).
DOCUMENTED_SCOPE_WORDS: dict[str, tuple[str, ...]] = {
    SCOPE_IDENTITY: ("given_name", "family_name", "birth_date"),
    SCOPE_ADDRESS: (
        "uprn",
        "organisationName",
        "departmentName",
        "subBuildingName",
        "buildingNumber",
        "buildingName",
        "dependentStreetName",
        "streetName",
        "doubleDependentAddressLocality",
        "dependentAddressLocality",
        "addressLocality",
        "postalCode",
    ),
    SCOPE_EMAIL: ("email",),
}
#: The identity scope's name in the older pages (``scope=openid&gpg-45-medium``, line 694).
OLD_IDENTITY_SCOPE = "gpg-45-medium"


def check_variants(names: Iterable[str]) -> frozenset[str]:
    """``names`` as a set; an unknown name is a ``ValueError``, never silently ignored."""
    chosen = frozenset(names)
    unknown = sorted(chosen - set(VARIANTS))
    if unknown:
        raise ValueError(f"Unknown documented variants {unknown}; choose from {sorted(VARIANTS)}.")
    return chosen


def documented_scope_words(released: Iterable[str]) -> list[str]:
    """The token response's scope words as the docs print them for ``released``."""
    released = list(released)
    words = [word for scope in released for word in DOCUMENTED_SCOPE_WORDS.get(scope, ())]
    if SCOPE_IDENTITY in released:
        words.append(OLD_IDENTITY_SCOPE)
    return [*words, "openid"]
