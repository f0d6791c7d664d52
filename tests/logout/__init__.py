"""Signing out: RP-initiated and front-channel logout."""
