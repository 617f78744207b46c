"""Benchmark of this collection against other registry clients; run it with `make bench`."""
