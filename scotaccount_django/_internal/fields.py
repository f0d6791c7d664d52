"""Verified attribute values encrypted at rest as a one-member JSON object holding a Fernet
token. Plain JSON is still read, so encryption can be switched on later."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from scotaccount_django.conf import conf

#: The only member of a stored encrypted value; claims never have this name.
ENVELOPE_KEY = "scotaccount.fernet"


def key_ring() -> MultiFernet | None:
    """The configured keys, or ``None`` when encryption at rest is off."""
    keys = conf.ATTRIBUTE_ENCRYPTION_KEYS
    if not keys:
        return None
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(make one with cryptography.fernet.Fernet.generate_key())."
        ) from exc


def is_envelope(stored: Any) -> bool:
    return isinstance(stored, dict) and set(stored) == {ENVELOPE_KEY}


def seal(value: Any) -> Any:
    """What to store for ``value``: an encrypted envelope, or the value when encryption is off."""
    ring = key_ring()
    if ring is None or value is None or hasattr(value, "resolve_expression"):
        return value
    token = ring.encrypt(json.dumps(value, separators=(",", ":")).encode())
    return {ENVELOPE_KEY: token.decode()}


def unseal(stored: Any) -> Any:
    """The value behind what was stored; plain (unencrypted) values pass through."""
    if not is_envelope(stored):
        return stored
    ring = key_ring()
    if ring is None:
        raise ImproperlyConfigured(
            "Verified attributes are encrypted but SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS is empty."
        )
    try:
        return json.loads(ring.decrypt(stored[ENVELOPE_KEY].encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "No key in SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS decrypts a stored verified "
            "attribute: keep the old key in the list until scotaccount_reencrypt has run."
        ) from exc


def is_current(stored: Any) -> bool:
    """True when ``stored`` needs no re-encryption: sealed with the first key, or plain
    while encryption is off."""
    if key_ring() is None:
        return not is_envelope(stored)
    if not is_envelope(stored):
        return False
    try:
        # key_ring() has checked every key.
        Fernet(conf.ATTRIBUTE_ENCRYPTION_KEYS[0]).decrypt(stored[ENVELOPE_KEY].encode())
    except InvalidToken:
        return False
    return True


class EncryptedJSONField(models.JSONField):
    """A ``JSONField`` whose values are encrypted at rest when keys are configured."""

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        return super().get_db_prep_save(seal(value), connection)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        return unseal(super().from_db_value(value, expression, connection))
