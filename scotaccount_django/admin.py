"""Read-only admin for data that came from ScotAccount. No secrets are shown."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename, get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from scotaccount_django.models import (
    AttributeRequest,
    ScotAccountIdentity,
    VerifiedAttribute,
)

#: Staff see that a verified attribute exists with the view permission; its values need this.
VALUES_PERMISSION = "scotaccount.view_attribute_values"


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Nothing here is typed in by staff, so nothing can be added or edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScotAccountIdentity)
class ScotAccountIdentityAdmin(ReadOnlyAdmin):
    list_display = ("sub", "user_display", "issuer", "first_seen", "last_seen")
    list_filter = ("issuer",)
    search_fields = ("=sub",)
    fields = ("sub", "user_display", "issuer", "first_seen", "last_seen")
    list_select_related = ("user",)

    @admin.display(description=_("user"), ordering="user")
    def user_display(self, identity: ScotAccountIdentity) -> str:
        """The user, also when their USERNAME_FIELD is still empty (a nullable email the
        person has not given): ``str()`` of such a user is ``None``, which the admin cannot
        show."""
        user = identity.user
        if user.get_username():
            return str(user)
        return _("User %(pk)s") % {"pk": user.pk}

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Search by the user's USERNAME_FIELD too, whatever the user model calls it."""
        return (*self.search_fields, f"user__{get_user_model().USERNAME_FIELD}")


class PersonalDataAdmin(ReadOnlyAdmin):
    """Verified attributes are personal data: only staff given the view permission see them.

    Django would also let the change permission through; here only the view
    permission (or superuser) counts. Lists never show claims, only the detail page.
    """

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        codename = get_permission_codename("view", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")


@admin.register(VerifiedAttribute)
class VerifiedAttributeAdmin(PersonalDataAdmin):
    list_display = ("identity", "scope", "outcome", "verified_at", "received_at")
    list_filter = ("scope", "outcome")
    search_fields = ("=identity__sub",)
    list_select_related = ("identity",)
    fields = (
        "identity",
        "scope",
        "outcome",
        "claims_display",
        "trust_framework",
        "assurance_policy",
        "confidence_level",
        "validation_method",
        "verified_at",
        "verifier_organization",
        "txn",
        "received_at",
        "request",
    )
    readonly_fields = ("claims_display", "claims_hidden")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """Values only for staff with the dedicated permission; the record for the rest."""
        if request.user.has_perm(VALUES_PERMISSION):
            return self.fields
        return tuple("claims_hidden" if name == "claims_display" else name for name in self.fields)

    @admin.display(description=_("claims (personal data)"))
    def claims_display(self, obj: VerifiedAttribute) -> str:
        return json.dumps(obj.claims, indent=2, ensure_ascii=False)

    @admin.display(description=_("claims (personal data)"))
    def claims_hidden(self, obj: VerifiedAttribute) -> str:
        return str(_("Hidden: seeing values needs the permission “%s”.") % VALUES_PERMISSION)


@admin.register(AttributeRequest)
class AttributeRequestAdmin(PersonalDataAdmin):
    list_display = ("pk", "identity", "status", "created_at", "completed_at")
    list_filter = ("status",)
    search_fields = ("=identity__sub",)
    list_select_related = ("identity",)
    fields = (
        "identity",
        "status",
        "requested_scopes",
        "received_scopes",
        "missing_scopes",
        "created_at",
        "completed_at",
    )
