"""Word tokenisation shared by label extraction and AU mention detection.

One `translate` maps punctuation to spaces and clause punctuation to ",", then `str.replace` and
`str.split` cut the words; all run in C, so scanning a GRPO batch's reasoning stays cheap.
"""

from __future__ import annotations

import functools
import unicodedata

CLAUSE_BREAK = ","  # the token that stands for any clause punctuation
_CLAUSE_CHARS = ".;:!?,\n\r\t"
_SEPARATORS = (CLAUSE_BREAK, "/", "&", "|")  # list separators ("happy/excited") are words too
_KEPT = "'-/&|"  # inside words ("isn't", "self-assured") or separators
_WORD_EDGES = (" '", "' ", " -", "- ")


def _build_table() -> dict[int, str]:
    table = {ord(c): CLAUSE_BREAK for c in _CLAUSE_CHARS}
    table[ord("\u2019")] = "'"  # typographic apostrophe in "isn’t"
    for code in range(0x3040):  # Latin, Greek, Cyrillic, general and CJK punctuation
        char = chr(code)
        if code in table or char.isalnum() or char in _KEPT:
            continue
        if char.isspace() or unicodedata.category(char)[0] in "PSZC":
            table[code] = " "  # whitespace, punctuation, symbols, separators, controls
    return table


_TABLE = _build_table()
# The same mapping for ASCII text as bytes: `bytes.translate` is several times faster.
_ASCII_TABLE = bytes(ord(_TABLE.get(i, chr(i))) for i in range(128)) + bytes(range(128, 256))


@functools.lru_cache(maxsize=65536)
def tokenize(text: str) -> tuple[str, ...]:
    """Lowercased words (apostrophes and inner hyphens kept) with "," for every clause break.

    Cached: a completion's reasoning is read for emotion words and for AU names alike.
    """
    lower = text.lower()
    if lower.isascii():
        cleaned = f" {lower.encode().translate(_ASCII_TABLE).decode()} "
    else:
        cleaned = f" {lower.translate(_TABLE)} "
    for mark in _SEPARATORS:
        if mark in cleaned:
            cleaned = cleaned.replace(mark, f" {mark} ")
    words = cleaned.split()
    if any(edge in cleaned for edge in _WORD_EDGES):  # quotes and dashes around a word
        return tuple(word.strip("'-") or word for word in words)
    return tuple(words)
