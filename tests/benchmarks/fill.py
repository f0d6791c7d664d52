"""Bulk rows for the scale figures: people, identities, sessions and attributes.

Rows are made by the database itself (one ``INSERT ... SELECT`` per table over a
number series), so a million of each takes seconds rather than hours. Two thirds
of attributes, attribute requests and session records are past their
retention, so the purge has a realistic backlog to delete.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import connection, transaction

from scotaccount_django.models import (
    AttributeRequest,
    ScotAccountIdentity,
    ScotAccountSession,
    VerifiedAttribute,
)

POSTGRES = {
    "series": "WITH s(g) AS (SELECT generate_series({first}, {last}))",
    "uuid": "md5(g::text)::uuid",
    "hash": "md5(g::text) || md5(g::text)",
    "key": "'bench' || lpad(g::text, 35, '0')",
    "now": "now()",
    "ago": "now() - interval '400 days'",
    "later": "now() + interval '1 day'",
}
SQLITE = {
    "series": (
        "WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last})"
    ),
    "uuid": "printf('%032x', g)",
    "hash": "printf('%064x', g)",
    "key": "printf('bench%035d', g)",
    "now": "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "ago": "strftime('%Y-%m-%d %H:%M:%f', 'now', '-400 days')",
    "later": "strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 day')",
}
#: Past retention for two rows in three, so the purge has a backlog.
OLD = "CASE WHEN g % 3 = 0 THEN {now} ELSE {ago} END"

STATEMENTS = [
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
        is_staff, is_active, date_joined)
       {series} SELECT '!', false, 'bench-' || g, 'bench', '', '', false, true, {now} FROM s""",
    """INSERT INTO {identity} (user_id, issuer, sub, first_seen, last_seen)
       {series} SELECT u.id, 'https://bench.invalid', {uuid}, {now}, {now}
       FROM s JOIN auth_user u ON u.username = 'bench-' || g""",
    """INSERT INTO {session} (session_key, session_data, expire_date)
       {series} SELECT {key}, 'e30', {later} FROM s""",
    """INSERT INTO {registry} (issuer, sid_hash, session_key, user_id, created_at)
       {series} SELECT 'https://bench.invalid', {hash}, {key}, u.id, {old}
       FROM s JOIN auth_user u ON u.username = 'bench-' || g""",
    """INSERT INTO {request} (identity_id, requested_scopes, received_scopes, missing_scopes,
        status, created_at, completed_at)
       {series} SELECT i.id, '[]', '[]', '{{}}', 'completed', {old}, {old}
       FROM s JOIN auth_user u ON u.username = 'bench-' || g
       JOIN {identity} i ON i.user_id = u.id""",
    """INSERT INTO {attribute} (identity_id, scope, claims, outcome, trust_framework,
        assurance_policy, confidence_level, validation_method, verified_at,
        verifier_organization, txn, received_at)
       {series} SELECT i.id, 'scotaccount.email', '{{}}', 'VERIFIED_SUCCESSFULLY', 'uk_tfida',
        '', '', '', {old}, 'bench', {uuid}, {old}
       FROM s JOIN auth_user u ON u.username = 'bench-' || g
       JOIN {identity} i ON i.user_id = u.id""",
]


def fill(first: int, last: int) -> None:
    """Add rows numbered ``first``..``last`` (inclusive) to every table."""
    if last < first:
        return
    dialect = POSTGRES if connection.vendor == "postgresql" else SQLITE
    names = {
        "identity": ScotAccountIdentity._meta.db_table,
        "session": Session._meta.db_table,
        "registry": ScotAccountSession._meta.db_table,
        "request": AttributeRequest._meta.db_table,
        "attribute": VerifiedAttribute._meta.db_table,
    }
    values = {**dialect, "old": OLD.format(**dialect)}
    values["series"] = dialect["series"].format(first=first, last=last)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in STATEMENTS:
            cursor.execute(statement.format(**names, **values))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
