"""Deterministic extraction of emotion labels from a model's free-text answer.

AffectGPT reads answers with a sampling LLM, so its scores move between runs; this extractor gives
the same labels every time and is fast enough to run inside GRPO rewards. The order of preference:
the `<answer>...</answer>` block, then a cue sentence ("The character's emotional state is a, b,
c."), then bullet / comma / "and" lists, then emotion words found in free text. Negated labels
("not angry", "neither happy nor sad", "no sign of joy") are never returned.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from affect_llm.taxonomy import get_taxonomy
from affect_llm.text_patterns import CLAUSE_BREAK, tokenize

_TAG_RE = re.compile(r"</?\s*(?:think|answer)\s*>", re.IGNORECASE)

# "The character's emotional state is ...", "Emotions: ...": a list follows.
_CUE_RE = re.compile(
    r"(?:emotional\s+states?|emotions?|feelings?|moods?)"
    r"(?:\s+(?:of|for)\s+(?:the|this)\s+\w+)?"
    r"(?:\s*:|\s+(?:is|are|was|were|includes?|including|would\s+be|can\s+be\s+described\s+as"
    r"|seems?\s+to\s+be|appears?\s+to\s+be|could\s+be|might\s+be|may\s+be|as))"
    r"\s*(?P<rest>[^.\n]*)",
    re.IGNORECASE,
)
_BULLET_RE = re.compile(r"^\s*(?:[-*\u2022\u25cf]|\d+[.)])\s+(.+?)\s*$", re.MULTILINE)
_ITEM_STRIP = " \t\"'`*()[]{}<>:-"

NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "neither",
        "nor",
        "without",
        "lack",
        "lacks",
        "lacking",
        "absence",
        "hardly",
        "barely",
        "none",
        "cannot",
    ]
)
# Words after which a negation stops applying ("not angry but sad"); clause punctuation does too.
SCOPE_BREAKS = frozenset(
    [
        *["but", "however", "yet", "although", "though", "instead", "rather", "while", "whereas"],
        CLAUSE_BREAK,
    ]
)
NEUTRAL_WORDS = frozenset({"neutral", "neutrality", "no emotion", "none", "calm and neutral"})
# Leading words dropped from a list item: "slightly anxious" -> "anxious".
_MODIFIERS = frozenset(
    [
        "a",
        "an",
        "the",
        "very",
        "slightly",
        "somewhat",
        "quite",
        "extremely",
        "mildly",
        "deeply",
        "rather",
        "highly",
        "really",
        "fairly",
        "bit",
        "little",
        "kind",
        "sort",
        "of",
        "feeling",
        "feelings",
        "feels",
        "seems",
        "appears",
        "looks",
        "sense",
        "possibly",
        "maybe",
        "probably",
        "likely",
        "mostly",
        "mainly",
        "some",
        "mixed",
        "also",
        "is",
        "are",
        "be",
        "being",
    ]
)
# Words that are never emotion labels on their own.
_STOPWORDS = frozenset(
    [
        "i",
        "he",
        "she",
        "it",
        "they",
        "we",
        "you",
        "the",
        "a",
        "an",
        "his",
        "her",
        "their",
        "its",
        "character",
        "person",
        "speaker",
        "emotion",
        "emotions",
        "emotional",
        "state",
        "states",
        "feeling",
        "feelings",
        "mood",
        "expression",
        "face",
        "voice",
        "tone",
    ]
)
_MAX_LABEL_WORDS = 3


def _is_negation(token: str) -> bool:
    return token in NEGATIONS or token.endswith("n't")


def _has_negation(tokens: Sequence[str]) -> bool:
    return not NEGATIONS.isdisjoint(tokens) or any(t.endswith("n't") for t in tokens)


@functools.cache
def _vocabulary() -> tuple[frozenset[str], dict[str, int]]:
    """Emotion words and phrases (inflections of wheel words, plus "neutral"), and the longest
    phrase each word starts."""
    words = {" ".join(tokenize(w)) for w in get_taxonomy().emotion_words()} | {"neutral"}
    words = {w for w in words if w and CLAUSE_BREAK not in w.split()} - _STOPWORDS
    starts: dict[str, int] = {}
    for phrase in words:
        parts = phrase.split()
        starts[parts[0]] = max(starts.get(parts[0], 0), len(parts))
    return frozenset(words), starts


_SCOPE_BREAK, _NEGATION = 0, -1


@functools.cache
def _token_kinds() -> dict[str, int]:
    """One look-up per token: >0 starts a known phrase (its longest length), else a cue kind."""
    kinds = dict.fromkeys(SCOPE_BREAKS, _SCOPE_BREAK) | dict.fromkeys(NEGATIONS, _NEGATION)
    return kinds | _vocabulary()[1]  # "no" starts "no words": phrases first, then the cue


def _scan_tokens(tokens: Sequence[str], check_contractions: bool = True) -> list[str]:
    """Known emotion words and phrases among tokens, skipping those inside a negation's scope."""
    return _scan_token_lists([tokens], check_contractions)[0]


