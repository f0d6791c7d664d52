"""``manage.py scotaccount_selftest`` against the stock, weakened and example projects."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from scotaccount_django_testing.selftest import CHECKS
from testing.tests.selftest.weakened import (
    ClockSkewBackend,
    CrashingBackend,
    RefusesEveryoneBackend,
    RequestUserBackend,
    backends,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
ALL_IDS = [check.id for check in CHECKS]


def selftest(*args: str) -> tuple[int, list[str], str]:
    """Run the command; its exit status, the ids it printed as FAIL, and everything it said."""
    out = StringIO()
    status = 0
    try:
        call_command("scotaccount_selftest", *args, stdout=out)
    except CommandError as error:
        status, said = error.returncode, f"{out.getvalue()}\n{error}"
    else:
        said = out.getvalue()
    failed = [line.split()[1] for line in said.splitlines() if line.startswith("FAIL")]
    return status, failed, said


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.any_user_model
def test_the_stock_project_passes_every_check(django_user_model):
    django_user_model.objects.create_user("council-officer", password="x")
    before = row_counts()
    status, failed, said = selftest()
    assert (status, failed) == (0, []), said
    assert [line.split()[1] for line in said.splitlines()] == ALL_IDS
    assert row_counts() == before
    assert sum(before.values()) > 0


@pytest.fixture
def locking_receiver(django_user_model):
    """A council's ``user_logged_in`` receiver that locks the user row and writes after commit."""
    seen = []

    def receiver(sender, request, user, **kwargs):
        locked = django_user_model.objects.select_for_update().get(pk=user.pk)
        seen.append("locked")

        def after_commit():
            Group.objects.get_or_create(name=f"signed-in-{locked.pk}")
            seen.append("committed")

        transaction.on_commit(after_commit)

    user_logged_in.connect(receiver)
    yield seen
    user_logged_in.disconnect(receiver)


def test_select_for_update_and_on_commit_run_and_are_rolled_back(locking_receiver):
    before = row_counts()
    status, failed, said = selftest()
    assert (status, failed) == (0, []), said
    # The receiver ran inside the self-test's transaction, and so did its on_commit callback.
    assert {"locked", "committed"} == set(locking_receiver)
    assert row_counts() == before
    assert not Group.objects.exists()


def test_a_project_that_signs_nobody_in_fails_its_positive_control():
    """A broken setup refuses every forged token too; D1 stops it passing as "secure"."""
    with override_settings(AUTHENTICATION_BACKENDS=backends(RefusesEveryoneBackend)):
        status, failed, said = selftest()
    assert status == 1
    assert "D1" in failed, said
    assert "an ordinary sign-in did not sign in" in said


def test_a_crash_is_a_failure_that_names_the_exception():
    with override_settings(AUTHENTICATION_BACKENDS=backends(CrashingBackend)):
        status, failed, said = selftest()
    assert status == 1
    assert "D1" in failed
    assert "crashed (a 500 in production): RuntimeError('council hook bug')" in said


def test_a_project_without_a_key_is_tested_with_a_generated_one_that_does_not_stay(settings):
    del settings.SCOTACCOUNT_PRIVATE_KEY
    status, failed, said = selftest()
    assert (status, failed) == (0, []), said
    assert not hasattr(settings, "SCOTACCOUNT_PRIVATE_KEY")


def test_a_production_shaped_project_behind_a_proxy_passes(settings):
    site = "https://council.example"
    settings.SCOTACCOUNT_REDIRECT_URI = f"{site}/scotaccount/callback/"
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = f"{site}/scotaccount/logged-out/"
    settings.ALLOWED_HOSTS = ["council.example"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    status, failed, said = selftest()
    assert (status, failed) == (0, []), said


def test_the_catalogue_ids_the_issue_asks_for_are_all_checked():
    asked = {"D2", "D9", "D6", "D7", "D12", "B4", "B3", "H1", "F4", "F2", "A1", "G2", "G5"}
    assert asked <= set(ALL_IDS)
    assert {"D1", "FCL", "K3"} <= set(ALL_IDS)
    assert len(ALL_IDS) == len(set(ALL_IDS))


def test_a_linking_hook_that_trusts_request_user_fails_k3():
    with override_settings(AUTHENTICATION_BACKENDS=backends(RequestUserBackend)):
        status, failed, said = selftest()
    assert status == 1
    assert failed == ["K3"], said
    assert "Self-test failed: K3" in said


def test_a_project_without_the_lifetime_middleware_fails_g2(settings):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if "SessionLifetime" not in name]
    status, failed, said = selftest()
    assert (status, failed) == (1, ["G2"]), said


def test_a_verify_token_override_that_skips_the_signature_fails_d2():
    with override_settings(AUTHENTICATION_BACKENDS=backends(ClockSkewBackend)):
        status, failed, said = selftest()
    assert status == 1
    # D3 and D4 (alg none, HS256) may still be refused by the algorithm allow-list.
    assert "D2" in failed, said
    assert "D1" not in failed


def test_the_report_names_versions_settings_and_every_result(tmp_path, settings):
    settings.SCOTACCOUNT_CLIENT_ID = "council-client-2026"
    report = tmp_path / "selftest.md"
    with override_settings(AUTHENTICATION_BACKENDS=backends(RequestUserBackend)):
        selftest("--report", str(report))
    text = report.read_text()
    assert "**FAILED: K3**" in text
    assert "| K3 | A sign-in finished as someone else | **FAIL**: a sign-in finished as" in text
    for check in CHECKS:
        assert f"| {check.id} | {check.title} |" in text
    for component in ("| Python |", "| Django |", "| scotaccount-django |", "| PyJWT |"):
        assert component in text
    assert "RequestUserBackend" in text  # the backend in force
    assert "`SCOTACCOUNT_PRIVATE_KEY` | `(set, masked)`" in text
    assert "`SCOTACCOUNT_CLIENT_ID` | `'council-client-2026'`" in text  # not a secret
    assert "BEGIN" not in text
    assert settings.SECRET_KEY not in text


@pytest.mark.processes
def test_the_example_project_passes(tmp_path):
    """As CI runs it: the example council site, migrated, with its own key, from its manage.py."""
    env = {**os.environ, "DEMO_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, str(ROOT / "example_project" / "manage.py")]
    for command in (["migrate", "-v0"], ["scotaccount_keygen", str(tmp_path / "private_key.pem")]):
        subprocess.run([*manage, *command], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [*manage, "scotaccount_selftest"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS") == len(CHECKS)
