"""Fixtures shared by the session and logout tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import time_machine

#: A fixed instant that sign-ins in the session tests happen at.
SIGN_IN_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def frozen_clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at ``SIGN_IN_TIME`` until the test moves it (``.shift(seconds)``)."""
    with time_machine.travel(SIGN_IN_TIME, tick=False) as traveller:
        yield traveller
