"""Django system checks for ScotAccount configuration (filled in with the sign-in work)."""
