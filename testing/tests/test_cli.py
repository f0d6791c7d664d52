"""The command line starts both issuers on loopback and prints their URLs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from scotaccount_django_testing import FakeScotAccount
from scotaccount_django_testing.fake.__main__ import build_parser, resolve
from testing.tests.support import TIMEOUT, ec_jwks, rsa_public_pem


def read_urls(process):
    urls = {}
    while "Attributes URL" not in urls:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        name, _, value = line.partition(": ")
        urls[name] = value.strip()
    return urls


def test_cli_serves_discovery_and_attributes(tmp_path):
    pem = tmp_path / "rp.pem"
    pem.write_bytes(rsa_public_pem())
    jwks = tmp_path / "rp.jwks.json"
    jwks.write_text(json.dumps(ec_jwks()))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scotaccount_django_testing.fake",
            "--port",
            "0",
            "--client-id",
            "cli-client",
            "--client-key",
            str(pem),
            "--client-key",
            str(jwks),
            "--redirect-uri",
            "http://localhost:8000/cb/",
            "--redirect-uri",
            "http://localhost:8000/cb2/",
            "--post-logout-redirect-uri",
            "http://localhost:8000/out/",
            "--mode",
            "lax",
            "--auto-approve",
            "seonaid",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        urls = read_urls(process)
        discovery = requests.get(urls["Discovery URL"], timeout=TIMEOUT).json()
        assert urls["Discovery URL"].startswith("http://127.0.0.1:")
        assert discovery["issuer"] == urls["Discovery URL"].split("/.well-known")[0]
        assert urls["Attributes URL"].endswith("/attributes/values")
        response = requests.get(
            discovery["authorization_endpoint"],
            params={
                "client_id": "x",
                "redirect_uri": "http://localhost:8000/cb2/",
                "response_type": "code",
                "scope": "openid",
                "state": "s",
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert response.status_code == 302
        assert response.headers["Location"].startswith("http://localhost:8000/cb2/?code=")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_cli_defaults_to_loopback():
    settings = resolve(build_parser().parse_args([]), {})
    assert settings["host"] == "127.0.0.1"
    assert settings["port"] == 8001
    assert settings["attributes_port"] is None  # port + 1
    assert settings["mode"] == "strict"


def test_binding_beyond_loopback_needs_an_explicit_host_and_warns():
    with pytest.warns(RuntimeWarning, match="beyond loopback"):
        FakeScotAccount(host="0.0.0.0")  # not started: nothing is bound
