"""SECURITY K1, K4, K5: concurrent requests on PostgreSQL, through the real views and the fake.

In-memory SQLite serialises every writer, so these only mean something on a
real database: they skip without PostgreSQL. Run them with
``SCOTACCOUNT_TEST_DB=postgres SCOTACCOUNT_TEST_DB_NAME=<yours> make test``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from scotaccount_django.models import (
    AttributeRequest,
    ScotAccountIdentity,
    VerifiedAttribute,
)
from tests.attributes.helpers import ALL_SCOPES, start_step_up
from tests.flow_helpers import return_to_app, signed_in_client, start_flow

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (SCOTACCOUNT_TEST_DB=postgres): in-memory SQLite serialises "
        "every writer, so nothing here would run concurrently",
    ),
]


def same_browser(client: Client) -> Client:
    """Another connection from the same browser: the same cookies."""
    copy = Client()
    copy.cookies = client.cookies.__class__(client.cookies)
    return copy


def at_once(*actions: Callable[[], object]) -> list[object]:
    """Run ``actions`` in threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except Exception as exc:  # reported by the assertions
            results[index] = exc
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_k1_the_same_callback_eight_times_at_once_signs_in_once(
    fake_scotaccount, transactional_db
):
    browser = Client()
    location = fake_scotaccount.complete_authorization(start_flow(browser))
    clients = [same_browser(browser) for _ in range(8)]
    results = at_once(*[lambda c=c: return_to_app(c, location) for c in clients])
    statuses = sorted(getattr(r, "status_code", repr(r)) for r in results)
    assert statuses == [302] + [400] * 7
    assert len(fake_scotaccount.journal.for_endpoint("token")) == 1
    assert ScotAccountIdentity.objects.count() == 1


def test_k4_two_step_ups_writing_attributes_at_once_stay_consistent(
    fake_scotaccount, transactional_db
):
    browser = signed_in_client(Client(), fake_scotaccount)
    locations = [
        fake_scotaccount.complete_authorization(start_step_up(browser, ALL_SCOPES))
        for _ in range(2)
    ]
    pairs = [(same_browser(browser), loc) for loc in locations]
    results = at_once(*[lambda c=c, loc=loc: return_to_app(c, loc) for c, loc in pairs])
    assert all(getattr(r, "status_code", 500) < 500 for r in results), results
    attributes = VerifiedAttribute.objects.all()
    assert sorted(a.scope for a in attributes) == sorted(ALL_SCOPES)  # one row per scope
    requests = set(AttributeRequest.objects.values_list("pk", flat=True))
    assert all(a.request_id in requests for a in attributes)
    assert all(a.is_verified and a.claims for a in attributes)


def test_k5_a_purge_during_a_callback_completes_or_reports_expiry_cleanly(
    fake_scotaccount, transactional_db
):
    """Flows live in the browser's cookie, so a purge cannot take one from under a callback."""
    browser = Client()
    location = fake_scotaccount.complete_authorization(start_flow(browser))
    callback, purge = at_once(
        lambda: return_to_app(same_browser(browser), location),
        lambda: call_command("scotaccount_purge", verbosity=0),
    )
    assert not isinstance(purge, Exception), purge
    assert getattr(callback, "status_code", repr(callback)) == 302
    assert ScotAccountIdentity.objects.count() == 1
