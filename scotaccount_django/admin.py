"""Read-only admin for data that came from ScotAccount. No secrets are shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from scotaccount_django.models import AuthorizationFlow, ScotAccountIdentity


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Nothing here is typed in by staff, so nothing can be added or edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScotAccountIdentity)
class ScotAccountIdentityAdmin(ReadOnlyAdmin):
    list_display = ("sub", "user", "issuer", "first_seen", "last_seen")
    list_filter = ("issuer",)
    search_fields = ("=sub", "user__username")
    fields = ("sub", "user", "issuer", "first_seen", "last_seen")
    list_select_related = ("user",)


@admin.register(AuthorizationFlow)
class AuthorizationFlowAdmin(ReadOnlyAdmin):
    # state/nonce hashes, the PKCE verifier and the browser binding are never shown.
    list_display = ("pk", "purpose", "scopes", "initiating_sub", "created_at", "expires_at")
    list_filter = ("purpose",)
    search_fields = ("=initiating_sub",)
    fields = ("purpose", "scopes", "initiating_sub", "next_url", "created_at", "expires_at")
