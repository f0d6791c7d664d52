"""The testing kit for scotaccount-django: a faithful fake ScotAccount and its pytest fixture.

Importable without Django settings; only the pytest plugin and the management commands touch
Django. The public names are the fake provider's, listed once in its ``__all__``.
"""

from scotaccount_django_testing.fake import *  # noqa: F403
from scotaccount_django_testing.fake import __all__ as __all__
