"""Audit events on `scotaccount_django.audit`: every event, ids only, never personal data."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command

from scotaccount_django._internal import sessions
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity
from scotaccount_django_testing import PERSONAS
from tests.attributes.helpers import ADDRESS, ALL_SCOPES, EMAIL, IDENTITY, step_up
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db(transaction=True)  # data events wait for the commit

LOGGER = "scotaccount_django.audit"
STANDARD = set(vars(logging.makeLogRecord({})))


def events(caplog) -> list[dict]:
    """Each audit record as its event name plus the fields given with ``extra=``."""
    return [
        {name: value for name, value in vars(record).items() if name not in STANDARD}
        | {"message": record.getMessage()}
        for record in caplog.records
        if record.name == LOGGER
    ]


def named(caplog, event: str) -> list[dict]:
    return [record for record in events(caplog) if record["audit_event"] == event]


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def test_sign_in_step_up_decline_and_sign_out_are_audited(client, fake_scotaccount, audit):
    assert sign_in(client, fake_scotaccount).status_code == 302
    identity = ScotAccountIdentity.objects.get()
    user_id = str(identity.user_id)
    [created] = named(audit, "created")
    assert created["user_id"] == user_id
    assert created["identity_id"] == identity.pk
    [signed_in] = named(audit, "signed_in")
    assert signed_in["user_id"] == user_id
    assert signed_in["identity_id"] == identity.pk

    step_up(client, fake_scotaccount, ALL_SCOPES, release=[ADDRESS])
    request = AttributeRequest.objects.get()
    [received] = named(audit, "attributes_received")
    assert received["attribute_request_id"] == request.pk
    assert received["identity_id"] == identity.pk
    assert received["scopes"] == [ADDRESS]
    assert received["missing"] == {IDENTITY: "declined", EMAIL: "declined"}
    assert received["status"] == "completed"
    [declined] = named(audit, "attributes_declined")
    assert declined["scopes"] == [IDENTITY, EMAIL]
    assert declined["attribute_request_id"] == request.pk

    assert len(named(audit, "signed_in")) == 1  # the step-up was not a second sign-in

    client.post("/scotaccount/logout/")
    [signed_out] = named(audit, "signed_out")
    assert signed_out["user_id"] == user_id


def test_m2_linking_is_audited_as_linked_not_created(client, fake_scotaccount, audit, settings):
    from django.contrib.auth import get_user_model

    settings.AUTHENTICATION_BACKENDS = ["tests.sign_in.test_account_linking.StarterLinkingBackend"]
    staff = get_user_model().objects.create(username="staff", is_staff=True)
    client.force_login(staff)
    assert sign_in(client, fake_scotaccount).status_code == 302
    [linked] = named(audit, "linked")
    assert linked["user_id"] == str(staff.pk)
    assert named(audit, "created") == []


def test_cancelling_a_step_up_is_audited_as_declined(client, fake_scotaccount, audit):
    sign_in(client, fake_scotaccount)
    step_up(client, fake_scotaccount, [ADDRESS, EMAIL], cancel=True)
    [declined] = named(audit, "attributes_declined")
    assert declined["scopes"] == [ADDRESS, EMAIL]


def test_erasure_and_purge_are_audited(client, fake_scotaccount, audit):
    sign_in(client, fake_scotaccount)
    identity = ScotAccountIdentity.objects.get()
    identity.user.delete()
    [erased] = named(audit, "erased")
    assert erased["identity_id"] == identity.pk
    assert erased["user_id"] == str(identity.user_id)
    call_command("scotaccount_purge", "--attributes-older-than", "30", stdout=io.StringIO())
    [purged] = named(audit, "purged")
    assert purged["attributes"] == 0
    assert purged["attribute_requests"] == 0
    assert purged["older_than_days"] == 30


def test_a_rolled_back_change_is_never_reported(client, fake_scotaccount, audit):
    from django.db import transaction

    sign_in(client, fake_scotaccount)
    identity = ScotAccountIdentity.objects.get()
    with transaction.atomic():
        identity.user.delete()
        transaction.set_rollback(True)
    assert named(audit, "erased") == []


@pytest.mark.parametrize("persona", ["morag", "idv-failed"])
def test_no_personal_data_or_token_in_any_audit_record(client, fake_scotaccount, audit, persona):
    sign_in(client, fake_scotaccount, persona)
    step_up(client, fake_scotaccount, ALL_SCOPES, persona=persona)
    id_token = client.session.get(sessions.ID_TOKEN) or ""
    client.post("/scotaccount/logout/")
    records = events(audit)
    assert {record["audit_event"] for record in records} >= {
        "signed_in",
        "attributes_received",
        "signed_out",
    }
    text = json.dumps(records, default=str)
    person = PERSONAS[persona]
    secrets = [
        person.sub,
        person.given_name,
        person.family_name,
        person.birth_date,
        person.email,
        *(str(value) for value in (person.address or {}).values()),
    ]
    if id_token:
        secrets.append(id_token[:40])
    # Values too short to be told from an id (a building number "5") are left out.
    assert [secret for secret in secrets if secret and len(secret) > 3 and secret in text] == []
