"""The back-channel client against real loopback servers that misbehave on purpose."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import os
import ssl
import threading
import time
import tracemalloc

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core import checks

from scotaccount_django._internal import provider
from scotaccount_django.exceptions import ConfigurationError, ProviderError, ProviderUnavailable
from tests.loopback_server import ok, serving


@pytest.fixture
def short_timeouts(settings):
    settings.SCOTACCOUNT_TIMEOUT = 1.5  # every call ends within it


def trickle(chunks: bytes, interval: float = 0.2):
    """Send ``chunks`` one byte at a time: each read waits far less than the read timeout."""

    def answer(request, connection) -> bool:
        for index in range(len(chunks)):
            connection.sendall(chunks[index : index + 1])
            time.sleep(interval)
        return False

    return answer


def test_l4_trickling_server_is_cut_off_at_the_deadline(short_timeouts) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"

    def answer(request, connection) -> bool:
        connection.sendall(head)
        return trickle(b"x" * 200)(request, connection)

    with serving(answer) as server:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match=r"no complete answer .* within 1\.5 s"):
            provider.request("token", "GET", server.url)
        assert time.monotonic() - started < 2.5  # not the 40 s the trickle would take


def test_l4_trickled_status_line_and_headers_are_cut_off_too(short_timeouts) -> None:
    with serving(trickle(ok(b"{}") * 20)) as server:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match=r"within 1\.5 s"):
            provider.request("token", "GET", server.url)
        assert time.monotonic() - started < 2.5


def test_l4_stalled_server_is_bounded_by_the_read_timeout(short_timeouts) -> None:
    with serving(lambda request, connection: time.sleep(5) or False) as server:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            provider.request("token", "GET", server.url)
        assert time.monotonic() - started < 2.5


def test_l4_a_socket_timeout_ahead_of_the_deadline_is_also_too_late(
    short_timeouts, monkeypatch
) -> None:
    """The socket's own timeout and the deadline's timer race; either way it is "too late",
    which is what diagnose names as the allow-list symptom."""
    monkeypatch.setattr(provider, "_shut_down", lambda sock: None)  # the socket wins
    stalled = serving(lambda request, connection: time.sleep(3) or False)
    too_late = pytest.raises(ProviderUnavailable, match=r"no complete answer .* within 1\.5 s")
    with stalled as server, too_late:
        provider.request("token", "GET", server.url)


def test_l4_one_watchdog_thread_serves_every_call_and_forgets_answered_ones() -> None:
    """A thread per call cost about 0.3 ms of CPU each (docs/performance.md)."""
    answer = lambda request, connection: connection.sendall(ok(b"{}")) or True  # noqa: E731
    with serving(answer) as server:
        provider.request("token", "GET", server.url)
        threads = threading.active_count()
        for _ in range(20):
            provider.request("token", "GET", server.url)
        assert threading.active_count() == threads
    assert len(provider._watchdog._heap) <= 2  # only the latest call's entry is left


def test_l4_truncated_body_is_our_exception_not_a_protocol_error() -> None:
    def answer(request, connection) -> bool:
        connection.sendall(ok(b'{"access_token": "abc", "id_token": "def"}')[:-20])
        return False  # close after fewer bytes than Content-Length

    with serving(answer) as server, pytest.raises(ProviderUnavailable, match="could not reach"):
        provider.request("token", "POST", server.url, data={"code": "x"})


def test_l4_declared_oversized_body_is_refused_before_reading() -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {provider.MAX_RESPONSE_BYTES + 1}\r\n\r\n"
    answer = lambda request, connection: connection.sendall(head.encode()) or False  # noqa: E731
    with serving(answer) as server, pytest.raises(ProviderError, match="larger than"):
        provider.request("token", "GET", server.url)


def test_l4_undeclared_oversized_body_is_refused() -> None:
    body = b"x" * (provider.MAX_RESPONSE_BYTES + 1)

    def answer(request, connection) -> bool:  # no Content-Length: the body ends at close
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
        return False

    with serving(answer) as server, pytest.raises(ProviderError, match="larger than"):
        provider.request("token", "GET", server.url)


def test_l4_a_body_of_exactly_the_cap_is_accepted() -> None:
    """The cap refuses what passes it, not what reaches it (declared or counted)."""
    body = b"x" * provider.MAX_RESPONSE_BYTES
    with serving(lambda request, connection: connection.sendall(ok(body)) or False) as server:
        assert provider.request("token", "GET", server.url).body == body

    def undeclared(request, connection) -> bool:
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
        return False

    with serving(undeclared) as server:
        assert provider.request("token", "GET", server.url).body == body


def test_l4_a_gzip_answer_is_decoded_before_it_is_read() -> None:
    """The cap counts decoded bytes, so the body handed on is the decoded one."""
    packed = gzip.compress(b'{"issuer": "https://example"}')
    answer = ok(packed, "Content-Encoding: gzip")
    with serving(lambda request, connection: connection.sendall(answer) or False) as server:
        response = provider.request("discovery", "GET", server.url)
    assert response.json_object() == {"issuer": "https://example"}


def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB (64 members of 16 MiB of zeros)."""
    member = gzip.compress(bytes(16 * 1024 * 1024), compresslevel=9)
    return member * 64


