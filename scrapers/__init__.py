"""Pure parsers: bytes in, typed records and rejects out.

Nothing in this package may import Django or ``apps``; ``lint-imports`` checks
that rule in CI. ``http.py`` is the only module that touches the network.
"""
