"""Verified attributes: step-up, claims tokens, accessors, decorators."""