def peak_memory_of_a_refused_call(url: str) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(ProviderError, match="larger than"):
            provider.request("token", "GET", url)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_l4_gzip_bomb_is_refused_with_little_memory() -> None:
    bomb = gzip_bomb()
    assert 500_000 < len(bomb) < 2_000_000

    def answer(request, connection) -> bool:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
        connection.sendall(head + bomb)
        return False

    with serving(answer) as server:
        peak = peak_memory_of_a_refused_call(server.url)
    assert peak < 16 * 1024 * 1024  # decoding stopped just past the 512 KiB cap


def test_c7_redirect_is_refused_and_never_followed() -> None:
    with serving(lambda request, connection: False) as elsewhere:
        location = f"Location: {elsewhere.url}captured"
        redirect = f"HTTP/1.1 307 Temporary Redirect\r\n{location}\r\nContent-Length: 0\r\n\r\n"
        answer = lambda request, connection: connection.sendall(redirect.encode()) or True  # noqa: E731
        with serving(answer) as server, pytest.raises(ProviderError, match="redirect"):
            provider.request("token", "POST", server.url, data={"code": "the-code"})
        assert elsewhere.received == []


def test_a7_plain_http_beyond_loopback_is_never_called() -> None:
    with pytest.raises(ProviderError, match="not https"):
        provider.request("token", "GET", "http://127.attacker.example/token")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.attacker.example/token",
        "http://127.0.0.1.nip.io/token",
        "http://localhost.attacker.example/",
        "http://attacker.example/",
        "http://[::2]/",
        "http://0.0.0.0/",
        "ftp://127.0.0.1/",
        "http://0x7f000001.attacker.example/",
        "http://127.1.attacker.example/",
    ],
)
def test_a7_127_prefixed_hostname_is_not_loopback(url) -> None:
    assert not provider.is_https_or_loopback(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/",
        "http://LOCALHOST/",
        "http://127.0.0.1/",
        "http://127.255.0.9:9550/x",
        "http://[::1]:8000/",
        "http://127.1/",  # the short and hex forms of 127.0.0.1 (M7)
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost.localdomain/",
        "https://authz.scotaccount.service.gov.scot/token",
    ],
)
def test_a7_loopback_is_localhost_127_slash_8_or_ipv6_loopback(url) -> None:
    assert provider.is_https_or_loopback(url)


def test_l8_cookie_from_the_provider_is_never_sent_back() -> None:
    answer = ok(b"{}", "Set-Cookie: tracker=person-one; Path=/")
    with serving(lambda request, connection: connection.sendall(answer) or True) as server:
        provider.request("token", "GET", server.url)
        provider.request("token", "GET", server.url)
        assert [request.headers.get("cookie") for request in server.received] == [None, None]


