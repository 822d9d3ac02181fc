"""Stand-ins for the remote systems of API.md §3: the results system and the payroll system.

Each is a small separate process with its own SQLite database, written with the standard
library only (no Django), so it behaves like a foreign system: it knows nothing of
Harmonie's models and answers over HTTP only.
"""
