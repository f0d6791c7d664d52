"""``ScotAccountBackend``: maps a verified ScotAccount ID token to a local user, by ``sub``.

It runs mozilla-django-oidc's own user hook chain, with the same names and
meanings, so a council used to that library overrides the same methods::

    authenticate -> get_or_create_user -> get_userinfo -> verify_claims
                 -> filter_users_by_claims -> update_user
                                             | create_user -> get_username

What differs is where the claims come from. mozilla-django-oidc's
``authenticate`` exchanges the code itself with a client secret and verifies
the ID token with one configured algorithm; ScotAccount needs
``private_key_jwt``, PKCE and flows that outlive a session, so the callback view
does that protocol work and hands this backend the verified claims.
``get_userinfo`` returns those claims (ScotAccount has no userinfo endpoint).
The inherited methods for the protocol work raise ``NotImplementedError``
saying why, rather than failing on missing ``OIDC_*`` settings.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.db.models import EmailField
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from scotaccount_django.conf import conf
from scotaccount_django.models import AuthorizationFlow, ScotAccountIdentity
from scotaccount_django.tokens import IDTokenClaims, TokenSet

logger = logging.getLogger("scotaccount_django")

_PROTOCOL_IN_CALLBACK = (
    "ScotAccountBackend does not exchange codes or verify tokens: the callback view "
    "does (private_key_jwt, PKCE, ScotAccount's keys and algorithms) and passes the "
    "verified claims to authenticate(request, scotaccount_id_token=..., "
    "scotaccount_tokens=...)."
)


def _does_not_apply(method: str, why: str) -> NoReturn:
    raise NotImplementedError(f"{method}: {why}")


class ScotAccountBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Authenticate people whose ID token the callback view has already verified."""

    #: Set by ``authenticate`` for the hooks, as mozilla-django-oidc does.
    request: HttpRequest | None = None
    #: The pk of the user signed in when this flow started, or None: the only user
    #: ``link_existing_user`` may link (SECURITY L3).
    started_by_id: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Departs: the parent reads OIDC_* settings here and raises without them.
        # Django instantiates backends on every request, so no I/O or settings here.
        self.UserModel = get_user_model()

    def authenticate(
        self,
        request: HttpRequest | None,
        scotaccount_id_token: IDTokenClaims | None = None,
        scotaccount_tokens: TokenSet | None = None,
        scotaccount_flow: AuthorizationFlow | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        """Sign in the person named by verified ID token claims; ignore other logins.

        Like the parent: a ``SuspiciousOperation`` from a hook refuses the sign-in
        (logged), and so does an inactive user.
        """
        if scotaccount_id_token is None or scotaccount_tokens is None:
            return None
        self.request = request
        self.started_by_id = scotaccount_flow.started_by_id if scotaccount_flow else None
        payload = {**scotaccount_id_token.claims, "sub": scotaccount_id_token.sub}
        try:
            user = self.get_or_create_user(
                scotaccount_tokens.access_token, scotaccount_tokens.id_token, payload
            )
        except SuspiciousOperation as exc:
            logger.warning("ScotAccount sign-in refused by the backend: %s", exc)
            return None
        if user is None or not self.user_can_authenticate(user):
            return None
        return user

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> AbstractBaseUser | None:
        """The parent's chain, with ScotAccount's settings and the identity row.

        Departs: ``SCOTACCOUNT_CREATE_USERS`` rather than ``OIDC_CREATE_USER``; an
        unknown person may first be linked by ``link_existing_user``; a new user
        gets its ``ScotAccountIdentity`` in the same transaction.
        """
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("Claims verification failed")
        users = self.filter_users_by_claims(claims)
        if len(users) > 1:
            raise SuspiciousOperation("Multiple users returned")
        if users:
            return self.update_user(users[0], claims)
        linked = self.link_existing_user(self.request, claims)
        if linked is not None and (self.started_by_id is None or linked.pk != self.started_by_id):
            # A link is made only to the user who started this very flow (L3): with a
            # planted flow cookie, someone else's callback can land in a signed-in
            # staff member's browser, and request.user is then the wrong person.
            logger.warning("Account link refused: the user is not the one who started the flow")
            linked = None
        if linked is None and not conf.CREATE_USERS:
            logger.info("ScotAccount sign-in refused: unknown person and user creation is off")
            return None
        try:
            with transaction.atomic():
                user = linked if linked is not None else self.create_user(claims)
                ScotAccountIdentity.objects.create(
                    user_id=user.pk,
                    issuer=claims["iss"],
                    sub=claims["sub"],
                    last_seen=timezone.now(),
                )
        except IntegrityError:
            # Two first sign-ins of the same person at once: the other one won.
            user = self.filter_users_by_claims(claims).first()
            if user is None:
                raise
            return self.update_user(user, claims)
        return user

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """The verified ID token claims: ScotAccount has no userinfo endpoint.

        Override to add to them; verified attributes come later, by step-up.
        """
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """Departs: ScotAccount sends no email; a verified ``sub`` is all that is needed."""
        return claims.get("sub") is not None

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        """Departs: matched on ``sub`` (per issuer), never on email, which would let
        anyone who controls an email address take over an account."""
        return self.UserModel.objects.filter(
            scotaccount_identity__issuer=claims["iss"],
            scotaccount_identity__sub=claims["sub"],
        ).select_related("scotaccount_identity")

    def link_existing_user(
        self, request: HttpRequest | None, claims: dict[str, Any]
    ) -> AbstractBaseUser | None:
        """Hook: return an existing user to link to this new ``sub``, or None.

        Override to attach ScotAccount to accounts a council already has. Only
        the user who was signed in when this flow *started* can be linked: their
        pk is ``self.started_by_id``, and any other user returned is refused.
        For a "link my ScotAccount" button, return
        ``UserModel.objects.get(pk=self.started_by_id)`` when it is set (never
        ``request.user``, which at the callback may be someone else). Never
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
        """Record the sign-in time on the person's identity."""
        ScotAccountIdentity.objects.filter(user_id=user.pk).update(last_seen=timezone.now())
        return user

    def describe_user_by_claims(self, claims: dict[str, Any]) -> str:
        """Departs: people are known by ``sub``, and no personal data goes to logs."""
        return "a ScotAccount sub"

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        # Departs: the parent's get_user ignores is_active; Django's does not, so a
        # deactivated user's existing sessions stop working on their next request.
        return ModelBackend.get_user(self, user_id)

    # The parent's protocol methods: the callback view does this work instead.

    @staticmethod
    def get_settings(attr: str, *args: Any) -> NoReturn:
        _does_not_apply(
            "get_settings",
            "ScotAccount is configured with SCOTACCOUNT_* settings, read through "
            "scotaccount_django.conf.conf, never OIDC_*.",
        )

    def get_token(self, payload: dict[str, Any]) -> NoReturn:
        _does_not_apply("get_token", _PROTOCOL_IN_CALLBACK)

    def raise_token_response_error(self, response: Any) -> NoReturn:
        _does_not_apply("raise_token_response_error", _PROTOCOL_IN_CALLBACK)

    def verify_token(self, token: str, **kwargs: Any) -> NoReturn:
        _does_not_apply("verify_token", _PROTOCOL_IN_CALLBACK)

    def get_payload_data(self, token: str, key: Any) -> NoReturn:
        _does_not_apply("get_payload_data", _PROTOCOL_IN_CALLBACK)

    def retrieve_matching_jwk(self, token: str) -> NoReturn:
        _does_not_apply("retrieve_matching_jwk", _PROTOCOL_IN_CALLBACK)

    def _verify_jws(self, payload: str, key: Any) -> NoReturn:
        _does_not_apply("_verify_jws", _PROTOCOL_IN_CALLBACK)

    def store_tokens(self, access_token: str, id_token: str) -> NoReturn:
        _does_not_apply(
            "store_tokens",
            "the callback keeps the ID token in the session (for logout) once the "
            "person is logged in, and never keeps the access token.",
        )
