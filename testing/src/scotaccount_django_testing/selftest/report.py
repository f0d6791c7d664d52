"""Run the checks, and say what they found: a console table and a Markdown report to file."""

from __future__ import annotations

import logging
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections

from scotaccount_django_testing.selftest.checks import CHECKS, Check
from scotaccount_django_testing.selftest.site import (
    PROVIDER_SETTINGS,
    CheckFailed,
    Site,
    rolled_back,
    running_fake,
)

#: Distributions whose versions decide the result, in the report.
DISTRIBUTIONS = (
    "scotaccount-django",
    "scotaccount-django-testing",
    "Django",
    "mozilla-django-oidc",
    "PyJWT",
    "cryptography",
    "requests",
)
#: Settings a reviewer wants to see besides ``SCOTACCOUNT_*``.
REVIEWED_SETTINGS = (
    "DEBUG",
    "ALLOWED_HOSTS",
    "AUTH_USER_MODEL",
    "AUTHENTICATION_BACKENDS",
    "MIDDLEWARE",
    "ROOT_URLCONF",
    "LOGIN_URL",
    "LOGIN_REDIRECT_URL",
    "LOGOUT_REDIRECT_URL",
    "SESSION_ENGINE",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|PRIVATE_KEY$")


@dataclass(frozen=True)
class Result:
    check: Check
    passed: bool
    detail: str


def run_check(check: Check) -> Result:
    """One check in its own rolled-back transaction, against its own fresh fake."""
    try:
        with rolled_back(), running_fake() as fake:
            for cache in caches.all():
                cache.clear()
            return _judge(check, Site(fake))
    except Exception as error:  # the self-test's own setup: still a failure, said as such
        return Result(check, False, f"the self-test could not run here: {error!r}"[:500])


def _judge(check: Check, site: Site) -> Result:
    try:
        check.run(site)
    except CheckFailed as failure:
        return Result(check, False, str(failure))
    except Exception as error:  # any crash is a failure to report, not to hide
        return Result(check, False, f"crashed (a 500 in production): {error!r}"[:500])
    return Result(check, True, "")


def run_checks(checks: Iterable[Check] = CHECKS) -> list[Result]:
    """Every check; the project's log output is held back meanwhile (refusals log warnings)."""
    logging.disable(logging.CRITICAL)
    try:
        return [run_check(check) for check in checks]
    finally:
        logging.disable(logging.NOTSET)


def table(results: list[Result]) -> str:
    width = max(len(result.check.id) for result in results)
    lines = []
    for result in results:
        status = "PASS" if result.passed else "FAIL"
        line = f"{status}  {result.check.id:<{width}}  {result.check.title}"
        lines.append(line if result.passed else f"{line}\n{'':{width + 8}}{result.detail}")
    return "\n".join(lines)


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def masked(name: str, value: Any) -> str:
    """The value as a reviewer may see it: secrets and key material only say they are set."""
    if value and (SECRET_NAME.search(name) or "-----BEGIN" in str(value)):
        return "(set, masked)"
    return repr(value)


def settings_in_force() -> dict[str, str]:
    names = sorted(name for name in dir(settings) if name.startswith("SCOTACCOUNT_"))
    shown = {name: masked(name, getattr(settings, name, None)) for name in REVIEWED_SETTINGS}
    shown.update({name: masked(name, getattr(settings, name)) for name in names})
    for alias in connections:
        shown[f"DATABASES[{alias!r}]['ENGINE']"] = repr(connections[alias].settings_dict["ENGINE"])
    return shown


def markdown(results: list[Result]) -> str:
    """The report a security reviewer files: versions, settings, and every check's result."""
    failed = [result.check.id for result in results if not result.passed]
    verdict = f"**FAILED: {', '.join(failed)}**" if failed else "**All checks passed.**"
    lines = [
        "# ScotAccount self-test report",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} on {platform.node()} "
        f"with `manage.py scotaccount_selftest`. {verdict}",
        "",
        "Each check drives this project (its settings, backend, middleware, templates and "
        "user model) through `django.test.Client`, against the fake ScotAccount playing a "
        "hostile or faulty provider. Ids are those of the scotaccount-django security "
        "catalogue (`docs/security.md`). The database was left as found: every check ran "
        "in a transaction that was rolled back.",
        "",
        "## Results",
        "",
        "| id | check | result | what it means |",
        "|---|---|---|---|",
    ]
    for result in results:
        outcome = "pass" if result.passed else f"**FAIL**: {result.detail}"
        lines.append(
            f"| {result.check.id} | {result.check.title} | {outcome.replace('|', '/')} "
            f"| {result.check.explanation} |"
        )
    lines += ["", "## Versions", "", "| component | version |", "|---|---|"]
    lines.append(f"| Python | {platform.python_version()} |")
    lines += [f"| {name} | {_version(name)} |" for name in DISTRIBUTIONS]
    lines += ["", "## Settings in force", "", "| setting | value |", "|---|---|"]
    lines += [
        f"| `{name}` | `{value.replace('|', '/')}` |"
        for name, value in settings_in_force().items()
    ]
    lines += [
        "",
        "## Overridden by the self-test",
        "",
        f"{', '.join(f'`{name}`' for name in PROVIDER_SETTINGS)} point at the fake "
        "ScotAccount, which registers this project's client id, public key and redirect "
        "URIs; `CACHES` become private in-memory caches so nothing is written to yours, and "
        "`EMAIL_BACKEND` keeps mail in memory. A key is generated only if the project "
        "configures none.",
        "",
    ]
    return "\n".join(lines)
