"""The demo API's SQLite database: schema, first-start seeding, queries.

Queries run on the event loop thread over one connection. Every query the
API serves is an indexed lookup or a short range scan (tens of microseconds
on a warm page cache), so a hop to a thread pool would cost more than the
query itself and add GIL contention; the one slow operation, password
hashing, is the one that goes off the loop (see auth.py).

Seeding is deterministic (a fixed random seed) so that two copies of the
API — base and candidate in an A/B run — serve identical data.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfgate.errors import ConfigError

__all__ = [
    "BOUNTY_STATUSES",
    "SCHEMA_VERSION",
    "SEED_BOUNTIES",
    "SEED_USERS",
    "DemoDB",
    "SeedUser",
    "check_database",
    "open_db",
]

SCHEMA_VERSION = "1"
SEED_BOUNTIES = 5_000
BOUNTY_STATUSES: tuple[str, ...] = ("open", "in_progress", "completed", "cancelled")
_TRANSACTIONS_PER_USER = 60
_NOTIFICATIONS_PER_USER = 80
_RANDOM_SEED = 20240607


@dataclass(frozen=True)
class SeedUser:
    email: str
    password: str
    name: str
    role: str


#: The seeded accounts. Demo credentials, documented in docs/demo-api.md.
SEED_USERS: tuple[SeedUser, ...] = (
    SeedUser("test1@example.com", "TestPassword123!", "Test User 1", "user"),
    SeedUser("test2@example.com", "TestPassword123!", "Test User 2", "user"),
    SeedUser("test3@example.com", "TestPassword123!", "Test User 3", "user"),
    SeedUser("admin@example.com", "AdminPassword123!", "Demo Admin", "admin"),
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bounties (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    reward_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    creator_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bounties_status_id ON bounties(status, id);
CREATE INDEX IF NOT EXISTS bounties_creator ON bounties(creator_id);
CREATE TABLE IF NOT EXISTS wallets (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    balance_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount_cents INTEGER NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_user_id ON transactions(user_id, id);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    message TEXT NOT NULL,
    read INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_user_id ON notifications(user_id, id);
CREATE INDEX IF NOT EXISTS notifications_user_read ON notifications(user_id, read);
CREATE TABLE IF NOT EXISTS payment_intents (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_intents_user ON payment_intents(user_id, id);
"""

