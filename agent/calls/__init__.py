"""The Space calls of a run: sessions holding the clients, cache, journal, fan-out,
re-calls, roles."""
