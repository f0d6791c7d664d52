"""pytest plugin (registered through ``pytest11``): the ``fake_scotaccount`` fixture.

Importing this module never touches Django, so it loads harmlessly in test
suites that use neither Django nor pytest-django; the fixture imports Django
only when it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scotaccount_django_testing.fake import FakeScotAccount
from scotaccount_django_testing.project_key import public_jwk


def _as_list(value: Any, default: str) -> list[str]:
    if not value:
        return [default]
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture
def fake_scotaccount(request: pytest.FixtureRequest) -> Iterator[FakeScotAccount]:
    """A fresh strict fake per test, with the app's ``SCOTACCOUNT_*`` settings pointing at it.

    Parametrise it indirectly to pass keyword arguments to ``FakeScotAccount``, e.g.
    ``@pytest.mark.parametrize("fake_scotaccount", [{"documented_variants": True}],
    indirect=True)``.
    """
    from django.core.cache import caches

    settings = request.getfixturevalue("settings")
    fake = FakeScotAccount(
        client_id=getattr(settings, "SCOTACCOUNT_CLIENT_ID", None) or "test-client",
        client_keys=[public_jwk(settings)],
        redirect_uris=_as_list(
            getattr(settings, "SCOTACCOUNT_REDIRECT_URI", None),
            "http://testserver/scotaccount/callback/",
        ),
        post_logout_redirect_uris=_as_list(
            getattr(settings, "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI", None),
            "http://testserver/scotaccount/logged-out/",
        ),
        mode="strict",
        **getattr(request, "param", None) or {},
    )
    with fake:
        settings.SCOTACCOUNT_DISCOVERY_URL = fake.discovery_url
        settings.SCOTACCOUNT_ATTRIBUTES_URL = fake.attributes_url
        settings.SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True  # a test run is the CI case
        settings.SCOTACCOUNT_ATTRIBUTES_JWKS_URL = fake.attributes_jwks_url
        caches[getattr(settings, "SCOTACCOUNT_CACHE_ALIAS", None) or "default"].clear()
        yield fake
