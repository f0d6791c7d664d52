from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScotAccountConfig(AppConfig):
    name = "scotaccount_django"
    label = "scotaccount"
    verbose_name = _("ScotAccount")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the checks and the audit receivers; M4: the loggers escape control characters.
        from scotaccount_django import audit, checks, reporting  # noqa: F401

        audit.connect()
        reporting.escape_app_logs()
