"""The testing kit (scotaccount_django_testing) on its own: the fake and its fixture."""