def _scan_token_lists(
    token_lists: Sequence[Sequence[str]], check_contractions: bool | Sequence[bool] = True
) -> list[list[str]]:
    """`_scan_tokens` of many token lists in one loop (GRPO scans 1024 reasoning blocks).

    One dict look-up per token (in C, through `map`); only tokens that matter take Python work.
    check_contractions: one flag for all, or one per list (contractions are negations too).
    """
    vocab, _ = _vocabulary()
    kinds = _token_kinds()
    get = kinds.get
    if isinstance(check_contractions, bool):
        check_contractions = [check_contractions] * len(token_lists)
    results = []
    for tokens, check in zip(token_lists, check_contractions):
        if check and any(token.endswith("n't") for token in tokens):
            # contractions ("isn't") are negations the table cannot list
            looked_up = [get(t, _NEGATION) if t.endswith("n't") else get(t) for t in tokens]
        else:
            looked_up = map(get, tokens)
        labels: list[str] = []
        negated = False
        skip_to = 0
        for i, kind in enumerate(looked_up):
            if kind is None or i < skip_to:
                continue
            if kind == 1:  # most emotion words start no longer phrase
                if not negated:
                    labels.append(tokens[i])
            elif kind == _SCOPE_BREAK:
                negated = False
            elif kind == _NEGATION:
                negated = True
            else:  # the longest known phrase starting here, else a cue word or nothing
                token = tokens[i]
                for n in range(min(kind, len(tokens) - i), 0, -1):
                    phrase = token if n == 1 else " ".join(tokens[i : i + n])
                    if phrase in vocab:
                        if not negated:
                            labels.append(phrase)
                        skip_to = i + n
                        break
                if skip_to <= i:
                    if token in NEGATIONS:
                        negated = True
                    elif token in SCOPE_BREAKS:
                        negated = False
        results.append(labels)
    return results


def _scan_vocabulary(text: str) -> list[str]:
    """Emotion words and phrases of the taxonomy found in free text, outside negations."""
    return _scan_tokens(tokenize(text), check_contractions="n't" in text or "n’t" in text)


def _list_item_labels(item: str) -> list[str]:
    """Labels of one list item: a short item is a label; a longer one is scanned for known words."""
    tokens = [t for t in tokenize(item) if t != CLAUSE_BREAK]
    if len(tokens) == 1:  # one word: a label unless it is filler
        word = tokens[0]
        return [] if word in _MODIFIERS or word in _STOPWORDS or _is_negation(word) else [word]
    if _has_negation(tokens):
        return _scan_tokens(tokens)
    while tokens and tokens[0] in _MODIFIERS:
        tokens = tokens[1:]
    if not tokens:
        return []
    phrase = " ".join(tokens)
    vocab, _ = _vocabulary()
    if len(tokens) <= _MAX_LABEL_WORDS and (phrase in vocab or not _scan_tokens(tokens)):
        return [] if phrase in _STOPWORDS else [phrase]
    return _scan_tokens(tokens)


_ITEM_SEPARATORS = frozenset({CLAUSE_BREAK, "and", "or", "&", "/", "|"})


@functools.cache
def _plain_list_words() -> frozenset[str]:
    """Known single emotion words that tokenise to themselves and are no separator or negation:
    a comma list of only these ("sad, tense, angry") needs no tokenising."""
    vocab, _ = _vocabulary()
    return frozenset(
        w
        for w in vocab
        if tokenize(w) == (w,) and w not in _ITEM_SEPARATORS and not _is_negation(w)
    )


_NOT_LABELS = _MODIFIERS | _STOPWORDS | NEGATIONS | _ITEM_SEPARATORS


def _is_plain_label(word: str) -> bool:
    """A lowercase ASCII word that is a label on its own as a list item, known or not."""
    return word.isalpha() and word.isascii() and word not in _NOT_LABELS


def _split_list(text: str) -> list[str]:
    """Labels of a list written with commas, semicolons, slashes, 'and'/'or' or one per line."""
    return _split_lists([text])[0]


def _split_lists(texts: Sequence[str]) -> list[list[str]]:
    """`_split_list` of many lists: the usual GRPO answer (one word per comma-separated item)
    takes a fast path with the same labels, the rest are tokenized."""
    plain = _plain_list_words()
    results = []
    for text in texts:
        words = list(map(str.strip, text.lower().split(",")))
        if plain.issuperset(words) or all(w in plain or _is_plain_label(w) for w in words):
            results.append(words)
        else:
            results.append(_split_tokenized_list(text))
    return results


