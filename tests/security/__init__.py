"""SECURITY catalogue: named tests per id, fuzzing, concurrency, no personal data in logs."""
