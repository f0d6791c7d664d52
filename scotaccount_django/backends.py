"""``ScotAccountBackend``: mozilla-django-oidc's backend, fed ScotAccount at MDO's own hooks.

People are keyed on issuer + ``sub``, never email (``docs/design.md`` says which hooks and why).
"""

from __future__ import annotations

import logging
import secrets
from functools import partial
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.db.models import EmailField
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from scotaccount_django import audit
from scotaccount_django._internal import flows, jwtkit, provider
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ProviderError, SubjectMismatch
from scotaccount_django.models import ScotAccountIdentity

logger = logging.getLogger("scotaccount_django")


class ScotAccountBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Sign in people ScotAccount vouches for, through MDO's own ``authenticate``."""

    #: Set by MDO's ``authenticate`` for the hooks.
    request: HttpRequest | None = None

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        """MDO's setting names, answered from ``SCOTACCOUNT_*`` (read at call time)."""
        mapped: dict[str, Any] = {
            "OIDC_RP_CLIENT_ID": conf.CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": None,  # private_key_jwt instead: see get_token
            # MDO's __init__ only checks these are set; ours come from discovery.
            "OIDC_OP_TOKEN_ENDPOINT": "(discovery)",
            "OIDC_OP_JWKS_ENDPOINT": "(discovery)",
            "OIDC_OP_USER_ENDPOINT": None,  # ScotAccount has none: see get_userinfo
            "OIDC_RP_SIGN_ALGO": " ".join(conf.ID_TOKEN_ALGORITHMS),
            "OIDC_AUTHENTICATION_CALLBACK_URL": "scotaccount:callback",
            "OIDC_CREATE_USER": conf.CREATE_USERS,
            # Never the access token (used once); sessions.ID_TOKEN keeps the ID token.
            "OIDC_STORE_ACCESS_TOKEN": False,
            "OIDC_STORE_ID_TOKEN": False,
        }
        if attr in mapped:
            return mapped[attr]
        if args:
            return args[0]
        raise ImproperlyConfigured(f"{attr} has no SCOTACCOUNT_* equivalent")

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The code exchanged with ``private_key_jwt``, PKCE and the flow's ``redirect_uri``
        (not MDO's client secret and Host-header URI); nothing is sent without a flow."""
        completion = getattr(self.request, flows.IN_PROGRESS, None)
        if completion is None or "code_verifier" not in payload:
            return {}
        issuer = self.request.GET.get("iss") if self.request is not None else None
        if issuer is not None and issuer != provider.get_metadata().issuer:
            raise ProviderError("the callback's iss is not our issuer (mix-up)")
        completion.tokens = provider.exchange_code(
            code=payload["code"],
            code_verifier=payload["code_verifier"],
            redirect_uri=completion.flow.redirect_uri,
        )
        return {
            "id_token": completion.tokens.id_token,
            "access_token": completion.tokens.access_token,
        }

    def verify_token(self, token: str | None, **kwargs: Any) -> dict[str, Any] | None:
        """The ID token verified completely (``jwtkit``; MDO checks neither issuer nor
        audience); its claims, or None without a flow. A step-up must return its starter."""
        completion = getattr(self.request, flows.IN_PROGRESS, None)
        nonce = kwargs.get("nonce")
        if completion is None or not token or not isinstance(nonce, str):
            return None
        claims = jwtkit.verify_id_token(token, nonce_hash=nonce)
        started_by_sub = completion.flow.initiating_sub
        if started_by_sub is not None and claims.sub != started_by_sub:
            raise SubjectMismatch("the step-up came back as a different person")
        completion.claims = claims
        return {**claims.claims, "sub": claims.sub}

    def get_userinfo(
        self, access_token: str, id_token: str | None, payload: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The verified ID token claims (ScotAccount has no userinfo endpoint); override to add.
        A bare access token (DRF's ``get_or_create_user(token, None, None)``) is refused."""
        if payload is None:
            raise PermissionDenied("ScotAccount access tokens do not authenticate API calls")
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """Departs: ScotAccount sends no email; a verified ``iss`` and ``sub`` are enough."""
        return bool(claims.get("iss")) and bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        """The user with this issuer and ``sub`` (never email); else the one ``link_existing_user``
        names, if they started this flow and are still signed in (L3, M2)."""
        users = self.UserModel.objects.filter(
            scotaccount_identity__issuer=claims["iss"],
            scotaccount_identity__sub=claims["sub"],
        ).select_related("scotaccount_identity")
        if users or self.request is None:
            return users
        linked = self.link_existing_user(self.request, claims)
        if linked is None:
            return []
        started_by = self.started_by_id
        present = getattr(getattr(self.request, "user", None), "pk", None)
        if started_by is None or str(linked.pk) != started_by or str(present) != started_by:
            logger.warning("Account link refused: the linker is not the signed-in user")
            return []
        return [linked]

    @property
    def started_by_id(self) -> Any:
        """The pk of the user signed in when this flow started, or None: the only user
        ``link_existing_user`` may link, and only while they are still signed in."""
        completion = getattr(self.request, flows.IN_PROGRESS, None)
        return completion.flow.started_by_id if completion is not None else None

    def link_existing_user(
        self, request: HttpRequest, claims: dict[str, Any]
    ) -> AbstractBaseUser | None:
        """Hook: an existing user to link to this new ``sub``, or None (the default).
        Only ``self.started_by_id``, still signed in, can be linked; never match on email."""
        return None

    def create_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        """``new_user`` (override it for other required fields) and its identity, atomically."""
        try:
            with transaction.atomic():
                user = self.new_user(claims)
                self.add_identity(user, claims, event="created")
        except IntegrityError:
            # Two first sign-ins of the same person at once: the other one won.
            user = self.filter_users_by_claims(claims).first()
            if user is None:
                raise
        return user

    def new_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        """The user row, with no usable password."""
        name_field = self.UserModel.USERNAME_FIELD
        is_email = isinstance(self.UserModel._meta.get_field(name_field), EmailField)
        # ScotAccount gives no email at sign-in: an email-keyed user starts empty (null=True).
        fields = {name_field: None if is_email else self.get_username(claims)}
        manager = self.UserModel._default_manager
        if not is_email and hasattr(manager, "create_user"):
            # Django's UserManager: password None gives an unusable password.
            return manager.create_user(**fields, password=None)  # type: ignore[no-any-return]
        # Managers' create_user() turns a None email into "", clashing on a unique field.
        user = self.UserModel(**fields)
        user.set_unusable_password()
        user.save()
        return user  # type: ignore[no-any-return]

    def get_username(self, claims: dict[str, Any]) -> str:
        """Departs: a random name that reveals nothing about the person (not their email)."""
        return f"scotaccount-{secrets.token_hex(8)}"

    def update_user(self, user: AbstractBaseUser, claims: dict[str, Any]) -> AbstractBaseUser:
        """Record the sign-in time; a linked user gets the identity; inactive users are refused."""
        if not self.user_can_authenticate(user):
            raise SuspiciousOperation("the user is inactive")
        try:
            identity: ScotAccountIdentity = getattr(user, "scotaccount_identity")  # noqa: B009
        except ScotAccountIdentity.DoesNotExist:
            with transaction.atomic():
                self.add_identity(user, claims, event="linked")
            return user
        if identity.issuer != claims["iss"] or identity.sub != claims["sub"]:
            raise SuspiciousOperation("the user is linked to another ScotAccount")
        identity.last_seen = timezone.now()
        ScotAccountIdentity.objects.filter(pk=identity.pk).update(last_seen=identity.last_seen)
        return user

    def add_identity(self, user: AbstractBaseUser, claims: dict[str, Any], *, event: str) -> None:
        """Attach this ``sub`` to ``user``; audited as ``created`` or ``linked`` on commit."""
        identity = ScotAccountIdentity.objects.create(
            user_id=user.pk, issuer=claims["iss"], sub=claims["sub"], last_seen=timezone.now()
        )
        user.scotaccount_identity = identity  # type: ignore[attr-defined]
        transaction.on_commit(
            partial(audit.emit, event, user_id=str(user.pk), identity_id=identity.pk)
        )

    def describe_user_by_claims(self, claims: dict[str, Any]) -> str:
        """Departs: people are known by ``sub``, and no personal data goes to logs."""
        return "a ScotAccount sub"

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        # Django's, not MDO's (which ignores is_active): a deactivated user's sessions stop.
        return ModelBackend.get_user(self, user_id)
