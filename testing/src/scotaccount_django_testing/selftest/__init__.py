"""``manage.py scotaccount_selftest``: our hostile scenarios, run against a council's project.

:func:`run_checks` runs every :data:`CHECKS` entry in-process against the
configured project and returns one :class:`Result` each; :func:`table` and
:func:`markdown` present them. The core's management command calls these.
"""

from scotaccount_django_testing.selftest.checks import CHECKS, Check
from scotaccount_django_testing.selftest.report import Result, markdown, run_checks, table

__all__ = ["CHECKS", "Check", "Result", "markdown", "run_checks", "table"]
