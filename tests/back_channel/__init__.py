"""Calls to ScotAccount: HTTP, discovery, JWKS, keys, assertions, faults."""
