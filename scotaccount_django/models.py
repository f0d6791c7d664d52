"""ScotAccount identities (keyed on ``sub``), verified attributes, and the requests for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scotaccount_django._internal.fields import EncryptedJSONField
from scotaccount_django.conf import conf


class ScotAccountIdentity(models.Model):
    """A person known to ScotAccount, matched on ``sub`` alone (never email or name)."""

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


class AttributeScope(models.TextChoices):
    """The verified-attribute scopes ScotAccount offers."""

    IDENTITY = "scotaccount.gpg45.medium", _("Identity verified to GPG45 medium")
    ADDRESS = "scotaccount.address", _("Verified address")
    EMAIL = "scotaccount.email", _("Verified email address")


class VerificationOutcome(models.TextChoices):
    """ScotAccount's verification outcomes; only the first two count as verified."""

    VERIFIED_SUCCESSFULLY = "VERIFIED_SUCCESSFULLY", _("Verified successfully")
    VERIFIED_WITH_WARNINGS = "VERIFIED_WITH_WARNINGS", _("Verified with warnings")
    VERIFICATION_FAILED = "VERIFICATION_FAILED", _("Verification failed")


class AttributeRequest(models.Model):
    """One step-up; a final reason for a missing scope stops it being asked for again."""

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    class Reason(models.TextChoices):
        DECLINED = "declined", _("The person did not agree to share it")
        NOT_AVAILABLE = "not_available", _("ScotAccount had nothing to share")
        VERIFICATION_FAILED = "verification_failed", _("ScotAccount could not verify it")
        ERROR = "error", _("A technical error stopped it")

    identity = models.ForeignKey(
        ScotAccountIdentity,
        on_delete=models.CASCADE,
        related_name="attribute_requests",
        verbose_name=_("identity"),
        help_text=_("The person the attributes were requested for."),
    )
    requested_scopes = models.JSONField(
        _("requested scopes"), default=list, help_text=_("Attribute scopes asked for.")
    )
    received_scopes = models.JSONField(
        _("received scopes"), default=list, help_text=_("Scopes that came back verified.")
    )
    missing_scopes = models.JSONField(
        _("missing scopes"),
        default=dict,
        help_text=_("Scopes that did not come back verified, each with the reason."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        help_text=_("Completed: ScotAccount answered. Failed: a technical error, nothing stored."),
    )
    created_at = models.DateTimeField(
        _("started"), default=timezone.now, help_text=_("When the step-up was started.")
    )
    completed_at = models.DateTimeField(
        _("completed"),
        default=timezone.now,
        db_index=True,
        help_text=_("When ScotAccount's answer was received."),
    )

    class Meta:
        verbose_name = _("verified attribute request")
        verbose_name_plural = _("verified attribute requests")
        ordering = ["-completed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} request {self.pk}"


class VerifiedAttribute(models.Model):
    """The newest verified claims (personal data) for one person and scope, with evidence:
    a newer answer replaces the older one; ``claims`` is empty when verification failed."""

    # No index of its own: the (identity, scope) unique constraint leads with it.
    identity = models.ForeignKey(
        ScotAccountIdentity,
        on_delete=models.CASCADE,
        db_index=False,
        related_name="verified_attributes",
        verbose_name=_("identity"),
        help_text=_("The person these claims are about."),
    )
    scope = models.CharField(
        _("scope"),
        max_length=40,
        choices=AttributeScope.choices,
        help_text=_("The ScotAccount scope that released these claims."),
    )
    claims = EncryptedJSONField(
        _("claims"),
        default=dict,
        help_text=_(
            "The verified claims (personal data), as validated against the schema; "
            "encrypted at rest when SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS is set."
        ),
    )
    outcome = models.CharField(
        _("outcome"),
        max_length=30,
        choices=VerificationOutcome.choices,
        help_text=_("ScotAccount's verification outcome."),
    )
    trust_framework = models.CharField(
        _("trust framework"), max_length=40, help_text=_("For example uk_tfida.")
    )
    assurance_policy = models.CharField(
        _("assurance policy"),
        max_length=40,
        blank=True,
        help_text=_("For identity: the policy followed, for example GPG_45."),
    )
    confidence_level = models.CharField(
        _("confidence level"),
        max_length=20,
        blank=True,
        help_text=_("For identity: the GPG45 confidence level, for example medium."),
    )
    validation_method = models.CharField(
        _("validation method"),
        max_length=40,
        blank=True,
        help_text=_("For address and email: how it was checked."),
    )
    verified_at = models.DateTimeField(
        _("verified at"), help_text=_("When ScotAccount verified these claims.")
    )
    verifier_organization = models.CharField(
        _("verifier organisation"), max_length=60, help_text=_("Who verified these claims.")
    )
    txn = models.UUIDField(
        _("verification transaction"), help_text=_("ScotAccount's id for the verification.")
    )
    received_at = models.DateTimeField(
        _("received at"),
        default=timezone.now,
        db_index=True,
        help_text=_("When this app received the claims; attribute age counts from here."),
    )
    request = models.ForeignKey(
        AttributeRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attributes",
        verbose_name=_("request"),
        help_text=_("The step-up that brought these claims."),
    )

    class Meta:
        verbose_name = _("verified attribute")
        verbose_name_plural = _("verified attributes")
        # Seeing a record is not seeing what it says: values need their own permission.
        permissions = [("view_attribute_values", _("Can see verified attribute values"))]
        constraints = [
            models.UniqueConstraint(
                fields=["identity", "scope"], name="scotaccount_attribute_unique_identity_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} for {self.identity.user}"

    @property
    def is_verified(self) -> bool:
        """An accepted outcome (warnings: the council's policy) and enough evidence (L10)."""
        if self.outcome == VerificationOutcome.VERIFIED_WITH_WARNINGS:
            accepted = conf.ACCEPT_VERIFIED_WITH_WARNINGS
        else:
            accepted = self.outcome == VerificationOutcome.VERIFIED_SUCCESSFULLY
        return accepted and self.evidence_suffices

    @property
    def evidence_suffices(self) -> bool:
        """L10: GPG45 low or a self-certified address must not pass as verified."""
        if self.scope == AttributeScope.IDENTITY:
            return self.confidence_level in ("medium", "high", "very_high")
        return self.validation_method != "self_certified"


class ScotAccountSession(models.Model):
    """A session a sign-in created, found by ScotAccount's ``sid`` for front-channel logout
    (any session engine, no scan). The key is a bearer secret: rows are pruned once unusable."""

    issuer = models.CharField(
        _("issuer"), max_length=255, help_text=_("The ScotAccount issuer that issued the sid.")
    )
    # In Meta, not ``db_index``/``unique``: those add PostgreSQL LIKE indexes we never use.
    sid_hash = models.CharField(
        _("sid hash"), max_length=64, help_text=_("SHA-256 of ScotAccount's sid.")
    )
    session_key = models.CharField(
        _("session key"), max_length=40, help_text=_("The local Django session.")
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
        constraints = [
            models.UniqueConstraint(fields=["session_key"], name="scotaccount_session_unique_key")
        ]
        indexes = [models.Index(fields=["sid_hash"], name="scotaccount_session_sid_hash")]

    def __str__(self) -> str:
        return f"ScotAccount session {self.pk}"
