"""The fake's optional HTTPS mode: a generated CA that clients trust explicitly."""

from __future__ import annotations

import http.client

import pytest
import requests

from scotaccount_django_testing import FakeScotAccount
from scotaccount_django_testing.fake.tls import make_certificates


@pytest.fixture
def https_fake(tmp_path):
    with FakeScotAccount(tls=make_certificates(tmp_path / "tls")) as fake:
        yield fake


def test_both_origins_serve_https_with_the_generated_ca(https_fake):
    assert https_fake.issuer.startswith("https://127.0.0.1:")
    assert https_fake.attributes_url.startswith("https://127.0.0.1:")
    response = requests.get(https_fake.discovery_url, verify=str(https_fake.ca_file), timeout=5)
    assert response.json()["issuer"] == https_fake.issuer
    assert response.json()["token_endpoint"].startswith("https://")


def test_clients_that_do_not_trust_the_ca_are_refused(https_fake):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https_fake.discovery_url, timeout=5)


def test_the_person_facing_pages_work_over_https(https_fake):
    response = requests.Request(
        "GET",
        https_fake.authorization_endpoint,
        params={
            "client_id": "test-client",
            "redirect_uri": "http://testserver/scotaccount/callback/",
            "response_type": "code",
            "scope": "openid",
            "state": "s" * 20,
            "nonce": "n" * 20,
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        },
    ).prepare()
    location = https_fake.complete_authorization(response.url)
    assert location.startswith("http://testserver/scotaccount/callback/?code=")


def test_the_server_key_is_private_to_its_owner(tmp_path):
    certificates = make_certificates(tmp_path)
    assert certificates.key_file.stat().st_mode & 0o077 == 0


def jwks_over_one_connection(fake: FakeScotAccount) -> list[bool]:
    """Whether the fake said it would close the connection, for two requests on it."""
    host, port = fake.issuer.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        closing = []
        for _ in range(2):
            connection.request("GET", "/jwks.json")
            response = connection.getresponse()
            response.read()
            closing.append(response.will_close)
            if response.will_close:
                connection.close()
        return closing
    finally:
        connection.close()


def test_connections_are_kept_alive_by_default():
    with FakeScotAccount() as fake:
        assert jwks_over_one_connection(fake) == [False, False]


def test_connections_can_be_closed_after_every_response():
    with FakeScotAccount(keep_alive=False) as fake:
        assert jwks_over_one_connection(fake) == [True, True]