def test_l8_environment_proxies_and_netrc_are_ignored(monkeypatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serving(lambda request, connection: connection.sendall(ok()) or False) as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        provider._pool_manager.cache_clear()  # a fresh client would read the environment
        with serving(lambda request, connection: connection.sendall(ok()) or True) as server:
            assert provider.request("token", "GET", server.url).status == 200
            assert len(server.received) == 1
            assert "authorization" not in server.received[0].headers
        assert proxy.received == []


# --- TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory):
    """A CA, and a certificate it issued for 127.0.0.1, written to files."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Python 3.13 verifies with VERIFY_X509_STRICT: a CA needs its key usage and a key id,
        # and a certificate it issues the authority key id.
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (folder / "leaf.pem").write_bytes(leaf_cert.public_bytes(pem))
    (folder / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "leaf.pem", folder / "leaf.key")
    return str(folder / "ca.pem"), server_context


def keep_alive(request, connection) -> bool:
    connection.sendall(ok())
    return True


def test_c8_certificate_from_an_unknown_ca_is_refused(private_ca, monkeypatch) -> None:
    ca_file, server_context = private_ca
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)  # L8: the environment cannot vouch
    monkeypatch.setenv("CURL_CA_BUNDLE", ca_file)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    with serving(keep_alive, tls=server_context) as server:
        with pytest.raises(ProviderUnavailable, match="SSLError"):
            provider.request("token", "GET", server.url)
        assert server.received == []


def test_c8_a_private_ca_is_trusted_only_through_the_setting(private_ca, settings) -> None:
    ca_file, server_context = private_ca
    settings.SCOTACCOUNT_CA_BUNDLE = ca_file
    with serving(keep_alive, tls=server_context) as server:
        assert provider.request("token", "GET", server.url).status == 200


def test_c8_hostname_must_match_the_certificate(private_ca, settings) -> None:
    ca_file, server_context = private_ca
    settings.SCOTACCOUNT_CA_BUNDLE = ca_file
    with (
        serving(keep_alive, tls=server_context) as server,
        pytest.raises(ProviderUnavailable, match="SSLError"),
    ):
        provider.request(
            "token", "GET", f"https://localhost:{server.port}/"
        )  # certified for 127.0.0.1


def test_c8_one_tls_context_and_kept_alive_connections_across_calls(
    private_ca, settings, monkeypatch
) -> None:
    ca_file, server_context = private_ca
    settings.SCOTACCOUNT_CA_BUNDLE = ca_file
    built = []
    real = ssl.create_default_context
    provider._pool_manager.cache_clear()
    monkeypatch.setattr(ssl, "create_default_context", lambda **kw: built.append(kw) or real(**kw))
    with serving(keep_alive, tls=server_context) as server:
        for _ in range(3):
            assert provider.request("token", "GET", server.url).status == 200
        assert server.connections == 1
        assert len(server.received) == 3
    assert built == [{"cafile": ca_file}]
    context = provider._pool_manager(os.getpid(), ca_file).connection_pool_kw["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    # Nothing loaded more CAs into it per connection (as requests' own adapter would).
    assert context.cert_store_stats()["x509_ca"] == 1


def test_l4_trickle_over_tls_is_cut_off_at_the_deadline(
    private_ca, settings, short_timeouts
) -> None:
    ca_file, server_context = private_ca
    settings.SCOTACCOUNT_CA_BUNDLE = ca_file
    with serving(trickle(ok(b"{}") * 20), tls=server_context) as server:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match=r"within 1\.5 s"):
            provider.request("token", "GET", server.url)
        assert time.monotonic() - started < 2.5


def test_c8_an_unreadable_ca_bundle_is_a_configuration_error(settings, tmp_path) -> None:
    settings.SCOTACCOUNT_CA_BUNDLE = str(tmp_path / "missing.pem")
    with pytest.raises(ConfigurationError, match="SCOTACCOUNT_CA_BUNDLE"):
        provider.request("token", "GET", "https://127.0.0.1:9/")


def test_a7_the_system_check_uses_the_same_loopback_rule(settings) -> None:
    settings.SCOTACCOUNT_DISCOVERY_URL = (
        "http://127.attacker.example/.well-known/openid-configuration"
    )
    messages = [message for message in checks.run_checks() if message.id == "scotaccount.E004"]
    assert messages, "an http URL on a 127.-prefixed hostname must not pass as loopback"


def test_l4_chunked_gzip_bomb_is_refused_with_little_memory() -> None:
    bomb = gzip_bomb()

    def answer(request, connection) -> bool:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunks = [bomb[index : index + 65536] for index in range(0, len(bomb), 65536)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
        connection.sendall(head + body + b"0\r\n\r\n")
        return False

    with serving(answer) as server:
        peak = peak_memory_of_a_refused_call(server.url)
    assert peak < 16 * 1024 * 1024


def test_l4_trickled_tls_handshake_is_bounded(short_timeouts) -> None:
    record_header = b"\x16\x03\x03\x40\x00"  # a 16 KiB handshake record, then a byte at a time
    send_slowly = trickle(record_header + bytes(200))
    with serving(keep_alive, raw=lambda connection: send_slowly(None, connection)) as server:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            provider.request("token", "GET", f"https://127.0.0.1:{server.port}/")
        assert time.monotonic() - started < 2.5  # the trickle would take 40 s
