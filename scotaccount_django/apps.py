from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScotAccountConfig(AppConfig):
    name = "scotaccount_django"
    label = "scotaccount"
    verbose_name = _("ScotAccount")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks; audit events listen to Django's and the app's signals;
        # signing out, by any route, ends the flows that user started (M2).
        from django.contrib.auth.signals import user_logged_out

        from scotaccount_django import audit, checks  # noqa: F401
        from scotaccount_django._internal import flows

        audit.connect()
        user_logged_out.connect(flows.end_flows_started_by, dispatch_uid="scotaccount_flows_out")
