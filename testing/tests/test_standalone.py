"""Done when: ``scotaccount-fake --client-id demo --public-key key.pem --redirect-uri ...`` serves
a sign-in that a plain ``requests`` + PyJWT script completes, and ``POST /config`` switches a
fault that the next token shows. No Django, no helper of ours on the relying party's side."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from scotaccount_django_testing.fake.__main__ import build_parser, main, resolve

SCRIPT = Path(sys.executable).with_name("scotaccount-fake")
REDIRECT_URI = "https://council.example/scotaccount/callback/"


def start(*args, env=None):
    """The console script, as a team in any language runs it; returns it and its URLs."""
    process = subprocess.Popen(
        [str(SCRIPT), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    urls = {}
    while "Journal URL" not in urls:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            pytest.fail(process.stderr.read())
        name, _, value = line.partition(": ")
        urls[name] = value.strip()
    return process, urls


def stop(process):
    process.terminate()
    process.wait(timeout=10)
    assert process.returncode == 0


@pytest.fixture
def relying_party_key(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pem


def sign_in(urls, key, client_id="demo"):
    """One sign-in, written as any relying party would: requests and PyJWT only."""
    discovery = requests.get(urls["Discovery URL"], timeout=5).json()
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    response = requests.get(
        discovery["authorization_endpoint"],
        params={
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    returned = parse_qs(urlsplit(response.headers["Location"]).query)
    assert returned["state"] == [state]
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": discovery["token_endpoint"],
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
        },
        key,
        algorithm="ES256",
    )
    tokens = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        timeout=5,
    ).json()
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(
        tokens["id_token"]
    )
    claims = jwt.decode(
        tokens["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=client_id,
        issuer=discovery["issuer"],
    )
    assert claims["nonce"] == nonce
    return claims


def test_console_script_serves_a_sign_in_and_post_config_switches_a_fault(relying_party_key):
    key, pem = relying_party_key
    process, urls = start(
        "--client-id", "demo", "--public-key", str(pem), "--redirect-uri", REDIRECT_URI,
        "--persona", "morag",
    )  # fmt: skip
    try:
        assert sign_in(urls, key)["sub"]
        config = {"errors": {"id_token": ["INVALID_ISS"]}}
        assert requests.post(urls["Config URL"], json=config, timeout=5).status_code == 200
        with pytest.raises(jwt.InvalidIssuerError):
            sign_in(urls, key)
        journal = requests.get(urls["Journal URL"], params={"endpoint": "token"}, timeout=5)
        assert [entry["fault"] for entry in journal.json()] == [None, "id_token_wrong_iss"]
    finally:
        stop(process)


def test_console_script_configured_by_environment_and_json_file(relying_party_key, tmp_path):
    key, pem = relying_party_key
    config = tmp_path / "fake.json"
    config.write_text(
        json.dumps({"redirect_uri": [REDIRECT_URI], "client_id": "ignored", "persona": "morag"})
    )
    process, urls = start(
        "--config",
        str(config),
        env={
            "SCOTACCOUNT_FAKE_CLIENT_ID": "from-env",
            "SCOTACCOUNT_FAKE_PUBLIC_KEY": pem.read_text(),  # the PEM text itself
        },
    )
    try:
        assert urls["Client id"] == "from-env (strict mode)"
        assert sign_in(urls, key, client_id="from-env")["sub"]
    finally:
        stop(process)


def test_flags_win_over_environment_over_file_over_defaults(tmp_path):
    config = tmp_path / "fake.json"
    config.write_text(json.dumps({"client_id": "file", "port": 9100, "mode": "lax"}))
    args = build_parser().parse_args(["--config", str(config), "--client-id", "flag"])
    settings = resolve(
        args, {"SCOTACCOUNT_FAKE_CLIENT_ID": "env", "SCOTACCOUNT_FAKE_PORT": "9200"}
    )
    assert (settings["client_id"], settings["port"], settings["mode"]) == ("flag", 9200, "lax")
    assert settings["host"] == "127.0.0.1"  # the default


def test_environment_lists_are_comma_separated():
    settings = resolve(
        build_parser().parse_args([]),
        {
            "SCOTACCOUNT_FAKE_REDIRECT_URI": "https://a.example/cb/, https://b.example/cb/",
            "SCOTACCOUNT_FAKE_FAULT": "token_http_503",
            "SCOTACCOUNT_FAKE_DOCUMENTED_VARIANTS": "true",
        },
    )
    assert settings["redirect_uri"] == ["https://a.example/cb/", "https://b.example/cb/"]
    assert settings["fault"] == ["token_http_503"]
    assert settings["documented_variants"] is True


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"client_idd": "x"}, "Unknown settings ['client_idd']"),
        ({"persona": "nobody"}, "Unknown persona 'nobody'"),
        ({"faults": ["no_such_fault"]}, "no_such_fault"),
    ],
)
def test_a_bad_config_file_stops_with_one_line(tmp_path, capsys, config, says):
    path = tmp_path / "fake.json"
    path.write_text(json.dumps(config))
    assert main(["--config", str(path), "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("scotaccount-fake: ")
    assert says in error
    assert error.count("\n") == 1


def test_help_documents_the_endpoints(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for path in ("/.well-known/openid-configuration", "/authorize", "/token", "/jwks.json"):
        assert path in text
    for path in ("/attributes/values", "/authorize/logout", "/config", "/journal"):
        assert path in text
