"""The local session: lifetime, idle timeout, session checks."""
