"""Settings for the test suite: SQLite in memory unless SCOTACCOUNT_TEST_DB=postgres."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "Europe/London"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "scotaccount_django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "scotaccount_django.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "scotaccount_django.backends.ScotAccountBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("SCOTACCOUNT_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            # Separate names let several checkouts test on one server at once.
            "NAME": os.environ.get("SCOTACCOUNT_TEST_DB_NAME", "test"),
            "HOST": "127.0.0.1",
            "USER": "postgres",
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGIN_URL = "scotaccount:login"

# Tests create users with passwords; a slow hasher only makes the suite slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_REDIRECT_URL = "/signed-in/"
LOGOUT_REDIRECT_URL = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SCOTACCOUNT_CLIENT_ID = "test-client"
SCOTACCOUNT_REDIRECT_URI = "http://localhost/scotaccount/callback/"
SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = "http://localhost/scotaccount/logged-out/"

# A throwaway key made per test run: tests never depend on a key in the repository.
SCOTACCOUNT_PRIVATE_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)
