"""A record of every request the fake received and how each rule judged it.

Tests assert on it: "the token request carried a fresh ``jti``", "the
assertion's ``aud`` was the attributes URL", "the code was refused as reused".
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn, overload


@dataclass(frozen=True)
class RuleResult:
    """One check: its name (``assertion.aud``), whether it passed, and why."""

    rule: str
    passed: bool
    detail: str = ""


class Refusal(Exception):
    """Raised by a handler when a rule fails; carries the rule's name for the journal."""

    def __init__(self, rule: str, detail: str = "") -> None:
        super().__init__(f"{rule}: {detail}" if detail else rule)
        self.rule = rule
        self.detail = detail


@dataclass
class JournalEntry:
    """One request and what the fake did with it."""

    endpoint: str
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    timestamp: int
    client_assertion: dict[str, Any] | None = None
    pkce: dict[str, str] = field(default_factory=dict)
    rules: list[RuleResult] = field(default_factory=list)
    fault: str | None = None
    status: int | None = None
    outcome: str = ""
    issued: dict[str, Any] = field(default_factory=dict)

    def check(self, rule: str, passed: bool, detail: str = "") -> None:
        """Record a rule; raise :class:`Refusal` if it failed."""
        if not passed:
            self.fail(rule, detail)
        self.rules.append(RuleResult(rule, passed, detail))

    def fail(self, rule: str, detail: str = "") -> NoReturn:
        """Record a failed rule and raise :class:`Refusal`."""
        self.rules.append(RuleResult(rule, False, detail))
        raise Refusal(rule, detail)

    def note(self, rule: str, passed: bool, detail: str = "") -> None:
        """Record a rule that does not stop the request (lax mode, tolerated expiry)."""
        self.rules.append(RuleResult(rule, passed, detail))

    @property
    def failed_rules(self) -> list[str]:
        return [result.rule for result in self.rules if not result.passed]

    @property
    def passed_rules(self) -> list[str]:
        return [result.rule for result in self.rules if result.passed]


#: Entries a journal keeps: the newest win, so a long run (a benchmark, a demo left
#: running) neither grows without bound nor slows down. Far more than any test makes.
JOURNAL_SIZE = 1000


class Journal:
    """List-like and thread-safe: every server thread appends, the test reads.

    Keeps the newest ``JOURNAL_SIZE`` entries (``maxlen`` to change it).
    """

    def __init__(self, maxlen: int = JOURNAL_SIZE) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        with self._lock:
            return iter(list(self._entries))

    @overload
    def __getitem__(self, index: int) -> JournalEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[JournalEntry]: ...
    def __getitem__(self, index: int | slice) -> JournalEntry | list[JournalEntry]:
        with self._lock:
            if isinstance(index, slice):
                return list(self._entries)[index]
            return self._entries[index]

    def for_endpoint(self, endpoint: str) -> list[JournalEntry]:
        """Entries for one endpoint (``"token"``, ``"attributes"``, ...), oldest first."""
        return [entry for entry in self if entry.endpoint == endpoint]

    def last(self, endpoint: str | None = None) -> JournalEntry:
        """The most recent entry, optionally for one endpoint."""
        with self._lock:
            for entry in reversed(self._entries):
                if endpoint is None or entry.endpoint == endpoint:
                    return entry
        raise LookupError(f"No journal entry for {endpoint or 'any endpoint'}.")

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
