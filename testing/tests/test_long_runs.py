"""The fake stays correct and cheap over long runs: replay memory by expiry, a bounded journal."""

from __future__ import annotations

from scotaccount_django_testing.fake.assertions import JtiRegistry
from scotaccount_django_testing.fake.journal import Journal, JournalEntry


def entry(endpoint: str) -> JournalEntry:
    return JournalEntry(endpoint, "GET", "/", {}, {}, timestamp=0)


def test_a_replayed_jti_is_refused_while_its_assertion_lives():
    jtis = JtiRegistry()
    assert jtis.first_use("client", "jti-1", expires=100, now=0)
    assert not jtis.first_use("client", "jti-1", expires=100, now=50)
    assert not jtis.first_use("client", "jti-1", expires=100, now=100)


def test_the_same_jti_from_another_client_is_not_a_replay():
    jtis = JtiRegistry()
    assert jtis.first_use("client", "jti-1", expires=100, now=0)
    assert jtis.first_use("other-client", "jti-1", expires=100, now=0)


def test_expired_jtis_are_forgotten_oldest_first():
    jtis = JtiRegistry()
    for number in range(1000):
        assert jtis.first_use("client", f"jti-{number}", expires=number, now=0)
    jtis.first_use("client", "fresh", expires=5000, now=500)
    # Entries expiring before 500 are gone; the rest (and the fresh one) are kept.
    assert len(jtis) == 501
    assert not jtis.first_use("client", "jti-999", expires=999, now=500)


def test_the_journal_keeps_only_the_newest_entries():
    journal = Journal(maxlen=3)
    for endpoint in ["authorize", "token", "jwks", "token", "attributes"]:
        journal.append(entry(endpoint))
    assert [item.endpoint for item in journal] == ["jwks", "token", "attributes"]
    assert journal.last("token") is journal[1]
    assert [item.endpoint for item in journal[1:]] == ["token", "attributes"]
