"""The test suite. Under tox it may run against the built wheel instead of the checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if os.environ.get("SCOTACCOUNT_TEST_INSTALLED_PACKAGE"):
    # The checkout's root is on sys.path (so `tests` imports), which would also make
    # `scotaccount_django` import from the source tree. Import the installed copy first, with
    # the checkout hidden; every later import of the package then finds it in sys.modules.
    _checkout = str(Path(__file__).resolve().parent.parent)
    _saved = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if entry not in ("", ".", _checkout)]
    import scotaccount_django  # noqa: F401

    sys.path[:] = _saved
