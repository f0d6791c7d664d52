"""Test helpers for relying parties: a faithful fake ScotAccount and its pytest fixture.

Importable without Django settings; only the pytest plugin touches Django.
The public names are the fake provider's, listed once in its ``__all__``.
"""

from scotaccount_django.testing.fake_provider import *  # noqa: F403
from scotaccount_django.testing.fake_provider import __all__ as __all__
