"""Reading labels: open-vocabulary lists, single classes and valence, with malformed values reported.

List strings are parsed by `affect_llm.taxonomy.parse_label_list` (AffectGPT's formats); here we only
reject values that are clearly broken (unbalanced brackets or quotes, non-numeric valence).
`read_csv_table` reads a labels CSV so that no row is lost without a message naming its line.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from affect_llm.errors import InputError


class LabelError(ValueError):
    """A label value that cannot be parsed."""


def parse_openset(value: object) -> list[str]:
    """An open-vocabulary label list from a list string ("['happy', 'excited']", "happy, excited")."""
    from affect_llm.taxonomy import parse_label_list

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip().lower() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.count("[") != text.count("]") or text.count("[") > 1:
        raise LabelError(f"unbalanced brackets in open-set labels {text!r}")
    if text.count("'") % 2 or text.count('"') % 2:
        raise LabelError(f"unbalanced quotes in open-set labels {text!r}")
    labels = [str(v).strip().lower() for v in parse_label_list(text)]
    return [label for label in labels if label]


def parse_valence(value: object) -> float | None:
    """A valence/sentiment score; empty means unknown."""
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(str(value).strip())
    except ValueError as error:
        raise LabelError(f"valence {value!r} is not a number") from error
    if not math.isfinite(number):
        raise LabelError(f"valence {value!r} is not finite")
    return number


def parse_label(value: object) -> str | None:
    """A single class name, lowercased; empty means none."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if any(ch in text for ch in "[]{}"):
        raise LabelError(f"single label {value!r} looks like a list")
    return text or None


# ----- reading a labels CSV -------------------------------------------------------------------------

FIELD_LIMIT = csv.field_size_limit()  # 128 KiB: longer fields are almost always a runaway quote


class LabelFileError(LabelError, InputError):
    """A labels file that cannot be read at all (encoding, delimiter, empty, no header)."""


@dataclass
class CsvTable:
    """A labels CSV read line by line: rows with the line they start on, and rows that failed.

    `rows` holds (line, cells) with cells already stripped; `bad` holds (line, first cell, reason).
    Every physical line of the file ends up in one of them (or is blank).
    """

    path: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)


def _decode(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
            guess = "GBK/GB18030 (Chinese Windows)"
        except UnicodeDecodeError:
            guess = "Latin-1/Windows-1252"
        raise LabelFileError(
            f"{path}:{line}: not UTF-8 (byte 0x{data[error.start]:02x}); the file looks "
            f"{guess}-encoded: save it as UTF-8 (e.g. iconv -t UTF-8)"
        ) from None


def _split_line(line: str) -> list[str] | None:
    """The cells of one physical line on its own, or None if it is not a complete CSV record."""
    try:
        cells = next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return None
    return cells


def _first_cell(line: str) -> str:
    """The name a broken line most likely carries (for the error report)."""
    return line.split(",", 1)[0].strip().strip('"').strip()


def read_csv_table(path: str | os.PathLike, required: tuple[str, ...] = ("name",)) -> CsvTable:
    """Read a UTF-8, comma-separated labels file with a header, reporting problems by line.

    File-level problems (not UTF-8, another delimiter, empty, missing columns) raise LabelFileError
    naming the file, the line and the likely cause. Row-level problems do not stop the rest: a row
    whose field count disagrees with the header, a field over 128 KiB, or a quote left open (which
    would swallow the following lines into one field) is reported in `bad` with its line number,
    and the lines after an unclosed quote are read as the rows they are.
    """
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise LabelFileError(f"{name}: cannot read ({error.strerror or error})") from None
    lines = re.split(r"\r\n|\r|\n", _decode(name, data))
    if lines and lines[-1] == "":
        lines.pop()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise LabelFileError(f"{name}: empty file (expected a header line such as name,openset)")
    header_line = lines[first]
    header = [h.strip().lower() for h in (_split_line(header_line) or [header_line])]
    if len(header) == 1:
        for delimiter, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            if delimiter in header_line:
                raise LabelFileError(
                    f"{name}:{first + 1}: the header has one column; the file seems to be "
                    f"separated by {word}: save it with commas"
                )
    missing = [column for column in required if column not in header]
    if missing:
        raise LabelFileError(
            f"{name}:{first + 1}: no {', '.join(map(repr, missing))} column in the header "
            f"({', '.join(header)})"
        )
    table = CsvTable(name, header)
    _read_records(table, lines, first + 1)
    return table


def _read_records(table: CsvTable, lines: list[str], start: int) -> None:
    """Parse lines[start:] into table.rows / table.bad (line numbers are 1-based)."""
    width = len(table.header)
    reader = csv.reader(f"{line}\n" for line in lines[start:])
    while True:
        begin = start + reader.line_num + 1  # the line this record starts on
        try:
            cells = next(reader)
            problem = None
        except StopIteration:
            return
        except csv.Error as error:
            cells, problem = None, str(error)
        end = start + reader.line_num  # the line it ends on
        if end > begin:  # the record runs over several lines: a quote left open?
            inner = [_split_line(line) for line in lines[begin:end]]
            if all(c is not None and len(c) == width and c[0].strip() for c in inner):
                table.bad.append(
                    (
                        begin,
                        _first_cell(lines[begin - 1]),
                        f"line {begin}: unclosed quote (the "
                        f"field runs on to line {end}); row skipped, fix the quote",
                    )
                )
                for offset, row in enumerate(inner, start=begin + 1):
                    table.rows.append((offset, [c.strip() for c in row]))
                continue
            # Otherwise a quoted field really holds line breaks (valid CSV, e.g. a long reason).
        elif problem is None and _split_line(lines[begin - 1]) is None:
            problem = "unclosed or stray quote"
        if problem is not None:
            cause = " (an unclosed quote?)" if "field limit" in problem else ""
            where = f"line {begin}" if end == begin else f"lines {begin}-{end}"
            table.bad.append(
                (begin, _first_cell(lines[begin - 1]), f"{where}: {problem}{cause}; row skipped")
            )
            continue
        if not cells or not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            table.bad.append(
                (begin, cells[0].strip(), f"line {begin}: {len(cells)} fields, header has {width}")
            )
            continue
        table.rows.append((begin, [cell.strip() for cell in cells]))
