"""``manage.py scotaccount_keygen``: a usable key pair, owner-only file, public JWK + kid."""

from __future__ import annotations

import io
import json
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command, get_commands, load_command_class

from scotaccount_django._internal.provider import jwk_thumbprint


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
    # The one setting the minimum settings need, and no other (issue 21).
    assert f"Set SCOTACCOUNT_PRIVATE_KEY = {str(path.resolve())!r}." in output
    assert f"the kid {jwk['kid']!r} (the key's thumbprint)" in output
    assert "PRIVATE_KEY_ID" not in output


def test_refuses_to_overwrite_without_force(tmp_path) -> None:
    path = tmp_path / "private.pem"
    path.write_text("keep me")
    with pytest.raises(CommandError, match="--force"):
        run(str(path), "--type", "ec")
    assert path.read_text() == "keep me"
    run(str(path), "--type", "ec", "--force")
    assert "PRIVATE KEY" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_l13_force_replaces_the_file_without_writing_into_its_descriptor(tmp_path) -> None:
    path = tmp_path / "private.pem"
    path.write_text("old key")
    path.chmod(0o644)
    reader = path.open()  # anyone holding the old file keeps the old, whole content
    old_inode = path.stat().st_ino
    run(str(path), "--type", "ec", "--force")
    assert reader.read() == "old key"
    reader.close()
    assert path.stat().st_ino != old_inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["private.pem"]  # no temporary left


def test_l13_force_never_writes_through_a_symlink(tmp_path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours")
    link = tmp_path / "private.pem"
    link.symlink_to(target)
    run(str(link), "--type", "ec", "--force")
    assert target.read_text() == "not yours"
    assert not link.is_symlink()
    assert "PRIVATE KEY" in link.read_text()


def test_l13_a_symlink_is_an_existing_file_without_force(tmp_path) -> None:
    link = tmp_path / "private.pem"
    link.symlink_to(tmp_path / "dangling")
    with pytest.raises(CommandError, match="--force"):
        run(str(link), "--type", "ec")
    assert not (tmp_path / "dangling").exists()


def test_makes_missing_parent_folders_owner_only(tmp_path) -> None:
    path = tmp_path / "secrets" / "scotaccount" / "private.pem"
    run(str(path), "--type", "ec")
    assert "PRIVATE KEY" in path.read_text()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700


def test_runs_without_system_checks_when_the_key_is_missing(tmp_path, settings) -> None:
    # The key the checks look for is the one this command makes.
    settings.SCOTACCOUNT_PRIVATE_KEY = None
    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "not-yet.pem")
    command = load_command_class(get_commands()["scotaccount_keygen"], "scotaccount_keygen")

    def no_checks(*args, **kwargs):
        pytest.fail("scotaccount_keygen ran the system checks")

    command.check = no_checks
    command.run_from_argv(
        ["manage.py", "scotaccount_keygen", str(tmp_path / "not-yet.pem"), "--type", "ec"]
    )
    assert (tmp_path / "not-yet.pem").exists()
