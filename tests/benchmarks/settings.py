"""Settings for one relying party under measurement, chosen by ``BENCH_APP``.

``ours`` is this app as documented; ``mdo`` is stock mozilla-django-oidc with the
smallest subclass that lets it talk to ScotAccount (``mdo.py``); ``floor`` is a
minimal callback (``floor.py``). Everything else is identical: middleware
(except ours adds ``SessionLifetimeMiddleware``), database sessions, the
database, the cache and the fake ScotAccount they talk to. The driver
(``run.py``) passes the fake's URLs and the key through the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = os.environ.get("BENCH_APP", "ours")
ORIGIN = os.environ.get("BENCH_ORIGIN", "http://testserver")
ISSUER = os.environ.get("BENCH_ISSUER", "http://127.0.0.1:1")
ATTRIBUTES_ORIGIN = os.environ.get("BENCH_ATTRIBUTES_ORIGIN", "http://127.0.0.1:2")
CA_FILE = os.environ.get("BENCH_CA_FILE") or None
KEY_FILE = os.environ.get("BENCH_KEY_FILE", "")
CLIENT_ID = "bench-client"

SECRET_KEY = "benchmarks-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.benchmarks.urls"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/signed-in/"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "scotaccount_django",
    "mozilla_django_oidc",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    *(["scotaccount_django.middleware.SessionLifetimeMiddleware"] if APP == "ours" else []),
    "django.contrib.messages.middleware.MessageMiddleware",
]
AUTHENTICATION_BACKENDS = {
    "ours": ["scotaccount_django.backends.ScotAccountBackend"],
    "mdo": ["tests.benchmarks.mdo.ScotAccountMDOBackend"],
    "floor": ["django.contrib.auth.backends.ModelBackend"],
}[APP]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

if os.environ.get("BENCH_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("BENCH_DB_NAME", "perf"),
            "HOST": "127.0.0.1",
            "USER": "postgres",
            "CONN_MAX_AGE": None,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(os.environ.get("BENCH_DIR", ".")) / "bench.sqlite3"),
            "CONN_MAX_AGE": None,
            "OPTIONS": {"timeout": 30},
        }
    }
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CACHES = {"default": {"BACKEND": "tests.benchmarks.counting.CountingLocMemCache"}}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# This app --------------------------------------------------------------------------------
SCOTACCOUNT_CLIENT_ID = CLIENT_ID
SCOTACCOUNT_PRIVATE_KEY = KEY_FILE
SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True  # the benchmark's provider is on loopback
SCOTACCOUNT_REDIRECT_URI = f"{ORIGIN}/scotaccount/callback/"
SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = f"{ORIGIN}/scotaccount/logged-out/"
SCOTACCOUNT_DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
SCOTACCOUNT_ATTRIBUTES_URL = f"{ATTRIBUTES_ORIGIN}/attributes/values"
SCOTACCOUNT_ATTRIBUTES_JWKS_URL = f"{ATTRIBUTES_ORIGIN}/jwks.json"
# Where the outbound client takes a CA bundle setting, it trusts the fake's CA through it;
# until then the driver points the process's default CA bundle at one that includes it.
SCOTACCOUNT_CA_BUNDLE = CA_FILE
# Every sign-in comes from one address here: the limit stays on (its cost is counted)
# but high enough never to refuse the benchmark.

# mozilla-django-oidc, as close as it allows ------------------------------------------------
OIDC_RP_CLIENT_ID = CLIENT_ID
OIDC_RP_CLIENT_SECRET = "unused: private_key_jwt instead"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ISSUER}/authorize"
OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/token"
OIDC_OP_USER_ENDPOINT = f"{ISSUER}/no-userinfo"  # never called: see mdo.py
OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/jwks.json"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # ours keeps it too (for logout)
OIDC_VERIFY_SSL = CA_FILE or True
OIDC_TIMEOUT = (5, 10)
