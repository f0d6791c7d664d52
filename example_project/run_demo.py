#!/usr/bin/env python
"""Run the demo: the fake ScotAccount and the example council site, on localhost.

`make demo` runs this. Demo keys and the SQLite database are made on first run
in example_project/.demo/, which git ignores.
"""

from __future__ import annotations

import io
import os
import socket
import sys
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The council site, and the package and the testing kit from this checkout: `make demo`
# installs only their dependencies (example_project/requirements.txt), nothing built.
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "testing" / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
# Names the service in /metrics (target_info), as docs/operations.md advises a council to.
os.environ.setdefault("OTEL_SERVICE_NAME", "example-council-site")


def public_key_pem(private_key_path: Path) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private_key = serialization.load_pem_private_key(private_key_path.read_bytes(), None)
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def busy_port_message(host: str, ports: dict[str, int]) -> str | None:
    """Say which port is taken and how to choose another, before anything starts.

    Without this a taken port is a traceback from the fake or a bare "port in use" from
    runserver, neither of which names the setting that moves it.
    """
    for variable, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the servers do: connections of a demo just stopped (TIME_WAIT) do not count.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                return (
                    f"Port {port} ({variable}) on {host} is in use. Stop whatever uses it, "
                    "or choose other ports: DEMO_PORT=9000 FAKE_SCOTACCOUNT_PORT=9001 make demo"
                )
    return None


#: The ports the demo reads from the environment, with their defaults (the fake also takes
#: the port after its own, hence the upper bound).
PORT_VARIABLES = {"DEMO_PORT": "8000", "FAKE_SCOTACCOUNT_PORT": "8001"}


def bad_port_message(environ: dict[str, str]) -> str | None:
    """Say which port variable is not a port number, before settings.py reads it."""
    for variable, default in PORT_VARIABLES.items():
        value = environ.get(variable, default)
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65534):
            return (
                f"{variable}={value!r} is not a port number. Choose a number from 1024 to "
                f"65534, for example: {variable}=9000 make demo"
            )
    return None


def main() -> None:
    message = bad_port_message(dict(os.environ))
    if message:
        sys.exit(message)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    ports = {"DEMO_PORT": settings.DEMO_PORT}
    if settings.DEMO_PROVIDER == "fake":
        ports["FAKE_SCOTACCOUNT_PORT"] = settings.FAKE_PORT
        ports["FAKE_SCOTACCOUNT_PORT + 1, the attributes endpoint"] = settings.FAKE_PORT + 1
    message = busy_port_message(settings.DEMO_HOST, ports)
    if message:
        sys.exit(message)
    settings.DEMO_DIR.mkdir(exist_ok=True)
    call_command("migrate", verbosity=0)
    with ExitStack() as stack:
        if settings.DEMO_PROVIDER == "fake":
            from scotaccount_django_testing import FakeScotAccount

            key_path = Path(settings.SCOTACCOUNT_PRIVATE_KEY)
            if not key_path.exists():
                print("Making demo keys (first run only)...")
                call_command(
                    "scotaccount_keygen", str(key_path), "--type", "ec", stdout=io.StringIO()
                )
            fake = stack.enter_context(
                FakeScotAccount(
                    client_id=settings.SCOTACCOUNT_CLIENT_ID,
                    client_keys=[public_key_pem(key_path)],
                    redirect_uris=[settings.SCOTACCOUNT_REDIRECT_URI],
                    post_logout_redirect_uris=[settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI],
                    port=settings.FAKE_PORT,
                    attributes_port=settings.FAKE_PORT + 1,
                )
            )
            print(f"Fake ScotAccount (for demos and tests only): {fake.discovery_url}")
        print(f"\n  Open {settings.SITE_URL}/ in your browser.")
        from council import metrics

        if metrics.install():
            print(f"  Sign-in figures (Prometheus format): {settings.SITE_URL}/metrics\n")
        else:
            print("  (pip install opentelemetry-exporter-prometheus for figures at /metrics)\n")
        call_command("runserver", f"{settings.DEMO_HOST}:{settings.DEMO_PORT}", use_reloader=False)


if __name__ == "__main__":
    main()
