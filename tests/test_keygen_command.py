"""``manage.py scotaccount_keygen``: a usable key pair, owner-only file, public JWK + kid."""

from __future__ import annotations

import io
import json
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command

from scotaccount_django._internal.keys import jwk_thumbprint


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("scotaccount_keygen", *args, stdout=out)
    return out.getvalue()


def public_jwk(output: str) -> dict:
    return json.loads(output.split("Public JWK:\n", 1)[1].split("\nSet ", 1)[0])["keys"][0]


@pytest.mark.parametrize(
    ("key_type", "key_class"), [("rsa", rsa.RSAPrivateKey), ("ec", ec.EllipticCurvePrivateKey)]
)
def test_writes_owner_only_private_key_and_prints_public_parts(
    tmp_path, key_type, key_class
) -> None:
    path = tmp_path / "private.pem"
    output = run(str(path), "--type", key_type)
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, key_class)
    if key_type == "rsa":
        assert key.key_size == 3072
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "BEGIN PUBLIC KEY" in output
    assert "PRIVATE KEY-----" not in output
    jwk = public_jwk(output)
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
    assert jwk["kid"] == jwk_thumbprint(jwk)
    assert f"SCOTACCOUNT_PRIVATE_KEY_ID = {jwk['kid']!r}" in output


def test_refuses_to_overwrite_without_force(tmp_path) -> None:
    path = tmp_path / "private.pem"
    path.write_text("keep me")
    with pytest.raises(CommandError, match="--force"):
        run(str(path), "--type", "ec")
    assert path.read_text() == "keep me"
    run(str(path), "--type", "ec", "--force")
    assert "PRIVATE KEY" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
