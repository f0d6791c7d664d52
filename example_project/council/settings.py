"""Settings for the example council site.

By default it signs in through the fake ScotAccount that `run_demo.py` starts.
To use ScotAccount's real integration environment instead, set
SCOTACCOUNT_DEMO_PROVIDER=integration, SCOTACCOUNT_CLIENT_ID and
SCOTACCOUNT_PRIVATE_KEY (the path of the key whose public half you registered).

For the production shape (docs/deployment.md), as the many-instances test runs
it: DEMO_POSTGRES_DB (with DEMO_POSTGRES_HOST, DEMO_POSTGRES_USER) puts the
data in PostgreSQL, DEMO_REDIS_URL (with DEMO_CACHE_PREFIX) the cache in Redis,
DEMO_SITE_URL is the public address when several servers stand behind one,
and DEMO_DIR holds the key. Unset, `make demo` runs on SQLite as before.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_DIR = Path(os.environ.get("DEMO_DIR", BASE_DIR / ".demo"))  # made on first run, outside git

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

DEMO_PROVIDER = os.environ.get("SCOTACCOUNT_DEMO_PROVIDER", "fake")
DEMO_HOST = "127.0.0.1"
DEMO_PORT = int(os.environ.get("DEMO_PORT", "8000"))
FAKE_PORT = int(os.environ.get("FAKE_SCOTACCOUNT_PORT", "8001"))
SITE_URL = os.environ.get("DEMO_SITE_URL", f"http://{DEMO_HOST}:{DEMO_PORT}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "council",  # before scotaccount_django, so its scotaccount/base.html wins
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "scotaccount_django.backends.ScotAccountBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "council.urls"
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
WSGI_APPLICATION = "council.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", str(DEMO_DIR / "db.sqlite3")),
    }
}
if os.environ.get("DEMO_POSTGRES_DB"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["DEMO_POSTGRES_DB"],
        "HOST": os.environ.get("DEMO_POSTGRES_HOST", "127.0.0.1"),
        "USER": os.environ.get("DEMO_POSTGRES_USER", "postgres"),
    }
if os.environ.get("DEMO_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["DEMO_REDIS_URL"],
            "KEY_PREFIX": os.environ.get("DEMO_CACHE_PREFIX", "council-demo"),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/London"
LANGUAGE_CODE = "en-gb"
STATIC_URL = "static/"

LOGIN_URL = "scotaccount:login"
LOGIN_REDIRECT_URL = "council:apply"
LOGOUT_REDIRECT_URL = None

# --- ScotAccount ---------------------------------------------------------
if DEMO_PROVIDER == "integration":
    SCOTACCOUNT_ENVIRONMENT = "integration"
    SCOTACCOUNT_CLIENT_ID = os.environ.get("SCOTACCOUNT_CLIENT_ID")
    SCOTACCOUNT_PRIVATE_KEY = os.environ.get("SCOTACCOUNT_PRIVATE_KEY")
else:
    _fake = f"http://127.0.0.1:{FAKE_PORT}"
    _fake_attributes = f"http://127.0.0.1:{FAKE_PORT + 1}"
    SCOTACCOUNT_CLIENT_ID = "council-demo"
    SCOTACCOUNT_DISCOVERY_URL = f"{_fake}/.well-known/openid-configuration"
    SCOTACCOUNT_ATTRIBUTES_URL = f"{_fake_attributes}/attributes/values"
    SCOTACCOUNT_ATTRIBUTES_JWKS_URL = f"{_fake_attributes}/jwks.json"
    SCOTACCOUNT_PRIVATE_KEY = str(DEMO_DIR / "private_key.pem")
    # The production-shape runs (DJANGO_DEBUG=0, the many-instances test) use the fake too.
    SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True
SCOTACCOUNT_REDIRECT_URI = f"{SITE_URL}/scotaccount/callback/"
SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = f"{SITE_URL}/scotaccount/logged-out/"
