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
#: Server time of the last recorded request (POSIX seconds), written at most once
#: a minute; read by the middleware for the idle timeout.
LAST_ACTIVITY = "_scotaccount_last_activity"
#: Server time the middleware first saw a signed-in session that did not come from
#: ScotAccount; read by the middleware when SESSION_LIFETIME_FOR_ALL_USERS is on.
FIRST_SEEN = "_scotaccount_first_seen"
#: SHA-256 of the ``state`` sent with a logout; read (once) by the logged-out view.
LOGOUT_STATE_HASH = "_scotaccount_logout_state_hash"
