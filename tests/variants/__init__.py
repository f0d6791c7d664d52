"""The documented ScotAccount variants, end to end and as settings."""
