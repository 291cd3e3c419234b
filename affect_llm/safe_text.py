"""Foreign text made safe for where we show it: terminals, Markdown reports and spreadsheets.

Text from models, datasets and file names is not ours: an answer holding `ESC]0;...BEL` retitles the
user's terminal and `ESC[2J` clears it; a checkpoint folder named `a|b` shifts a Markdown table by
one column and `<img src=...>` renders as HTML; a CSV cell `=HYPERLINK(...)` is a formula once the
file is opened in a spreadsheet. The one home of these rules; every printer of foreign text uses it.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Whole escape sequences first (so no payload is left half-interpreted): OSC ... BEL/ST, CSI ...
# final byte, two-byte ESC sequences; then any control character left over.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (window title, hyperlinks)
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI (cursor, clear screen, colours)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -~]?"  # other ESC x
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
)
# Unicode bidi overrides and isolates reorder what a terminal shows ("Trojan Source").
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def printable(text: object, keep_newlines: bool = True) -> str:
    """`text` without terminal escape sequences, control characters and bidi overrides
    (newlines and tabs are kept unless `keep_newlines` is False, then they become spaces)."""
    text = _ESCAPE_SEQUENCE.sub("", str(text)).translate(_BIDI)
    kept = "\n\t" if keep_newlines else ""
    return "".join(
        ch if ch in kept or unicodedata.category(ch) != "Cc" else (" " if ch in "\n\t\r" else "")
        for ch in text
    )


def markdown_cell(text: object) -> str:
    """`text` for one cell of a Markdown table: one line, `|` escaped, HTML shown as text."""
    cell = html.escape(printable(text, keep_newlines=False), quote=False)
    return cell.replace("|", "\\|")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run (OWASP CSV injection): text starting with
    `= + - @`, tab or CR gets a leading `'`; numbers, and text that is one, are kept as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value  # "-1.5": a valence, not a formula
    except ValueError:
        return "'" + value


_IMAGE = re.compile(r"!\s*\[")


def inert_markdown(text: object) -> str:
    """Model text for a Markdown / HTML view that fetches nothing: raw HTML shown as text (no
    `<img>`, `<iframe>`, `<video>`), and `![alt](url)` images turned into visible text, so an
    answer cannot make the browser request a URL (and carry the user's words out in it)."""
    text = html.escape(printable(text), quote=False)
    return _IMAGE.sub(lambda match: match.group(0)[:-1] + "\\[", text)
