"""``perfgate demo-api``: serve the seed's bounty API (aiohttp + SQLite)."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from perfgate.errors import ConfigError

T = TypeVar("T")

_EPILOG = """\
examples:
  perfgate demo-api                                  # http://127.0.0.1:3001
  perfgate demo-api --port 3002 --db ./cand.sqlite   # a second copy beside it
  perfgate demo-api --latency-ms 40 --route /api/bounties
  perfgate demo-api --cpu-us 500                     # a real CPU regression
  perfgate demo-api --latency-ms 30 --tail-fraction 0.03 --route /api/bounties   # a tail
  perfgate demo-api --serialize-ms 2                 # a lock that halves capacity
  perfgate demo-api --cpu-us 2000 --route /api/bounties --serialize-ms 2 --serialize-route /
  PERFGATE_DEMO_ERROR_RATE=0.05 perfgate demo-api    # 5% of responses are 500s

Every fault flag also reads PERFGATE_DEMO_<FLAG> (e.g. PERFGATE_DEMO_LATENCY_MS,
PERFGATE_DEMO_ROUTE as a comma-separated list); a flag given on the command
line wins. Seeded users: test1..3@example.com / TestPassword123!, and
admin@example.com / AdminPassword123! (demo credentials). See docs/demo-api.md.
"""

# (flag dest, env var, type) of every fault switch.
_FAULT_ENV: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("latency_ms", "PERFGATE_DEMO_LATENCY_MS", float),
    ("jitter_ms", "PERFGATE_DEMO_JITTER_MS", float),
    ("tail_fraction", "PERFGATE_DEMO_TAIL_FRACTION", float),
    ("cpu_us", "PERFGATE_DEMO_CPU_US", int),
    ("serialize_ms", "PERFGATE_DEMO_SERIALIZE_MS", float),
    ("error_rate", "PERFGATE_DEMO_ERROR_RATE", float),
    ("leak_kb", "PERFGATE_DEMO_LEAK_KB", int),
    ("crash_after", "PERFGATE_DEMO_CRASH_AFTER", int),
)


def default_db_path(port: int) -> Path:
    """One file per port in the temp dir: a restart on the same port reuses
    it, and two copies on two ports never share a database."""
    return Path(tempfile.gettempdir()) / f"perfgate-demo-{port}.sqlite"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "demo-api",
        help="serve the bundled demo API (the seed's backend) with fault switches",
        description="Serve the seed's bounty API over a real SQLite file, "
        "created and seeded on first start.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=3001, help="TCP port (default: %(default)s)")
    p.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file (default: <tempdir>/perfgate-demo-<port>.sqlite)",
    )
    f = p.add_argument_group("fault switches (off by default)")
    f.add_argument("--latency-ms", type=float, metavar="X", help="add X ms of asynchronous delay")
    f.add_argument("--jitter-ms", type=float, metavar="Y", help="plus a uniform 0..Y ms")
    f.add_argument(
        "--tail-fraction",
        type=float,
        metavar="F",
        help="apply --latency-ms/--jitter-ms to a random share F of requests only (a tail regression)",
    )
    f.add_argument("--cpu-us", type=int, metavar="N", help="busy CPU work of N µs per request")
    f.add_argument(
        "--serialize-ms",
        type=float,
        metavar="MS",
        help="hold one global lock across an MS-ms await per request (caps throughput at 1000/MS req/s)",
    )
    f.add_argument(
        "--route",
        action="append",
        metavar="PATH",
        help="limit latency/CPU/serialize faults to this path prefix (repeatable)",
    )
    f.add_argument(
        "--serialize-route",
        action="append",
        metavar="PATH",
        help="the lock's own path prefixes instead of --route ('/' for every route; repeatable)",
    )
    f.add_argument(
        "--error-rate", type=float, metavar="R", help="answer a share R of requests with 500"
    )
    f.add_argument("--leak-kb", type=int, metavar="K", help="retain K KiB per request, never freed")
    f.add_argument("--crash-after", type=int, metavar="N", help="exit (code 3) after N requests")
    p.set_defaults(func=run)


def _from_env(name: str, convert: Callable[[str], T], environ: dict[str, str]) -> T | None:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return convert(raw.strip())
    except ValueError:
        raise ConfigError(f"not a valid {convert.__name__}: {raw!r}", key_path=name) from None


def fault_settings(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, Any]:
    """FaultConfig keyword arguments: each flag, else its env var, else off."""
    out: dict[str, Any] = {}
    for dest, env, convert in _FAULT_ENV:
        value = getattr(args, dest)
        if value is None:
            value = _from_env(env, convert, environ)
        if value is not None:
            out[dest] = value
    for dest, env in (
        ("route", "PERFGATE_DEMO_ROUTE"),
        ("serialize_route", "PERFGATE_DEMO_SERIALIZE_ROUTE"),
    ):
        routes = getattr(args, dest)
        if routes is None:
            raw = environ.get(env, "")
            routes = [r.strip() for r in raw.split(",") if r.strip()]
        out[f"{dest}s"] = tuple(routes)
    return out


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import sys

    from perfgate.demo import FaultConfig, serve

    try:
        faults = FaultConfig(**fault_settings(args, dict(os.environ)))
    except ValueError as exc:
        raise ConfigError(str(exc), key_path="demo-api fault switches") from None
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"port must be 0..65535, got {args.port}", key_path="--port")
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="perfgate demo-api: %(message)s"
    )
    db = args.db if args.db is not None else default_db_path(args.port)

    def announce(line: str) -> None:
        print(line, flush=True)

    return asyncio.run(serve(args.host, args.port, db, faults, announce=announce))
