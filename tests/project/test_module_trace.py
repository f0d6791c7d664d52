"""The sign-in reads top to bottom (issue 17): at most 8 of the app's modules, none called back up.

``tests/module_trace.py`` prints the figures for all three flows (``docs/design.md``).
"""

from __future__ import annotations

import pytest

from tests.module_trace import traces

pytestmark = pytest.mark.django_db

MAX_SIGN_IN_MODULES = 8


def test_a_sign_in_touches_at_most_eight_modules_and_every_flow_reads_top_to_bottom(
    client, fake_scotaccount
) -> None:
    flows = traces(client, fake_scotaccount)

    sign_in = flows["sign-in"]
    assert len(sign_in.modules) <= MAX_SIGN_IN_MODULES, sorted(sign_in.modules)
    assert "conf" not in sign_in.modules  # settings are read once, then are plain attributes
    for name, trace in flows.items():
        assert trace.upward() == set(), (name, trace.upward())
