"""The test settings with a custom user model keyed on a nullable email (no username).

``make test`` runs the tests marked ``any_user_model`` with these settings too.
"""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_user"]
AUTH_USER_MODEL = "custom_user.EmailUser"
