"""Read-only admin for data that came from ScotAccount. No secrets are shown."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from scotaccount_django import audit
from scotaccount_django._internal.fields import EncryptedJSONField
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity, VerifiedAttribute

#: Staff see that a verified attribute exists with the view permission; its values need this.
VALUES_PERMISSION = "scotaccount.view_attribute_values"
#: Secrets and their hashes (the ``sid`` registry): nobody filters, searches or sorts on them.
SECRET_FIELDS = frozenset({"sid_hash", "session_key"})


def reveals_hidden_value(lookup: str, model: type[Model]) -> bool:
    """Whether ``lookup`` (``identity__...``) reaches a secret or an encrypted field."""
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a transform or lookup (``year``, ``regex``) on a harmless field
        if field.name in SECRET_FIELDS or isinstance(field, EncryptedJSONField):
            return True
        if field.related_model is None:
            return False
        model = field.related_model  # type: ignore[assignment]
    return False


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Nothing here is typed in by staff, so nothing can be added or edited."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """M3: counting ``?claims__given_name__startswith=M`` matches spells a name out.
        (Django 4.2 passes no request.)"""
        if reveals_hidden_value(lookup, self.model):
            return False
        return super().lookup_allowed(lookup, value, *([] if request is None else [request]))

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
        """``str()`` of a user whose USERNAME_FIELD is empty (a nullable email) is ``None``."""
        user = identity.user
        if user.get_username():
            return str(user)
        return _("User %(pk)s") % {"pk": user.pk}

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Search by the user's USERNAME_FIELD too, whatever the user model calls it."""
        return (*self.search_fields, f"user__{get_user_model().USERNAME_FIELD}")


class PersonalDataAdmin(ReadOnlyAdmin):
    """Personal data: only the view permission counts, not Django's change permission too."""

    search_fields = ("=identity__sub",)
    list_select_related = ("identity",)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        codename = get_permission_codename("view", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")


@admin.register(VerifiedAttribute)
class VerifiedAttributeAdmin(PersonalDataAdmin):
    list_display = ("identity", "scope", "outcome", "verified_at", "received_at")
    list_filter = ("scope", "outcome")
    exclude = ("claims",)  # shown by one of these, depending on who looks
    readonly_fields = ("claims_display", "claims_hidden")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        unused = "claims_hidden" if request.user.has_perm(VALUES_PERMISSION) else "claims_display"
        return [name for name in super().get_fields(request, obj) if name != unused]

    def change_view(
        self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """The detail page; showing it with values is an audit event (SECURITY M3)."""
        response = super().change_view(request, object_id, *args, **kwargs)
        if response.status_code == 200 and request.user.has_perm(VALUES_PERMISSION):
            audit.attribute_values_viewed(request.user, object_id)
        return response

    @admin.display(description=_("claims (personal data)"))
    def claims_display(self, obj: VerifiedAttribute) -> str:
        # <pre>: the admin's read-only field would collapse the indentation.
        return format_html("<pre>{}</pre>", json.dumps(obj.claims, indent=2, ensure_ascii=False))

    @admin.display(description=_("claims (personal data)"))
    def claims_hidden(self, obj: VerifiedAttribute) -> str:
        return str(_("Hidden: seeing values needs the permission “%s”.") % VALUES_PERMISSION)


@admin.register(AttributeRequest)
class AttributeRequestAdmin(PersonalDataAdmin):
    list_display = ("identity", "status", "created_at", "completed_at")
    list_filter = ("status",)
