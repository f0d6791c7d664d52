"""Test helpers for relying parties: a faithful fake ScotAccount and its pytest fixture.

Importable without Django settings; only the pytest plugin touches Django.
"""

from scotaccount_django.testing.fake_provider import (
    DEFAULT_PERSONA,
    FAULTS,
    PERSONAS,
    FakeProviderError,
    FakeScotAccount,
    FaultSpec,
    JournalEntry,
    KeyState,
    Persona,
    RuleResult,
)

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