_WORDS: tuple[str, ...] = (
    "fix",
    "login",
    "redirect",
    "cache",
    "layer",
    "add",
    "dark",
    "mode",
    "flaky",
    "test",
    "migrate",
    "schema",
    "speed",
    "up",
    "search",
    "index",
    "payment",
    "webhook",
    "retry",
    "export",
    "csv",
    "audit",
    "log",
    "rate",
    "limiter",
    "docs",
    "typo",
    "memory",
    "leak",
    "worker",
    "pool",
    "image",
    "resize",
    "i18n",
    "strings",
    "accessibility",
    "keyboard",
    "nav",
)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class DemoDB:
    """One SQLite connection and the queries the API serves."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    # -- meta and users ----------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def user_by_email(self, email: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE email = ?", (email.lower(),))

    def user_by_id(self, user_id: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE id = ?", (user_id,))

    # -- bounties ----------------------------------------------------------
    def bounty(self, bounty_id: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM bounties WHERE id = ?", (bounty_id,))

    def bounties(self, limit: int, after_id: int, status: str | None) -> list[sqlite3.Row]:
        """Bounties with id > after_id in id order (keyset pagination)."""
        if status is None:
            sql = "SELECT * FROM bounties WHERE id > ? ORDER BY id LIMIT ?"
            return self._all(sql, (after_id, limit))
        sql = "SELECT * FROM bounties WHERE status = ? AND id > ? ORDER BY id LIMIT ?"
        return self._all(sql, (status, after_id, limit))

    def bounty_counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, count(*) AS n FROM bounties GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    def bounty_rewards(self) -> dict[str, int]:
        row = self._one(
            "SELECT count(*) AS n, coalesce(sum(reward_cents), 0) AS total FROM bounties"
        )
        assert row is not None
        n, total = int(row["n"]), int(row["total"])
        return {"totalCents": total, "averageCents": total // n if n else 0}

    # -- wallets, transactions, notifications ------------------------------
    def wallet(self, user_id: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM wallets WHERE user_id = ?", (user_id,))

    def transactions(self, user_id: int, limit: int, after_id: int) -> list[sqlite3.Row]:
        sql = "SELECT * FROM transactions WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?"
        return self._all(sql, (user_id, after_id, limit))

    def notifications(self, user_id: int, limit: int, after_id: int) -> list[sqlite3.Row]:
        sql = "SELECT * FROM notifications WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?"
        return self._all(sql, (user_id, after_id, limit))

    def unread_count(self, user_id: int) -> int:
        sql = "SELECT count(*) AS n FROM notifications WHERE user_id = ? AND read = 0"
        row = self._one(sql, (user_id,))
        return 0 if row is None else int(row["n"])

    # -- payment intents ---------------------------------------------------
    def create_payment_intent(
        self, user_id: int, amount_cents: int, currency: str
    ) -> dict[str, Any]:
        public_id = "pi_" + os.urandom(12).hex()
        created = _iso(time.time())
        # Autocommit connection: one INSERT is its own transaction.
        cur = self.conn.execute(
            "INSERT INTO payment_intents (public_id, user_id, amount_cents, currency,"
            " status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (public_id, user_id, amount_cents, currency, "requires_confirmation", created),
        )
        return {
            "id": public_id,
            "seq": cur.lastrowid,
            "amountCents": amount_cents,
            "currency": currency,
            "status": "requires_confirmation",
            "createdAt": created,
        }

    def payment_intent(self, public_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM payment_intents WHERE public_id = ?", (public_id,))

    def count(self, table: str) -> int:
        if table not in {"users", "bounties", "payment_intents", "transactions", "notifications"}:
            raise ValueError(f"unknown table {table!r}")
        row = self._one(f"SELECT count(*) AS n FROM {table}")
        return 0 if row is None else int(row["n"])


def check_database(path: Path) -> None:
    """Open the file read-only and run a query: raises sqlite3.Error if unusable.

    A fresh connection (not the serving one) so that a deleted, replaced or
    corrupted file is noticed; costs about 0.1 ms.
    """
    if not path.is_file():
        raise sqlite3.OperationalError(f"database file {path} is missing")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    try:
        conn.execute("SELECT id FROM bounties LIMIT 1").fetchall()
    finally:
        conn.close()


def _seed(conn: sqlite3.Connection, hash_password: Callable[[str], str]) -> None:
    rng = random.Random(_RANDOM_SEED)
    base = 1_700_000_000.0  # fixed epoch: identical data in every copy
    users = [
        (i + 1, u.email, u.name, u.role, hash_password(u.password), _iso(base))
        for i, u in enumerate(SEED_USERS)
    ]
    conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)", users)
    user_ids = [u[0] for u in users]
    bounties = []
    for i in range(1, SEED_BOUNTIES + 1):
        title = " ".join(rng.choice(_WORDS) for _ in range(4)).capitalize()
        bounties.append(
            (
                i,
                title,
                f"{title}. Details for bounty {i}.",
                rng.randrange(500, 500_000, 50),
                "usd",
                rng.choices(BOUNTY_STATUSES, weights=(50, 20, 25, 5))[0],
                rng.choice(user_ids),
                _iso(base + i * 60),
            )
        )
    conn.executemany("INSERT INTO bounties VALUES (?, ?, ?, ?, ?, ?, ?, ?)", bounties)
    wallets, txs, notes = [], [], []
    for uid in user_ids:
        balance = 0
        for k in range(_TRANSACTIONS_PER_USER):
            amount = rng.randrange(-20_000, 50_000, 100)
            balance += amount
            kind = "credit" if amount >= 0 else "debit"
            txs.append((uid, amount, kind, f"{kind} #{k + 1}", _iso(base + k * 3600)))
        wallets.append((uid, max(balance, 0), "usd", _iso(base)))
        for k in range(_NOTIFICATIONS_PER_USER):
            msg = f"Bounty {rng.randrange(1, SEED_BOUNTIES + 1)} was updated"
            notes.append((uid, msg, int(rng.random() < 0.7), _iso(base + k * 600)))
    conn.executemany("INSERT INTO wallets VALUES (?, ?, ?, ?)", wallets)
    conn.executemany(
        "INSERT INTO transactions (user_id, amount_cents, kind, description, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        txs,
    )
    conn.executemany(
        "INSERT INTO notifications (user_id, message, read, created_at) VALUES (?, ?, ?, ?)",
        notes,
    )
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("schema_version", SCHEMA_VERSION),
            ("token_secret", os.urandom(32).hex()),
            ("seeded_at", _iso(time.time())),
        ],
    )


def open_db(path: Path, hash_password: Callable[[str], str]) -> tuple[DemoDB, bool]:
    """Open (creating and seeding on first start) the demo database.

    Returns the database and whether this call seeded it. Raises ConfigError
    when the file exists but is not a demo database of this schema version.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # WAL + NORMAL: commits (payment intents) cost no fsync; safe for a demo.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")  # two first starts on one file: one seeds
        try:
            # Statement by statement: executescript() would commit the transaction.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            seeded = row is None
            if seeded:
                _seed(conn, hash_password)
            elif row[0] != SCHEMA_VERSION:
                raise ConfigError(
                    f"database has schema version {row[0]}, this perfgate needs {SCHEMA_VERSION}",
                    file=str(path),
                    key_path="--db",
                    suggestion="delete the file to re-seed it",
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise ConfigError(
            f"cannot use demo database: {exc}", file=str(path), key_path="--db"
        ) from exc
    return DemoDB(conn, path), seeded
