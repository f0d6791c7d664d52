"""``manage.py scotaccount_fake``: the fake ScotAccount, from the testing kit."""

from scotaccount_django.management.kit import kit_command

Command = kit_command("scotaccount_django_testing.fake.django_command")
