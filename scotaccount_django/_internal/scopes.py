"""Reading the token response's ``scope`` without reading too much into it.

RFC 6749 lets a provider say which scopes it granted; ScotAccount's own
example step-up answer (reference lines 829, 2097) instead lists claim names
and the old scope name: ``"given_name family_name birth_date uprn ...
gpg-45-medium openid"``. Taking every requested scope missing from such a
string as declined would record a person's identity and address as refused
and never fetch them. So a decline is read only from a string that speaks
entirely in scope names; anything else says nothing, and the ``claimsToken``
decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from scotaccount_django.models import AttributeScope

#: Older spellings in ScotAccount's pages -> the current scope (``gpg-45-medium``:
#: reference lines 694, 829). Other capitalisations, such as the pages'
#: ``ScotAccount.gpg45.medium`` (line 636), are matched without regard to case.
OLD_SCOPE_NAMES = {"gpg-45-medium": AttributeScope.IDENTITY.value}


def current_scope_name(word: str) -> str | None:
    """``word`` as a current attribute scope name, or ``None`` if it is not one."""
    lowered = word.lower()
    if lowered in AttributeScope.values:
        return lowered
    return OLD_SCOPE_NAMES.get(lowered)


def declined_scopes(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The requested scopes the token response's ``scope`` clearly refused.

    ``granted`` is that ``scope`` split into words. Empty (absent, per RFC 6749
    "as requested"), or holding any word that is neither ``openid`` nor a scope
    name, it refuses nothing.
    """
    words = list(granted)
    names = [word if word == "openid" else current_scope_name(word) for word in words]
    if not words or None in names:
        return []
    return [scope for scope in requested if scope not in names]
