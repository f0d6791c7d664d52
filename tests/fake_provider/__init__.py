"""The fake ScotAccount (scotaccount_django.testing) on its own."""
