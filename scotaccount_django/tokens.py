"""What a completed ScotAccount authorization gives this site: tokens and verified claims.

Public because the backend and the callback view's overridable methods take
them. Both are made only by the callback, after every check has passed; the
raw tokens never appear in ``repr`` (so never in a log or a traceback).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IDTokenClaims", "TokenSet"]


@dataclass(frozen=True)
class TokenSet:
    """The token endpoint's answer: ``id_token``, ``access_token`` (15 minutes, used
    once for the attributes), ``expires_in`` seconds and the ``scopes`` granted."""

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IDTokenClaims:
    """A verified ID token: ``sub`` (ScotAccount's UUID for the person), ``sid``
    (its session id, if sent) and every verified claim (``iss``, ``aud``, ``exp``, ...)."""

    sub: uuid.UUID
    sid: str | None
    claims: dict[str, Any] = field(repr=False)
