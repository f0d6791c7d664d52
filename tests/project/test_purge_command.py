"""``manage.py scotaccount_purge`` removes what no session or policy still needs."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_purge_deletes_logout_records_no_session_can_still_use(
    client, fake_scotaccount, settings
) -> None:
    import time_machine

    from scotaccount_django.models import ScotAccountSession
    from tests.flow_helpers import sign_in

    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=True):
        sign_in(client, fake_scotaccount, "morag")
    assert ScotAccountSession.objects.count() == 1
    out = io.StringIO()
    with time_machine.travel("2026-01-01T16:00:00+00:00"):  # the session may still be alive
        call_command("scotaccount_purge", stdout=out)
    assert ScotAccountSession.objects.count() == 1
    settings.SESSION_COOKIE_AGE = 3600
    with time_machine.travel("2026-01-02T12:00:00+00:00"):  # past lifetime and cookie age
        call_command("scotaccount_purge", stdout=out)
    assert ScotAccountSession.objects.count() == 0
    assert "Deleted 1 front-channel logout record(s)" in out.getvalue()


def test_purge_applies_an_attribute_retention_limit(client, fake_scotaccount) -> None:
    import time_machine

    from scotaccount_django.models import VerifiedAttribute
    from tests.flow_helpers import complete, sign_in, start_flow

    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=True):
        sign_in(client, fake_scotaccount, "morag")
        url = start_flow(client, "/scotaccount/attributes/", scope="scotaccount.email", next="/")
        complete(client, fake_scotaccount, url, "morag")
    assert VerifiedAttribute.objects.count() == 1
    out = io.StringIO()
    call_command("scotaccount_purge", "--attributes-older-than", "400", stdout=out)
    assert VerifiedAttribute.objects.count() == 1
    with time_machine.travel("2027-03-01T12:00:00+00:00"):
        call_command("scotaccount_purge", "--attributes-older-than", "30", stdout=out)
    assert VerifiedAttribute.objects.count() == 0
    assert "Deleted 1 verified attribute(s)" in out.getvalue()


def test_purge_refuses_a_nonsense_retention() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("scotaccount_purge", "--attributes-older-than", "0")
