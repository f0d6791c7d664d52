"""docs/production-settings.md's settings.py, exactly as printed, passes ``check --deploy``."""

from __future__ import annotations

import os
import subprocess
import sys

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.docs_blocks import blocks

(PRODUCTION,) = blocks("file", "production-settings.md")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_production_settings_pass_check_deploy_without_a_warning(tmp_path) -> None:
    """Infos (where sign-out goes) may show; no error and no warning."""
    council = tmp_path / "council"
    council.mkdir()
    (council / "__init__.py").write_text("")
    (council / "production.py").write_text(PRODUCTION.code)
    (council / "urls.py").write_text(
        "from django.urls import include, path\n"
        'urlpatterns = [path("scotaccount/", include("scotaccount_django.urls"))]\n'
    )
    key = tmp_path / "scotaccount.pem"
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT]),
        "DJANGO_SETTINGS_MODULE": "council.production",
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode() * 2,
        "DATABASE_PASSWORD": "not-used-by-check",
        "SCOTACCOUNT_CLIENT_ID": "council-client",
        "SCOTACCOUNT_ATTRIBUTES_URL": "https://issuer.example.gov.scot/attributes/values",
        "SCOTACCOUNT_PRIVATE_KEY": str(key),
        "SCOTACCOUNT_ATTRIBUTE_KEYS": Fernet.generate_key().decode(),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert (
        "WARNINGS:" not in output
    )  # --fail-level WARNING fails on one, so this is belt and braces
    assert "ERRORS:" not in output
