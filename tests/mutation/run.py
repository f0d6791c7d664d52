"""``make mutate``: mutmut over the security-critical code, in a copy of the tree.

Usage: ``python -m tests.mutation.run --tests "tests/security ..." TARGET...``, where
each TARGET is a mutmut mutant-name glob (``scotaccount_django.admin.*``,
``scotaccount_django._internal.flows.x_safe_next_url*``). The Makefile's
``MUTATE_TARGETS`` holds the list. mutmut runs in ``.mutate/`` (a copy of the
working tree, so the checkout is never mutated) and, for each mutant, only the
selected tests that reach the mutated function. Survivors listed in
``tests/mutation/equivalent.txt`` (name, then the reason) are equivalent and do
not count; every other survivor is printed with its diff. The score is
killed / (mutants - equivalent); below 95% the run fails. Not run in CI.
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".mutate"
EQUIVALENT = Path(__file__).with_name("equivalent.txt")
TARGET_SCORE = 0.95
#: Statements whose wording is not mutated: log calls and the message of a raise. What a log
#: line or an error may carry is tested (SECURITY I3, L7, M4); its wording is not a defence.
WORDING = (r"^\s*logger\.\w+\(", r"^\s*raise \w+\(")
SKIP = shutil.ignore_patterns(".git", ".venv", ".mutate", "_build", "node_modules", "__pycache__")


def module_file(target: str) -> str:
    """``scotaccount_django._internal.flows.x_safe*`` -> ``.../_internal/flows.py``."""
    parts = target.split(".")
    while parts and not (ROOT / Path(*parts)).with_suffix(".py").is_file():
        parts.pop()
    if not parts:
        raise SystemExit(f"no module matches {target!r}")
    return str(Path(*parts).with_suffix(".py"))


def prepare(targets: list[str], tests: list[str]) -> None:
    """A fresh copy of the tree with a mutmut configuration for these targets."""
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(ROOT, WORK, ignore=SKIP, symlinks=True)
    modules = sorted({module_file(target) for target in targets})
    (WORK / "setup.cfg").write_text(
        "[mutmut]\nsource_paths=scotaccount_django\n"
        + "only_mutate=\n"
        + "".join(f"    {module}\n" for module in modules)
        + "do_not_mutate_patterns=\n"
        + "".join(f"    {pattern}\n" for pattern in WORDING)
        + "pytest_add_cli_args=\n    -p\n    no:xdist\n    --no-cov\n    -q\n"
        + "pytest_add_cli_args_test_selection=\n"
        + "".join(f"    {test}\n" for test in tests),
        encoding="utf-8",
    )


def mutmut(*args: str, capture: bool = False) -> str:
    command = [str(Path(sys.executable).with_name("mutmut")), *args]
    done = subprocess.run(command, cwd=WORK, text=True, capture_output=capture, check=False)
    return done.stdout if capture else ""


def equivalents() -> dict[str, str]:
    lines = EQUIVALENT.read_text(encoding="utf-8").splitlines()
    pairs = [line.split(" ", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {pair[0]: pair[-1] for pair in pairs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", required=True, help="space-separated pytest selection")
    parser.add_argument("--no-run", action="store_true", help="report on the last run only")
    parser.add_argument("targets", nargs="+")
    options = parser.parse_args()
    if not options.no_run:
        prepare(options.targets, options.tests.split())
        mutmut("run", *options.targets)
    results = {}
    for line in mutmut("results", "--all", "true", capture=True).splitlines():
        name, _, status = line.strip().rpartition(": ")
        if any(fnmatch.fnmatchcase(name, target) for target in options.targets):
            results[name] = status
    known = equivalents()
    counts = Counter(results.values())
    # An interrupted run leaves mutants "not checked": reported, never counted as either.
    results = {name: status for name, status in results.items() if status != "not checked"}
    equivalent = [name for name, status in results.items() if name in known and status != "killed"]
    survivors = [n for n, s in results.items() if s != "killed" and n not in known]
    for name in survivors:
        print(f"\n--- {results[name]}: {name}")
        print(mutmut("show", name, capture=True))
    counted = len(results) - len(equivalent)
    score = counts["killed"] / counted if counted else 0.0
    print(f"\nmutants: {len(results)} {dict(counts)}; equivalent (explained): {len(equivalent)}")
    print(f"score: {counts['killed']}/{counted} = {score:.1%} of non-equivalent mutants killed")
    return 0 if results and score >= TARGET_SCORE else 1


if __name__ == "__main__":
    sys.exit(main())
