"""Generate the relying party's key pair for ScotAccount onboarding.

Replaces the OpenSSL and Java steps in ScotAccount's onboarding guide: writes
the private key with owner-only permissions and prints what to send
ScotAccount (the public PEM) and the public JWK with its thumbprint ``kid``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scotaccount_django._internal.keys import (
    PrivateKey,
    algorithm_for,
    jwk_thumbprint,
    public_jwk,
)


def generate_private_key(key_type: str) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


class Command(BaseCommand):
    help = "Generate an RSA 3072 or EC P-256 key pair for ScotAccount's private_key_jwt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("private_key_path", help="Where to write the private key (PEM).")
        parser.add_argument(
            "--type", choices=["rsa", "ec"], default="rsa", help="RSA 3072 (default) or EC P-256."
        )
        parser.add_argument(
            "--force", action="store_true", help="Overwrite an existing private key file."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["private_key_path"]
        private_key = generate_private_key(options["type"])
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if options["force"] else os.O_EXCL)
        try:
            descriptor = os.open(path, flags, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{path} exists; use --force to replace it.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.chmod(path, 0o600)  # O_CREAT's mode does not apply to an existing file
        public_key = private_key.public_key()
        jwk = public_jwk(public_key)
        kid = jwk_thumbprint(jwk)
        public_pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        jwk_out = {**jwk, "kid": kid, "use": "sig", "alg": algorithm_for(public_key)}
        self.stdout.write(f"Private key written to {path} (mode 600). Keep it secret.\n")
        self.stdout.write("Public key to send to ScotAccount:\n")
        self.stdout.write(public_pem)
        self.stdout.write("Public JWK:\n")
        self.stdout.write(json.dumps({"keys": [jwk_out]}, indent=2) + "\n")
        self.stdout.write(f"Set SCOTACCOUNT_PRIVATE_KEY_ID = {kid!r}\n")
