"""``config.payload``: CSV files whose rows feed virtual users' vars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfgate.config import Located, child_path, describe_kind
from perfgate.script._csv import CSV_OPTIONS, CsvError, CsvOptions, normalise_option, parse_csv
from perfgate.script._values import as_bool, as_number, as_str
from perfgate.script.model import Payload

__all__ = ["parse_payloads"]

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
    "options",
)
_MAX_BYTES = 512 * 1024 * 1024


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
    skip_header = (
        as_bool(doc, spec["skipHeader"], child_path(path, "skipHeader"))
        if "skipHeader" in spec
        else False
    )
    # Artillery: {skip_empty_lines, cast, from_line, delimiter} overlaid by `options`.
    csv_options = CsvOptions(
        delimiter=delimiter,
        cast=as_bool(doc, spec["cast"], child_path(path, "cast")) if "cast" in spec else True,
        from_line=2 if skip_header else 1,
        skip_empty_lines=as_bool(doc, spec["skipEmptyLines"], child_path(path, "skipEmptyLines"))
        if "skipEmptyLines" in spec
        else True,
    )
    _apply_options(doc, spec.get("options"), child_path(path, "options"), csv_options)
    delimiter = csv_options.delimiter
    cast = csv_options.cast
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
        rows = parse_csv(text, csv_options)
    except CsvError as exc:
        raise doc.error(child_path(path, "path"), f"invalid CSV in {file}: {exc}") from None
    if load_all and not fields and rows:
        fields = [str(c) for c in rows[0]]
        rows = rows[1:]
    if not rows:
        doc.warn(child_path(path, "path"), f"payload file {file.name} has no rows")
    return Payload(path=file, fields=fields, order=order, skip_header=skip_header, delimiter=delimiter,
                   cast=cast, load_all=load_all, name=name, rows=rows)  # fmt: skip


def _apply_options(doc: Located, value: Any, path: str, out: CsvOptions) -> None:
    """``payload.options``: csv-parse options (camelCase or snake_case)."""
    options = doc.expect_mapping(value, path)
    for key, raw in options.items():
        kpath = child_path(path, str(key))
        name = normalise_option(str(key))
        kind = CSV_OPTIONS.get(name)
        if kind is None:
            doc.warn(kpath, f"csv-parse option '{key}' is not supported by perfgate and is ignored")
            continue
        if kind == "bool":
            flag = as_bool(doc, raw, kpath)
            if name == "trim":
                out.ltrim = out.rtrim = flag
            elif name in ("cast", "skip_empty_lines", "ltrim", "rtrim", "relax_column_count"):
                setattr(out, name, flag)
            continue  # bom: a BOM is always dropped
        if kind == "int":
            number = int(as_number(doc, raw, kpath, minimum=1, integer=True))
            attr = {"from": "from_record", "to": "to_record"}.get(name, name)
            setattr(out, attr, number)
            continue
        if raw is None or raw is False:
            if name == "quote":
                out.quote = None
            continue
        if not isinstance(raw, str) or not raw:
            raise doc.error(kpath, f"expected a non-empty string, got {describe_kind(raw)}")
        if name == "encoding":
            if raw.lower().replace("-", "") not in ("utf8",):
                doc.warn(kpath, f"encoding '{raw}' is ignored: perfgate reads payloads as UTF-8")
            continue
        setattr(out, name, raw)


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
