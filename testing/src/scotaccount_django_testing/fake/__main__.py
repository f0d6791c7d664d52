"""``scotaccount-fake``: the fake ScotAccount as a standalone simulator, no Django needed.

Configured by flags, environment variables (``SCOTACCOUNT_FAKE_<FLAG>``) or a JSON file
(``--config``), in that order of precedence. Serves until interrupted, printing its URLs and a
settings block for a Django project. Inside a Django project, ``manage.py scotaccount_fake``
does the same configured from the project's own settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scotaccount_django_testing.fake import control
from scotaccount_django_testing.fake.assertions import KeySource
from scotaccount_django_testing.fake.personas import PERSONAS
from scotaccount_django_testing.fake.provider import FakeScotAccount, is_loopback_host
from scotaccount_django_testing.fake.serve import serve_until_interrupted
from scotaccount_django_testing.fake.tls import make_certificates
from scotaccount_django_testing.fake.variants import VARIANTS

ENV_PREFIX = "SCOTACCOUNT_FAKE_"

DEFAULTS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 8001,
    "attributes_port": None,
    "client_id": "test-client",
    "public_key": [],
    "redirect_uri": ["http://localhost:8000/scotaccount/callback/"],
    "post_logout_redirect_uri": ["http://localhost:8000/scotaccount/logged-out/"],
    "mode": "strict",
    "persona": None,
    "fault": [],
    "tls_dir": None,
    "legacy_claims_layout": False,
    "close_connections": False,
    "documented_variants": False,
    "variant": [],
}
#: Settings that take several values: repeated flags, comma-separated in the environment.
LISTS = ("public_key", "redirect_uri", "post_logout_redirect_uri", "fault", "variant")
FLAGS = ("legacy_claims_layout", "close_connections", "documented_variants")

ENDPOINTS = """\
ScotAccount endpoints served (sign-in issuer origin, then attributes origin, port+1):
  GET  /.well-known/openid-configuration   discovery
  GET  /jwks.json                          the sign-in issuer's keys (ID and access tokens)
  GET  /authorize                          authorization request (code flow, PKCE S256)
  POST /token                              code for tokens (private_key_jwt)
  GET  /authorize/logout                   end session (id_token_hint, post_logout_redirect_uri)
  GET  <attributes>/attributes/values      the claimsToken (Bearer + DIS-Client-Assertion)
  GET  <attributes>/jwks.json              the attributes issuer's keys (claimsToken)
Control API (sign-in origin; not ScotAccount's):
  GET/POST /config    persona, mode, faults, One Login errors, variants, key rotation
  GET/DELETE /journal what the relying party sent (?endpoint=token to filter)
Environment: SCOTACCOUNT_FAKE_<FLAG> (e.g. SCOTACCOUNT_FAKE_CLIENT_ID), lists comma-separated.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scotaccount-fake",
        description="A fake ScotAccount (sign-in and attributes issuers) for testing any "
        "relying party. For testing only: it keeps everything in memory.",
        epilog=ENDPOINTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,  # unset flags fall through to env, file, default
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="JSON file of settings")
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="sign-in issuer port (default 8001; 0: any)")
    parser.add_argument("--attributes-port", type=int, help="attributes port (default port+1)")
    parser.add_argument("--client-id", help="the relying party's client id (default test-client)")
    parser.add_argument(
        "--public-key",
        "--client-key",
        action="append",
        metavar="KEY",
        help="the relying party's public key: a PEM or JWKS file, or the PEM or JWKS text "
        "itself (repeatable)",
    )
    parser.add_argument("--redirect-uri", action="append", metavar="URI", help="(repeatable)")
    parser.add_argument(
        "--post-logout-redirect-uri", action="append", metavar="URI", help="(repeatable)"
    )
    parser.add_argument("--mode", choices=("strict", "lax"), help="default strict")
    parser.add_argument(
        "--persona",
        "--auto-approve",
        choices=sorted(PERSONAS),
        metavar="PERSONA_ID",
        help="non-interactive: sign in as this persona without pages (default: interactive)",
    )
    parser.add_argument("--fault", action="append", metavar="NAME", help="arm a fault, always")
    parser.add_argument(
        "--tls-dir",
        type=Path,
        metavar="DIR",
        help="TLS on: write a new test CA and server certificate into DIR (trust DIR/ca.pem)",
    )
    parser.add_argument("--legacy-claims-layout", action="store_true")
    parser.add_argument(
        "--close-connections",
        action="store_true",
        help="close every connection after one response (default: keep-alive)",
    )
    parser.add_argument(
        "--documented-variants",
        action="store_true",
        help="answer as ScotAccount's documentation shows, every variant at once",
    )
    parser.add_argument(
        "--variant",
        action="append",
        choices=sorted(VARIANTS),
        help="switch on one documented variant (repeatable)",
    )
    return parser


def resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    """Flags over ``SCOTACCOUNT_FAKE_*`` over the JSON file over the defaults."""
    settings = dict(DEFAULTS)
    config_file = getattr(args, "config", None) or environ.get(f"{ENV_PREFIX}CONFIG")
    from_file: dict[str, Any] = {}
    if config_file:
        from_file = json.loads(Path(config_file).read_text(encoding="utf-8"))
        if not isinstance(from_file, dict):
            raise ValueError(f"{config_file} must hold a JSON object.")
    # What POST /config also takes (faults, errors, variants, key stages) is applied at start.
    runtime = {
        key: from_file.pop(key)
        for key in list(from_file)
        if key in control.CONFIG_KEYS and key not in DEFAULTS
    }
    unknown = sorted(set(from_file) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"Unknown settings {unknown} in {config_file}.")
    settings.update(from_file)
    for name in DEFAULTS:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is None:
            continue
        if name in LISTS:
            settings[name] = _split(value) if name != "public_key" else _keys(value)
        elif name in FLAGS:
            settings[name] = value.lower() in ("1", "true", "yes", "on")
        elif name in ("port", "attributes_port"):
            settings[name] = int(value)
        else:
            settings[name] = value
    settings.update({name: value for name, value in vars(args).items() if name in DEFAULTS})
    settings["runtime"] = runtime
    return settings


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _keys(value: str) -> list[str]:
    """One PEM or JWKS text as it stands (both contain commas), else comma-separated files."""
    return [value] if value.lstrip().startswith(("-----", "{")) else _split(value)


def load_key(value: str) -> KeySource:
    """A public key given as PEM text, JWKS JSON text or a file holding either."""
    text = value if value.lstrip().startswith(("-----", "{")) else Path(value).read_text()
    if text.lstrip().startswith("{"):
        jwks: dict[str, Any] = json.loads(text)
        return jwks
    return text


def build_fake(settings: Mapping[str, Any]) -> FakeScotAccount:
    """The fake these settings describe, not yet started, with its runtime config applied."""
    attributes_port = settings["attributes_port"]
    if attributes_port is None:
        attributes_port = settings["port"] + 1 if settings["port"] else 0
    tls_dir = settings["tls_dir"]
    fake = FakeScotAccount(
        client_id=settings["client_id"],
        client_keys=[load_key(str(value)) for value in settings["public_key"]],
        redirect_uris=settings["redirect_uri"],
        post_logout_redirect_uris=settings["post_logout_redirect_uri"],
        mode=settings["mode"],
        auto_approve=settings["persona"],
        host=settings["host"],
        port=settings["port"],
        attributes_port=attributes_port,
        legacy_claims_layout=settings["legacy_claims_layout"],
        tls=make_certificates(Path(tls_dir)) if tls_dir else None,
        keep_alive=not settings["close_connections"],
        documented_variants=settings["documented_variants"],
        variants=settings["variant"],
    )
    for name in settings["fault"]:
        fake.scenarios.add(name, None)
    fake.configure(settings["runtime"])
    return fake


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = resolve(args, os.environ)
        fake = build_fake(settings)
    except (OSError, ValueError) as error:
        print(f"scotaccount-fake: {error}", file=sys.stderr)
        return 2
    if not is_loopback_host(settings["host"]):
        print(f"WARNING: listening on {settings['host']}, beyond this machine.", file=sys.stderr)
    try:
        serve_until_interrupted(fake, lambda line: print(line, flush=True))
    except OSError as error:  # the port is taken: one line, as for any other bad setting
        print(
            f"scotaccount-fake: cannot listen on {settings['host']}:{settings['port']} "
            f"or the attributes port ({error.strerror}); choose another with --port.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
