"""Verified attribute values encrypted at rest: round trip, rotation, re-encryption, checks."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from scotaccount_django._internal.fields import ENVELOPE_KEY
from scotaccount_django.attributes import verified_email
from scotaccount_django.models import ScotAccountIdentity, VerifiedAttribute

pytestmark = pytest.mark.django_db

EMAIL = "private.person@example.com"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def make_attribute(email: str = EMAIL) -> VerifiedAttribute:
    user = get_user_model().objects.create(username=f"person-{uuid.uuid4().hex[:8]}")
    identity = ScotAccountIdentity.objects.create(
        user=user, issuer="https://issuer.example", sub=uuid.uuid4(), last_seen=timezone.now()
    )
    return VerifiedAttribute.objects.create(
        identity=identity,
        scope="scotaccount.email",
        claims={"email": email},
        outcome="VERIFIED_SUCCESSFULLY",
        trust_framework="uk_tfida",
        verified_at=timezone.now(),
        verifier_organization="DIS",
        txn=uuid.uuid4(),
    )


def stored(attribute: VerifiedAttribute):
    """The column exactly as the database holds it."""
    table = VerifiedAttribute._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT claims FROM {table} WHERE id = %s", [attribute.pk])
        value = cursor.fetchone()[0]
    return json.loads(value) if isinstance(value, str) else value


def test_values_are_plain_json_when_encryption_is_off():
    attribute = make_attribute()
    assert stored(attribute) == {"email": EMAIL}


def test_round_trip_stores_ciphertext_and_reads_the_value(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    attribute = make_attribute()
    raw = stored(attribute)
    assert set(raw) == {ENVELOPE_KEY}
    assert EMAIL not in json.dumps(raw)
    assert VerifiedAttribute.objects.get(pk=attribute.pk).claims == {"email": EMAIL}
    assert verified_email(attribute.identity.user) == EMAIL


def test_rotation_old_key_still_decrypts_new_key_encrypts(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [OLD]
    before = make_attribute()
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW, OLD]
    after = make_attribute("second.person@example.com")
    assert VerifiedAttribute.objects.get(pk=before.pk).claims == {"email": EMAIL}
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    assert VerifiedAttribute.objects.get(pk=after.pk).claims["email"].startswith("second")
    with pytest.raises(ImproperlyConfigured, match="keep the old key"):
        VerifiedAttribute.objects.get(pk=before.pk)


def test_encrypted_values_need_a_key_to_be_read(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    attribute = make_attribute()
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="encrypted"):
        VerifiedAttribute.objects.get(pk=attribute.pk)


def test_plain_rows_stay_readable_after_encryption_is_switched_on(settings):
    attribute = make_attribute()
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    assert VerifiedAttribute.objects.get(pk=attribute.pk).claims == {"email": EMAIL}


def reencrypt(*args: str) -> str:
    out = io.StringIO()
    call_command("scotaccount_reencrypt", *args, stdout=out)
    return out.getvalue()


def test_reencrypt_moves_every_row_to_the_first_key_in_batches(settings):
    plain = make_attribute()
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [OLD]
    old = [make_attribute(f"p{i}@example.com") for i in range(3)]
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW, OLD]
    output = reencrypt("--batch-size", "2")
    assert "Done: 4 of 4" in output
    assert output.count("Checked up to id") == 2
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]  # the old key can now go
    assert VerifiedAttribute.objects.get(pk=plain.pk).claims == {"email": EMAIL}
    assert [VerifiedAttribute.objects.get(pk=a.pk).claims["email"] for a in old] == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]
    assert set(stored(plain)) == {ENVELOPE_KEY}
    # A second run has nothing to do: rows already on the first key are left alone.
    assert "Done: 0 of 4" in reencrypt()


def test_reencrypt_resumes_after_an_id(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [OLD]
    first, second = make_attribute(), make_attribute()
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW, OLD]
    assert "Done: 1 of 1" in reencrypt("--after-id", str(first.pk))
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    assert VerifiedAttribute.objects.get(pk=second.pk).claims == {"email": EMAIL}
    with pytest.raises(ImproperlyConfigured):
        VerifiedAttribute.objects.get(pk=first.pk)


def test_reencrypt_refuses_without_keys():
    with pytest.raises(CommandError, match="ENCRYPTION_KEYS is empty"):
        reencrypt()


def test_reencrypt_refuses_a_zero_batch(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(CommandError, match="batch-size"):
        reencrypt("--batch-size", "0")


def ids(**kwargs) -> set[str]:
    return {message.id for message in checks.run_checks(**kwargs) if message.id}


def test_deploy_check_warns_when_encryption_is_off_outside_debug(settings):
    settings.DEBUG = False
    assert "scotaccount.W050" in ids(include_deployment_checks=True)
    assert "scotaccount.W050" not in ids()
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = [NEW]
    assert "scotaccount.W050" not in ids(include_deployment_checks=True)
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = []
    settings.DEBUG = True
    assert "scotaccount.W050" not in ids(include_deployment_checks=True)


@pytest.mark.parametrize(
    ("keys", "check_id"),
    [(["not-a-fernet-key"], "scotaccount.E050"), (NEW, "scotaccount.E060")],
    ids=["garbage", "not-a-list"],
)
def test_an_unusable_key_is_reported_once(settings, keys, check_id):
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = keys
    messages = checks.run_checks(include_deployment_checks=True)
    about_keys = [m.id for m in messages if "ATTRIBUTE_ENCRYPTION_KEYS" in m.msg]
    assert about_keys == [check_id]
