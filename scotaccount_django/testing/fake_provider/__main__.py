"""Command line: ``python -m scotaccount_django.testing.fake_provider``.

Serves the fake until interrupted, printing its URLs and a settings block to
paste into a Django project. Inside a project, ``manage.py scotaccount_fake``
does the same configured from the project's own settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scotaccount_django.conf import is_loopback_host
from scotaccount_django.testing.fake_provider.personas import PERSONAS
from scotaccount_django.testing.fake_provider.provider import FakeScotAccount
from scotaccount_django.testing.fake_provider.serve import serve_until_interrupted
from scotaccount_django.testing.fake_provider.tls import make_certificates
from scotaccount_django.testing.fake_provider.variants import VARIANTS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scotaccount_django.testing.fake_provider",
        description="A fake ScotAccount (sign-in and attributes issuers) for local testing.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8001, help="sign-in issuer port (0: any free)")
    parser.add_argument(
        "--attributes-port", type=int, default=None, help="attributes issuer port (default port+1)"
    )
    parser.add_argument("--client-id", default="test-client")
    parser.add_argument(
        "--client-key",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="the relying party's public key: PEM or JWKS JSON (repeatable)",
    )
    parser.add_argument("--redirect-uri", action="append", default=[], metavar="URI")
    parser.add_argument("--post-logout-redirect-uri", action="append", default=[], metavar="URI")
    parser.add_argument("--mode", choices=("strict", "lax"), default="strict")
    parser.add_argument("--auto-approve", choices=sorted(PERSONAS), metavar="PERSONA_ID")
    parser.add_argument("--legacy-claims-layout", action="store_true")
    parser.add_argument(
        "--tls-dir",
        type=Path,
        metavar="DIR",
        help="serve HTTPS: write a new test CA and server certificate into DIR (trust DIR/ca.pem)",
    )
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
        default=[],
        choices=sorted(VARIANTS),
        help="switch on one documented variant (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not is_loopback_host(args.host):
        print(f"WARNING: listening on {args.host}, beyond this machine.", file=sys.stderr)
    attributes_port = args.attributes_port
    if attributes_port is None:
        attributes_port = args.port + 1 if args.port else 0
    fake = FakeScotAccount(
        client_id=args.client_id,
        client_keys=[path.read_bytes() for path in args.client_key],
        redirect_uris=args.redirect_uri or ["http://localhost:8000/scotaccount/callback/"],
        post_logout_redirect_uris=args.post_logout_redirect_uri
        or ["http://localhost:8000/scotaccount/logged-out/"],
        mode=args.mode,
        auto_approve=args.auto_approve,
        host=args.host,
        port=args.port,
        attributes_port=attributes_port,
        legacy_claims_layout=args.legacy_claims_layout,
        tls=make_certificates(args.tls_dir) if args.tls_dir else None,
        keep_alive=not args.close_connections,
        documented_variants=args.documented_variants,
        variants=args.variant,
    )
    serve_until_interrupted(fake, lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
