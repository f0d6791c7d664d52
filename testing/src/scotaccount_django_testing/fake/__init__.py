"""The fake ScotAccount provider: see :class:`FakeScotAccount` and ``docs/testing.md``."""

from scotaccount_django_testing.fake.browser import FakeProviderError
from scotaccount_django_testing.fake.journal import JournalEntry, RuleResult
from scotaccount_django_testing.fake.keys import KeyState
from scotaccount_django_testing.fake.personas import DEFAULT_PERSONA, PERSONAS, Persona
from scotaccount_django_testing.fake.provider import FakeScotAccount
from scotaccount_django_testing.fake.scenarios import FAULTS, FaultSpec

__all__ = [
    "DEFAULT_PERSONA",
    "FAULTS",
    "PERSONAS",
    "FakeProviderError",
    "FakeScotAccount",
    "FaultSpec",
    "JournalEntry",
    "KeyState",
    "Persona",
    "RuleResult",
]
