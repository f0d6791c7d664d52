"""A council's own user model: keyed on a nullable email, with no username at all."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models


class EmailUserManager(BaseUserManager["EmailUser"]):
    def create_user(
        self, email: str | None, password: str | None = None, **extra: Any
    ) -> EmailUser:
        user = self.model(email=self.normalize_email(email) or None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> EmailUser:
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class EmailUser(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True, null=True, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = EmailUserManager()


class StaffNumberUser(AbstractBaseUser):
    """Extra required field: the default ``create_user`` cannot make one (documented override)."""

    email = models.EmailField(unique=True, null=True, blank=True)
    staff_number = models.IntegerField()
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "email"


class StrictEmailUser(AbstractBaseUser):
    """Email-keyed but never empty: ScotAccount cannot create these (``scotaccount.E062``)."""

    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
