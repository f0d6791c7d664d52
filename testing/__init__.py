"""Not shipped: makes the kit's tests importable as ``testing.tests`` next to ``tests``."""