def _split_tokenized_list(text: str) -> list[str]:
    """`_split_list` for any list: items between separators, each read by `_list_item_labels`."""
    tokens = tokenize(text)
    if _has_negation(tokens):
        # A negation spans "and"/"or"/"nor" ("neither happy nor sad"): the scan handles scope.
        return _scan_tokens(tokens)
    vocab, _ = _vocabulary()
    labels: list[str] = []
    item: list[str] = []
    for token in (*tokens, CLAUSE_BREAK):
        if token not in _ITEM_SEPARATORS:
            item.append(token)
        elif item:
            if len(item) == 1 and item[0] in vocab:  # the common case: one known word per item
                labels.append(item[0])
            else:
                labels.extend(_list_item_labels(" ".join(item)))
            item = []
    return labels


def _finish(labels: list[str]) -> tuple[str, ...]:
    """De-duplicate in order; a neutral answer is ("neutral",) and nothing else."""
    if len(labels) < 2:
        return ("neutral",) if labels and labels[0] in NEUTRAL_WORDS else tuple(labels)
    unique = tuple(dict.fromkeys(labels))
    if NEUTRAL_WORDS.isdisjoint(unique):
        return unique
    emotional = tuple(label for label in unique if label not in NEUTRAL_WORDS)
    return emotional or ("neutral",)


def _block(text: str, tag: str, last: bool) -> str | None:
    """Content of a `<tag>` block (an unclosed one runs to the end); case-insensitive fallback."""
    opening, closing = f"<{tag}>", f"</{tag}>"
    start = text.rfind(opening) if last else text.find(opening)
    if start < 0:
        lower = text.lower()
        if opening not in lower:
            return None
        text = lower  # tags written in capitals: return the content lowercased
        start = text.rfind(opening) if last else text.find(opening)
    start += len(opening)
    end = text.find(closing, start)
    return text[start:] if end < 0 else text[start:end]


@functools.lru_cache(maxsize=65536)
def answer_text(completion: str) -> str | None:
    """The content of the last `<answer>` block, or None when there is none."""
    return _block(completion, "answer", last=True)


@functools.lru_cache(maxsize=65536)
def think_text(completion: str) -> str | None:
    """The content of the first `<think>` block, or None when there is none."""
    return _block(completion, "think", last=False)


def answer_block_labels(answer: str) -> tuple[str, ...]:
    """Labels of the content of an `<answer>` block (a list, however written)."""
    return answer_blocks_labels([answer])[0]


def answer_blocks_labels(answers: Sequence[str]) -> list[tuple[str, ...]]:
    """`answer_block_labels` of every answer block of a batch."""
    answers = [_TAG_RE.sub(" ", a) if "<" in a else a for a in answers]
    return list(map(_finish, _split_lists(answers)))


def think_block_labels(think: str | None) -> tuple[str, ...]:
    """Emotion words named in the content of a `<think>` block (negated ones excluded)."""
    return think_blocks_labels([think or ""], [tokenize(think or "")])[0]


def think_blocks_labels(
    thinks: Sequence[str], token_lists: Sequence[Sequence[str]]
) -> list[tuple[str, ...]]:
    """`think_block_labels` of every think block of a batch, given their `tokenize` tokens."""
    checks = ["n't" in think or "n’t" in think for think in thinks]
    return list(map(_finish, _scan_token_lists(token_lists, checks)))


@functools.lru_cache(maxsize=65536)
def extract_labels(response: str) -> tuple[str, ...]:
    """Emotion labels in a free-text answer: lowercased, punctuation stripped, in order, unique.

    Returns a tuple, cached per string, so several readers of the same completion parse it once.
    """
    if not isinstance(response, str) or not response or response.isspace():
        return ()
    answer = answer_text(response)
    if answer is not None:
        return answer_block_labels(answer)
    text = _TAG_RE.sub(" ", response) if "<" in response else response
    cue_lists = [m.group("rest") for m in _CUE_RE.finditer(text)]
    labels = [label for cue in cue_lists if cue.strip() for label in _split_list(cue)]
    if labels:
        return _finish(labels)
    bullets = _BULLET_RE.findall(text)
    if bullets:
        return _finish([label for b in bullets for label in _list_item_labels(b)])
    if len(text.split()) <= 12 and not re.search(r"[.!?]\s+\w", text.strip()):
        return _finish(_split_list(text))
    return _finish(_scan_vocabulary(text))


@functools.lru_cache(maxsize=65536)
def extract_think_labels(completion: str) -> tuple[str, ...]:
    """Emotion words named in the `<think>` block (taxonomy words only, negations excluded)."""
    return think_block_labels(think_text(completion))
