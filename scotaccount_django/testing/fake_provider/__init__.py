"""The fake ScotAccount provider: see :class:`FakeScotAccount` and ``docs/testing.md``."""

from scotaccount_django.testing.fake_provider.browser import FakeProviderError
from scotaccount_django.testing.fake_provider.journal import JournalEntry, RuleResult
from scotaccount_django.testing.fake_provider.keys import KeyState
from scotaccount_django.testing.fake_provider.personas import DEFAULT_PERSONA, PERSONAS, Persona
from scotaccount_django.testing.fake_provider.provider import FakeScotAccount
from scotaccount_django.testing.fake_provider.scenarios import FAULTS, FaultSpec

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
