"""The load engine: scheduler, virtual users, transport, metrics recording."""
