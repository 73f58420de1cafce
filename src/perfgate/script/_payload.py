"""``config.payload``: CSV files whose rows feed virtual users' vars."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from perfgate.config import Located, child_path
from perfgate.script._values import as_bool, as_str
from perfgate.script.model import Payload

__all__ = ["cast_cell", "parse_payloads", "read_csv_rows"]

PAYLOAD_KEYS = (
    "path",
    "fields",
    "order",
    "skipHeader",
    "delimiter",
    "cast",
    "loadAll",
    "name",
    "skipEmptyLines",
)
_MAX_BYTES = 512 * 1024 * 1024


def cast_cell(cell: str) -> Any:
    """csv-parse's ``cast``: integers and decimals become numbers; the rest stays text."""
    text = cell.strip()
    if not text:
        return cell
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return cell
    return number if text.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity") else cell


def read_csv_rows(
    text: str, delimiter: str, skip_header: bool, cast: bool, skip_empty: bool
) -> list[list[Any]]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if skip_header and rows:
        rows = rows[1:]
    if skip_empty:
        rows = [r for r in rows if any(c.strip() for c in r)]
    if cast:
        return [[cast_cell(c) for c in r] for r in rows]
    return [list(r) for r in rows]


def _one(doc: Located, raw: Any, path: str, base_dir: Path) -> Payload:
    spec = doc.expect_mapping(raw, path)
    doc.check_keys(spec, path, PAYLOAD_KEYS, strict=False)
    if "path" not in spec:
        raise doc.error(path, "'path' is required")
    rel = as_str(doc, spec["path"], child_path(path, "path"))
    file = Path(rel) if Path(rel).is_absolute() else base_dir / rel
    fields = [as_str(doc, f, child_path(child_path(path, "fields"), i))
              for i, f in enumerate(doc.expect_list(spec.get("fields"), child_path(path, "fields")))]  # fmt: skip
    load_all = (
        as_bool(doc, spec["loadAll"], child_path(path, "loadAll")) if "loadAll" in spec else False
    )
    name = (
        as_str(doc, spec["name"], child_path(path, "name"))
        if spec.get("name") is not None
        else None
    )
    if load_all and name is None:
        raise doc.error(path, "'loadAll' needs 'name' (the variable that holds the rows)")
    if not fields and not load_all:
        raise doc.error(path, "'fields' is required (the variable name of each column)")
    order = spec.get("order", "random")
    if order not in ("random", "sequence"):
        raise doc.error(
            child_path(path, "order"), f"expected 'random' or 'sequence', got {order!r}"
        )
    delimiter = as_str(doc, spec.get("delimiter", ","), child_path(path, "delimiter"))
    if len(delimiter) != 1:
        raise doc.error(child_path(path, "delimiter"), f"must be one character, got {delimiter!r}")
    skip_header = (
        as_bool(doc, spec["skipHeader"], child_path(path, "skipHeader"))
        if "skipHeader" in spec
        else False
    )
    cast = as_bool(doc, spec["cast"], child_path(path, "cast")) if "cast" in spec else True
    skip_empty = (
        as_bool(doc, spec["skipEmptyLines"], child_path(path, "skipEmptyLines"))
        if "skipEmptyLines" in spec
        else True
    )
    try:
        if file.stat().st_size > _MAX_BYTES:
            raise doc.error(child_path(path, "path"), f"{file} is larger than 512 MB")
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise doc.error(child_path(path, "path"), f"payload file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise doc.error(
            child_path(path, "path"), f"cannot read payload file {file}: {exc}"
        ) from None
    try:
        rows = read_csv_rows(text, delimiter, skip_header, cast, skip_empty)
    except csv.Error as exc:
        raise doc.error(child_path(path, "path"), f"invalid CSV in {file}: {exc}") from None
    if load_all and not fields and rows:
        fields = [str(c) for c in rows[0]]
        rows = rows[1:]
    if not rows:
        doc.warn(child_path(path, "path"), f"payload file {file.name} has no rows")
    return Payload(path=file, fields=fields, order=order, skip_header=skip_header, delimiter=delimiter,
                   cast=cast, load_all=load_all, name=name, rows=rows)  # fmt: skip


def parse_payloads(doc: Located, value: Any, base_dir: Path) -> list[Payload]:
    """One payload mapping or a list of them."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [_one(doc, value, "config.payload", base_dir)]
    items = doc.expect_list(value, "config.payload")
    return [
        _one(doc, raw, child_path("config.payload", i), base_dir) for i, raw in enumerate(items)
    ]
