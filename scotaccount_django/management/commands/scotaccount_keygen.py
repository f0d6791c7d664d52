"""Generate the key pair for ScotAccount onboarding (its guide's OpenSSL and Java steps)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scotaccount_django._internal.provider import (
    PrivateKey,
    algorithm_for,
    jwk_thumbprint,
    public_jwk,
)


class Command(BaseCommand):
    help = "Generate an RSA 3072 or EC P-256 key pair for ScotAccount's private_key_jwt."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("private_key_path", help="Where to write the private key (PEM).")
        parser.add_argument(
            "--type", choices=["rsa", "ec"], default="rsa", help="RSA 3072 (default) or EC P-256."
        )
        parser.add_argument(
            "--force", action="store_true", help="Overwrite an existing private key file."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["private_key_path"]
        path = Path(given)
        if path.is_dir() or given.endswith(("/", os.sep)):
            raise CommandError(
                f"{given} is a folder: name the key file, for example {path / 'scotaccount.pem'}"
            )
        exists = f"{path} exists; use --force to replace it."
        if not options["force"] and (path.exists() or path.is_symlink()):
            raise CommandError(exists)
        private_key: PrivateKey = (
            ec.generate_private_key(ec.SECP256R1())
            if options["type"] == "ec"
            else rsa.generate_private_key(public_exponent=65537, key_size=3072)
        )
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # L13: a new owner-only file (O_EXCL | O_NOFOLLOW: no existing file or planted symlink
        # is opened) replaces the key in one os.replace; a reader never sees half a key.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        try:
            for folder in reversed([path.parent, *path.parent.parents]):
                if not folder.exists():
                    folder.mkdir(mode=0o700)  # every folder we make, not only the last
            with os.fdopen(os.open(temporary, flags, 0o600), "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            if not options["force"] and (path.exists() or path.is_symlink()):
                raise CommandError(exists)  # made meanwhile
            os.replace(temporary, path)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        finally:
            temporary.unlink(missing_ok=True)  # gone already once it replaced the key
        public_key = private_key.public_key()
        jwk = public_jwk(public_key)
        kid = jwk_thumbprint(jwk)
        public_pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": algorithm_for(public_key)}]}
        self.stdout.write(
            f"Private key written to {path} (mode 600). Keep it secret.\n"
            f"Public key to send to ScotAccount:\n{public_pem}"
            f"Public JWK:\n{json.dumps(jwks, indent=2)}\n"
            f"Set SCOTACCOUNT_PRIVATE_KEY = {str(path.resolve())!r}. Sign-in sends the kid "
            f"{kid!r} (the key's thumbprint), as in the JWK above."
        )
