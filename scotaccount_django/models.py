"""ScotAccount identities (keyed on ``sub``) and pending authorization flows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScotAccountIdentity(models.Model):
    """A person known to ScotAccount, linked to exactly one local user.

    People are matched on ``sub`` alone, never on email or name: ScotAccount's
    ``sub`` is a UUID that never changes and is the only identifier it sends.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="scotaccount_identity",
        verbose_name=_("user"),
    )
    issuer = models.CharField(
        _("issuer"),
        max_length=255,
        help_text=_("The ScotAccount issuer that vouches for this sub."),
    )
    sub = models.UUIDField(
        _("subject identifier"),
        help_text=_("ScotAccount's permanent, non-personal identifier for this person."),
    )
    first_seen = models.DateTimeField(
        _("first seen"), auto_now_add=True, help_text=_("First sign-in with ScotAccount.")
    )
    last_seen = models.DateTimeField(
        _("last seen"), help_text=_("Most recent sign-in with ScotAccount.")
    )

    class Meta:
        verbose_name = _("ScotAccount identity")
        verbose_name_plural = _("ScotAccount identities")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "sub"], name="scotaccount_identity_unique_issuer_sub"
            )
        ]

    def __str__(self) -> str:
        return str(self.sub)


class AuthorizationFlow(models.Model):
    """One authorization request sent to ScotAccount and not yet answered.

    Kept in the database rather than the session because ScotAccount lets a
    flow take up to 7 days, far longer than a session. Secrets are stored as
    hashes where we only need to compare them (state, nonce, browser cookie).
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", _("Sign in")
        ATTRIBUTES = "attributes", _("Verified attributes")

    state_hash = models.CharField(
        _("state hash"), max_length=64, unique=True, help_text=_("SHA-256 of the state.")
    )
    nonce_hash = models.CharField(
        _("nonce hash"), max_length=64, help_text=_("SHA-256 of the nonce.")
    )
    code_verifier = models.CharField(
        _("PKCE code verifier"), max_length=128, help_text=_("Sent once, to the token endpoint.")
    )
    browser_binding_hash = models.CharField(
        _("browser binding hash"),
        max_length=64,
        help_text=_("SHA-256 of the flow cookie of the browser that started the flow."),
    )
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.SIGN_IN
    )
    scopes = models.CharField(
        _("scopes"), max_length=255, help_text=_("Space-separated scopes requested.")
    )
    redirect_uri = models.CharField(
        _("redirect URI"), max_length=2048, help_text=_("Sent at authorize and again at token.")
    )
    initiating_sub = models.UUIDField(
        _("initiating subject"),
        null=True,
        blank=True,
        help_text=_("For a step-up: the person who started it; only they may complete it."),
    )
    next_url = models.CharField(
        _("next URL"), max_length=2048, blank=True, help_text=_("Where to go afterwards.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("pending ScotAccount flow")
        verbose_name_plural = _("pending ScotAccount flows")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} flow {self.pk}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ScotAccountSession(models.Model):
    """A local session that a ScotAccount sign-in created, findable by ScotAccount's ``sid``.

    Front-channel logout names a ScotAccount session by ``sid``; this row turns
    that into the local session key, so the session can be deleted from any
    server-side session engine without scanning every session. The session key
    is a bearer secret like the ones in Django's own session table: rows are
    deleted at logout and expiry, and pruned once no session could still use them.
    """

    issuer = models.CharField(
        _("issuer"), max_length=255, help_text=_("The ScotAccount issuer that issued the sid.")
    )
    sid_hash = models.CharField(
        _("sid hash"), max_length=64, db_index=True, help_text=_("SHA-256 of ScotAccount's sid.")
    )
    session_key = models.CharField(
        _("session key"), max_length=40, unique=True, help_text=_("The local Django session.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="scotaccount_sessions",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ScotAccount session")
        verbose_name_plural = _("ScotAccount sessions")

    def __str__(self) -> str:
        return f"ScotAccount session {self.pk}"
