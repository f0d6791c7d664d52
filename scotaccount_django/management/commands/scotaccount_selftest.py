"""``manage.py scotaccount_selftest``: our hostile scenarios against this project, from the kit."""

from scotaccount_django.management.kit import kit_command

Command = kit_command("scotaccount_django_testing.selftest.command")
