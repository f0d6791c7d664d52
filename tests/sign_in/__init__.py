"""Signing in: flows and one-time state, ID tokens, the backend, next."""
