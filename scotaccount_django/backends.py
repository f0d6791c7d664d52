"""``ScotAccountBackend``: maps a verified ScotAccount ID token to a local user, by ``sub``.

Built on mozilla-django-oidc's ``OIDCAuthenticationBackend`` and keeping its
hook names (``verify_claims``, ``filter_users_by_claims``, ``create_user``,
``update_user``, ``get_username``), so a council used to that library can
override the same methods. Where and why it departs is said at each method.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import EmailField
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from scotaccount_django.conf import conf
from scotaccount_django.models import ScotAccountIdentity
from scotaccount_django.tokens import IDTokenClaims

logger = logging.getLogger("scotaccount_django")


class ScotAccountBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Authenticate people whose ID token the callback view has already verified."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Departs: the parent reads OIDC_* settings here and raises without them.
        # Django instantiates backends on every request, so no I/O or settings here.
        self.UserModel = get_user_model()

    def authenticate(
        self,
        request: HttpRequest | None,
        scotaccount_id_token: IDTokenClaims | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        """Sign in the person named by verified ID token claims; ignore other logins.

        Departs: the parent exchanges the code itself. Here the callback view
        does the protocol work (flow, PKCE, private_key_jwt, ID-token checks)
        and passes only verified claims, so this backend is pure identity mapping.
        """
        if scotaccount_id_token is None:
            return None
        self.request = request
        issuer = str(scotaccount_id_token.claims["iss"])
        claims = {**scotaccount_id_token.claims, "sub": scotaccount_id_token.sub}
        if not self.verify_claims(claims):
            return None
        user = self.get_or_create_user_for(issuer, claims)
        if user is None or not self.user_can_authenticate(user):
            return None
        return user

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """Departs: ScotAccount sends no email; a verified ``sub`` is all that is needed."""
        return claims.get("sub") is not None

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        """Departs: matched on ``sub`` (per issuer), never on email, which would let
        anyone who controls an email address take over an account."""
        return self.UserModel.objects.filter(
            scotaccount_identity__issuer=claims["iss"],
            scotaccount_identity__sub=claims["sub"],
        )

    def get_or_create_user_for(
        self, issuer: str, claims: dict[str, Any]
    ) -> AbstractBaseUser | None:
        """Find the person's user by ``sub``, link an existing one, or create one."""
        user = self.filter_users_by_claims(claims).first()
        if user is not None:
            return self.update_user(user, claims)
        linked = self.link_existing_user(self.request, claims)
        if linked is None and not conf.CREATE_USERS:
            logger.info("ScotAccount sign-in refused: unknown person and user creation is off")
            return None
        try:
            with transaction.atomic():
                user = linked if linked is not None else self.create_user(claims)
                ScotAccountIdentity.objects.create(
                    user_id=user.pk, issuer=issuer, sub=claims["sub"], last_seen=timezone.now()
                )
        except IntegrityError:
            # Two first sign-ins of the same person at once: the other one won.
            user = self.filter_users_by_claims(claims).first()
            if user is None:
                raise
            return self.update_user(user, claims)
        return user

    def link_existing_user(
        self, request: HttpRequest | None, claims: dict[str, Any]
    ) -> AbstractBaseUser | None:
        """Hook: return an existing user to link to this new ``sub``, or None.

        Override to attach ScotAccount to accounts a council already has, e.g.
        the signed-in staff member who clicked "link my ScotAccount". Never
        match on email or name. The default links nobody.
        """
        return None

    def create_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        """A new user with no usable password, through the model's manager where it can.

        Override this when your user model has other required fields, e.g.
        ``return self.UserModel.objects.create_user(email=None, council_ref="")``.
        """
        name_field = self.UserModel.USERNAME_FIELD
        is_email = isinstance(self.UserModel._meta.get_field(name_field), EmailField)
        # ScotAccount gives no email at sign-in and a random name is not an email
        # address, so an email-keyed user starts empty (the checks insist on null=True).
        fields = {name_field: None if is_email else self.get_username(claims)}
        manager = self.UserModel._default_manager
        if not is_email and hasattr(manager, "create_user"):
            # Django's UserManager: password None gives an unusable password.
            return manager.create_user(**fields, password=None)  # type: ignore[arg-type]
        # Managers' create_user() turns an email of None into "", which would clash
        # with the second person on a unique field, so those users are saved directly.
        user = self.UserModel(**fields)
        user.set_unusable_password()
        user.save()
        return user

    def get_username(self, claims: dict[str, Any]) -> str:
        """Departs: a random name that reveals nothing about the person (not their email)."""
        return f"scotaccount-{secrets.token_hex(8)}"

    def update_user(self, user: AbstractBaseUser, claims: dict[str, Any]) -> AbstractBaseUser:
        ScotAccountIdentity.objects.filter(user_id=user.pk).update(last_seen=timezone.now())
        return user

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        # Departs: the parent's get_user ignores is_active; Django's does not, so a
        # deactivated user's existing sessions stop working on their next request.
        return ModelBackend.get_user(self, user_id)
