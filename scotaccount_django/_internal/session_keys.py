"""Keys this app stores in ``request.session``. Each constant says who reads it."""

from __future__ import annotations

#: The raw ID token of this sign-in; read by logout as ``id_token_hint``.
ID_TOKEN = "_scotaccount_id_token"  # noqa: S105 - a key name, not a secret
#: ScotAccount's session id (``sid``); read by front-channel logout.
SID = "_scotaccount_sid"
#: The person's ``sub`` (str); read by step-up flows and session checks.
SUB = "_scotaccount_sub"
#: Server time of sign-in (POSIX seconds); read by the session lifetime middleware.
SIGNED_IN_AT = "_scotaccount_signed_in_at"
