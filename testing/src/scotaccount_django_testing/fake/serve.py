"""Serving a started fake until Ctrl-C, and telling the developer how to point at it.

Shared by ``scotaccount-fake`` and
``manage.py scotaccount_fake``, so both print the same banner.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from scotaccount_django_testing.fake.provider import FakeScotAccount


def banner(fake: FakeScotAccount) -> list[str]:
    """The URLs a developer needs, one ``Name: value`` line each."""
    signs_in = "whoever you choose on its pages (interactive)"
    if fake.auto_approve:
        signs_in = f"{fake.auto_approve}, without pages (non-interactive)"
    lines = [
        "FAKE ScotAccount for testing only",
        f"Discovery URL: {fake.discovery_url}",
        f"Authorization endpoint: {fake.authorization_endpoint}",
        f"Token endpoint: {fake.token_endpoint}",
        f"End-session endpoint: {fake.end_session_endpoint}",
        f"JWKS URL: {fake.jwks_url}",
        f"Attributes URL: {fake.attributes_url}",
        f"Attributes issuer: {fake.attributes_issuer}",
        f"Attributes JWKS URL: {fake.attributes_jwks_url}",
        f"Client id: {fake.client_id} ({fake.mode} mode)",
        f"Signs in: {signs_in}",
        f"Config URL: {fake.config_url}",
        f"Journal URL: {fake.journal_url}",
    ]
    if fake.ca_file is not None:
        lines.append(f"CA certificate: {fake.ca_file}")
    if fake.variants:
        lines.append(f"Documented variants: {', '.join(sorted(fake.variants))}")
    return lines


def settings_block(fake: FakeScotAccount) -> str:
    """Ready-to-paste Django settings that point a project at this running fake."""
    lines = [
        "# Paste into your development settings (the fake is for local use only):",
        f'SCOTACCOUNT_CLIENT_ID = "{fake.client_id}"',
        f'SCOTACCOUNT_DISCOVERY_URL = "{fake.discovery_url}"',
        f'SCOTACCOUNT_ATTRIBUTES_URL = "{fake.attributes_url}"',
        f'SCOTACCOUNT_ATTRIBUTES_JWKS_URL = "{fake.attributes_jwks_url}"',
    ]
    if fake.ca_file is not None:
        lines.insert(1, f'SCOTACCOUNT_CA_BUNDLE = "{fake.ca_file}"')
    return "\n".join(lines)


def serve_until_interrupted(
    fake: FakeScotAccount, write: Callable[[str], None], next_steps: str | None = None
) -> None:
    """Start ``fake``, print where it is, and serve until SIGINT or SIGTERM.

    ``next_steps`` replaces the settings block when the project already points at the fake
    (``manage.py scotaccount_fake``), so nobody pastes settings they do not need.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with fake:
        for line in banner(fake):
            write(line)
        write("")
        write(next_steps if next_steps is not None else settings_block(fake))
        stop.wait()
