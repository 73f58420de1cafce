"""The API under test: its spec, how to run it, sample it, probe it and watch it."""
