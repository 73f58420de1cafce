"""The seed's bounty API as a bundled demo (aiohttp + SQLite) with fault switches.

``perfgate demo-api`` serves it; tests and ``perfgate demo`` start it as a
subprocess. Nothing here runs at import.
"""

from perfgate.demo.app import create_app, serve
from perfgate.demo.faults import FaultConfig

__all__ = ["FaultConfig", "create_app", "serve"]
