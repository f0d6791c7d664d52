"""`manage.py scotaccount_diagnose` against the fake ScotAccount, healthy and broken."""

from __future__ import annotations

import io
import json
import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command

from scotaccount_django.conf import Settings

CHECKS = [
    "key",
    "public_jwk",
    "discovery",
    "issuer",
    "jwks",
    "clock",
    "redirect_uri",
    "post_logout_redirect_uri",
    "client_assertion",
]


def diagnose(*args: str) -> tuple[str, bool]:
    """The command's output, and whether it succeeded (exit status 0)."""
    out = io.StringIO()
    try:
        call_command("scotaccount_diagnose", *args, stdout=out, no_color=True)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def results(*args: str) -> dict[str, dict]:
    output, _ = diagnose("--json", *args)
    return {check["name"]: check for check in json.loads(output)["checks"]}


@pytest.fixture
def key_file(settings, tmp_path):
    """The fixture's key, moved to a file readable by its owner only (as on tmpfs)."""
    path = tmp_path / "scotaccount.pem"
    path.write_text(settings.SCOTACCOUNT_PRIVATE_KEY)
    path.chmod(0o600)
    return path


@pytest.fixture
def healthy(fake_scotaccount, settings, key_file):
    settings.SCOTACCOUNT_PRIVATE_KEY = None
    settings.SCOTACCOUNT_PRIVATE_KEY = str(key_file)
    return fake_scotaccount


def test_a_healthy_deployment_passes_every_check(healthy):
    output, ok = diagnose()
    assert ok, output
    lines = [line for line in output.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert [line.split()[1].rstrip(":") for line in lines] == CHECKS
    assert all(line.startswith("PASS") for line in lines)
    assert "PASS key: EC P-256 256 bits (ES256), kid " in output
    assert "(its JWK thumbprint)" in output
    assert "file mode 0600" in output
    assert '"kty": "EC"' in output  # the public JWK to register
    assert '"d"' not in output  # never the private part


def test_json_output_describes_the_key_and_the_clock(healthy):
    output, ok = diagnose("--json")
    document = json.loads(output)
    assert ok
    assert document["ok"] is True
    checks = {check["name"]: check for check in document["checks"]}
    assert list(checks) == CHECKS
    key = checks["key"]["data"]
    assert key["type"] == "EC P-256"
    assert key["bits"] == 256
    assert key["file_mode"] == "0600"
    assert len(key["thumbprint"]) == 43
    assert set(checks["public_jwk"]["data"]["jwk"]) == {"kty", "crv", "x", "y", "kid", "use"}
    assert abs(checks["clock"]["data"]["offset_seconds"]) < 2


def test_a_refused_connection_is_not_called_the_allow_list_symptom(healthy, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.SCOTACCOUNT_DISCOVERY_URL = (
        f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    )
    output, ok = diagnose()
    assert not ok
    assert "FAIL discovery: could not reach" in output
    assert "allow-list" not in output  # the allow-list symptom is silence, not a refusal
    assert "outbound network, DNS and proxy" in output
    # What does not need the provider is still checked; what does is marked skipped.
    assert "PASS key" in output
    assert "PASS client_assertion" in output
    for name in ("issuer", "jwks", "clock"):
        assert f"SKIP {name}: skipped: needs discovery" in output
    lines = [line for line in output.splitlines() if line.startswith(("PASS", "FAIL", "SKIP"))]
    assert [line.split()[1].rstrip(":") for line in lines] == CHECKS


def test_checks_that_need_the_key_are_marked_skipped_without_it(healthy, key_file):
    key_file.unlink()
    checks = results()
    assert not checks["key"]["ok"]
    assert list(checks) == CHECKS
    for name in ("public_jwk", "client_assertion"):
        assert checks[name]["skipped"] is True
        assert checks[name]["detail"] == "skipped: needs a usable key"
    assert checks["discovery"]["skipped"] is False


def test_the_recommended_development_setup_passes(healthy, settings):
    """DEBUG on and no redirect or logout URI (docs/installation.md): they follow the browser."""
    settings.DEBUG = True
    settings.SCOTACCOUNT_REDIRECT_URI = None
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = None
    output, ok = diagnose()
    assert ok, output
    assert "PASS redirect_uri: not set: with DEBUG on it follows the browser's address" in output


def test_without_debug_an_unset_redirect_uri_still_fails(healthy, settings):
    settings.SCOTACCOUNT_REDIRECT_URI = None
    check = results()["redirect_uri"]
    assert not check["ok"]
    assert check["detail"] == "SCOTACCOUNT_REDIRECT_URI is not set"


@pytest.mark.parametrize("status", [403, 503])
def test_allow_list_statuses_are_named_as_such(healthy, status):
    healthy.scenarios.add(f"discovery_http_{status}")
    checks = results()
    assert not checks["discovery"]["ok"]
    assert f"HTTP {status}: the IP allow-list symptom" in checks["discovery"]["detail"]


def test_a_timeout_is_named_as_the_allow_list_symptom(healthy, settings):
    settings.SCOTACCOUNT_TIMEOUT = 0.3
    healthy.scenarios.timeout_delay = 2
    healthy.scenarios.add("discovery_timeout")
    detail = results()["discovery"]["detail"]
    assert "no answer in time" in detail
    assert "IP allow-list symptom" in detail


def test_wrong_issuer_fails(healthy, monkeypatch):
    production = property(lambda _: "https://authz.scotaccount.service.gov.scot")
    monkeypatch.setattr(Settings, "ISSUER", production)
    checks = results()
    assert checks["discovery"]["ok"]
    assert not checks["issuer"]["ok"]
    assert healthy.issuer in checks["issuer"]["detail"]
    # Issue 19: the jwks_uri of a document from the wrong issuer is never fetched.
    assert checks["jwks"]["skipped"]
    assert "jwks" not in {entry.endpoint for entry in healthy.journal}


def test_a_key_scotaccount_would_refuse_fails(healthy, key_file):
    weak = rsa.generate_private_key(65537, 1024)
    key_file.write_bytes(
        weak.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    output, ok = diagnose()
    assert not ok
    assert "FAIL key: The ScotAccount private key cannot be used: " in output
    assert "cannot be used: it is RSA 1024 bits. Use an unencrypted PEM RSA key" in output


def test_a_key_file_others_can_read_fails(healthy, key_file):
    key_file.chmod(0o644)
    checks = results()
    assert not checks["key"]["ok"]
    assert "file mode 0644: readable beyond its owner" in checks["key"]["detail"]


def test_missing_key_fails(healthy, key_file):
    key_file.unlink()
    output, ok = diagnose()
    assert not ok
    assert "FAIL key: The ScotAccount private key cannot be used: " in output
    assert "cannot be read: No such file or directory." in output


@pytest.mark.parametrize("skew", [600, -600])
def test_a_skewed_clock_fails(healthy, skew):
    healthy.clock.advance(skew)
    check = results()["clock"]
    assert not check["ok"]
    assert "beyond the 30 s leeway" in check["detail"]
    assert abs(check["data"]["offset_seconds"] + skew) < 2


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://www.example.gov.scot/scotaccount/callback/", "is not https"),
        ("https://www.example.gov.scot/scotaccount/callback/", "is not in ALLOWED_HOSTS"),
    ],
)
def test_redirect_uri_must_be_https_and_served_here(healthy, settings, uri, reason):
    settings.SCOTACCOUNT_REDIRECT_URI = uri
    check = results()["redirect_uri"]
    assert not check["ok"]
    assert reason in check["detail"]
