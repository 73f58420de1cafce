"""A CSV reader with csv-parse's options (what Artillery reads payloads with).

Artillery 2 parses ``config.payload`` files with csv-parse 4 and the options
``{skip_empty_lines, cast, from_line, delimiter}`` overlaid by the payload's
``options`` mapping (camelCase or snake_case, as csv-parse accepts both).
:class:`CsvOptions` holds the ones perfgate honours; :func:`parse_csv`
reads text with them. Rows of different lengths are an error unless
``relax_column_count`` (csv-parse: "Invalid Record Length").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["CSV_OPTIONS", "CsvError", "CsvOptions", "cast_cell", "normalise_option", "parse_csv"]

#: csv-parse option (snake_case) -> the CsvOptions field and kind.
CSV_OPTIONS: dict[str, str] = {
    "delimiter": "str",
    "quote": "char",
    "escape": "char",
    "cast": "bool",
    "from_line": "int",
    "to_line": "int",
    "from": "int",
    "to": "int",
    "skip_empty_lines": "bool",
    "trim": "bool",
    "ltrim": "bool",
    "rtrim": "bool",
    "comment": "str",
    "relax_column_count": "bool",
    "bom": "bool",
    "encoding": "str",
}


class CsvError(ValueError):
    """The text is not CSV under the given options."""


@dataclass
class CsvOptions:
    delimiter: str = ","
    quote: str | None = '"'
    escape: str = '"'
    cast: bool = True
    from_line: int = 1
    to_line: int | None = None
    skip_empty_lines: bool = True
    ltrim: bool = False
    rtrim: bool = False
    comment: str | None = None
    relax_column_count: bool = False
    from_record: int = 1
    to_record: int | None = None


def normalise_option(key: str) -> str:
    """csv-parse accepts ``fromLine`` for ``from_line``."""
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


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


def _records(text: str, o: CsvOptions) -> list[tuple[int, list[str]]]:
    """(1-based line, fields) for every record, quotes resolved."""
    out: list[tuple[int, list[str]]] = []
    fields: list[str] = []
    cell: list[str] = []
    quoted = False
    in_quotes = False
    line = 1
    start_line = 1
    i, n = 0, len(text)
    delim, quote, escape = o.delimiter, o.quote, o.escape

    def end_field() -> None:
        nonlocal quoted
        value = "".join(cell)
        if not quoted:
            value = value.lstrip() if o.ltrim else value
            value = value.rstrip() if o.rtrim else value
        fields.append(value)
        cell.clear()
        quoted = False

    while i < n:
        ch = text[i]
        if in_quotes:
            if quote and escape != quote and text.startswith(escape + quote, i):
                cell.append(quote)
                i += len(escape) + len(quote)
                continue
            if quote and text.startswith(quote, i):
                if escape == quote and text.startswith(quote, i + len(quote)):
                    cell.append(quote)
                    i += 2 * len(quote)
                    continue
                in_quotes = False
                i += len(quote)
                continue
            if ch == "\n":
                line += 1
            cell.append(ch)
            i += 1
            continue
        if quote and text.startswith(quote, i) and not "".join(cell).strip():
            cell.clear()
            in_quotes = quoted = True
            i += len(quote)
            continue
        if o.comment and not fields and not cell and text.startswith(o.comment, i):
            while i < n and text[i] not in "\r\n":
                i += 1
            continue
        if text.startswith(delim, i):
            end_field()
            i += len(delim)
            continue
        if ch in "\r\n":
            if fields or cell or quoted:
                end_field()
                out.append((start_line, fields))
            else:
                out.append((start_line, []))
            fields = []
            i += 2 if text.startswith("\r\n", i) else 1
            line += 1
            start_line = line
            continue
        cell.append(ch)
        i += 1
    if in_quotes:
        raise CsvError(f"quote not closed (record starting on line {start_line})")
    if fields or cell or quoted:
        end_field()
        out.append((start_line, fields))
    return out


def parse_csv(text: str, o: CsvOptions) -> list[list[Any]]:
    """The rows csv-parse would give for ``text`` under ``o``."""
    rows: list[list[Any]] = []
    width: int | None = None
    record = 0
    for line, fields in _records(text, o):
        if line < o.from_line or (o.to_line is not None and line > o.to_line):
            continue
        if not fields:  # an empty line
            if o.skip_empty_lines:
                continue
            fields = [""]
        record += 1
        if record < o.from_record or (o.to_record is not None and record > o.to_record):
            continue
        if width is None:
            width = len(fields)
        elif len(fields) != width and not o.relax_column_count:
            raise CsvError(
                f"line {line} has {len(fields)} fields, the first record {width} "
                "(csv-parse refuses this: 'Invalid Record Length'; set options.relax_column_count: true)"
            )
        rows.append([cast_cell(c) for c in fields] if o.cast else fields)
    return rows
