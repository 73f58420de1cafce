"""A small shop API that is not the demo: stdlib ``ThreadingHTTPServer`` over SQLite.

Another framework (blocking threads, not aiohttp) and another traffic mix:
a cheap, frequent product page beside a costly, rare search. The gate's
verdict tests change one constant per branch, as a real change would:

- ``PRODUCT_EXTRA_QUERIES``: queries the product page runs besides its own
  (the field case: "adds one query to one endpoint");
- ``SEARCH_FAIL_RATE``: share of searches answered 500.

Run: ``python shop_api.py PORT DB_PATH``.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PRODUCT_EXTRA_QUERIES = 0
SEARCH_FAIL_RATE = 0.0
PRODUCTS = 3000

_local = threading.local()
_rng = random.Random()


def _db(path: str) -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, check_same_thread=False)
        _local.conn = conn
    return conn


def _seed(path: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS product (id INTEGER PRIMARY KEY, name TEXT, "
        "category INTEGER, price REAL, description TEXT)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, product INTEGER, qty INTEGER)"
    )
    if conn.execute("SELECT COUNT(*) FROM product").fetchone()[0] == 0:
        rng = random.Random(7)
        conn.executemany(
            "INSERT INTO product (id, name, category, price, description) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    i,
                    f"product {i}",
                    i % 40,
                    round(rng.uniform(1, 500), 2),
                    "lorem ipsum " * rng.randint(5, 30),
                )
                for i in range(1, PRODUCTS + 1)
            ],
        )
    conn.commit()
    conn.close()


def _product_page(conn: sqlite3.Connection, pid: int) -> dict[str, object] | None:
    row = conn.execute(
        "SELECT id, name, category, price FROM product WHERE id = ?", (pid,)
    ).fetchone()
    if row is None:
        return None
    # "Related products": a scan of the category, the page's real cost.
    related = conn.execute(
        "SELECT id, name, price FROM product WHERE category = ? ORDER BY price LIMIT 8", (row[2],)
    ).fetchall()
    for _ in range(PRODUCT_EXTRA_QUERIES):
        # The regression under test: one more query of the same kind.
        conn.execute(
            "SELECT COUNT(*), AVG(price) FROM product WHERE category = ? AND price > ?",
            (row[2], row[3]),
        ).fetchone()
    return {"id": row[0], "name": row[1], "price": row[3], "related": [r[0] for r in related]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    db_path = ""

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        conn = _db(self.db_path)
        if url.path == "/health":
            self._send(200, {"ok": True})
        elif url.path.startswith("/products/"):
            page = _product_page(conn, int(url.path.rsplit("/", 1)[1] or 0))
            self._send(200 if page else 404, page or {"error": "not found"})
        elif url.path == "/products":
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            rows = conn.execute(
                "SELECT id, name, price FROM product ORDER BY id LIMIT 20 OFFSET ?",
                ((page - 1) * 20,),
            ).fetchall()
            self._send(200, [{"id": r[0], "name": r[1], "price": r[2]} for r in rows])
        elif url.path == "/search":
            if SEARCH_FAIL_RATE and _rng.random() < SEARCH_FAIL_RATE:
                self._send(500, {"error": "search backend unavailable"})
                return
            q = parse_qs(url.query).get("q", [""])[0]
            hits = conn.execute(
                "SELECT COUNT(*) FROM product WHERE description LIKE ? OR name LIKE ?",
                (f"%{q}%", f"%{q}%"),
            ).fetchone()[0]  # a full scan: the costly, rare route
            self._send(200, {"hits": hits})
        else:
            self._send(404, {"error": "no route"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/orders":
            self._send(404, {"error": "no route"})
            return
        conn = _db(self.db_path)
        with conn:
            cur = conn.execute(
                "INSERT INTO orders (product, qty) VALUES (?, ?)",
                (body.get("product", 1), body.get("qty", 1)),
            )
        self._send(201, {"order": cur.lastrowid})


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    _seed(path)
    Handler.db_path = path
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
