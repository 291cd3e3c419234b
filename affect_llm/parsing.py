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
# Words that describe how a voice sounds or a face looks: cues, not emotions, when they qualify a
# voice or face word ("a low voice", "her voice is clear", "low pitched"), though some are
# emotion words elsewhere ("she feels weak").
CUE_ADJECTIVES = frozenset(
    [
        "clear",
        "low",
        "high",
        "soft",
        "loud",
        "quiet",
        "flat",
        "sharp",
        "bright",
        "deep",
        "steady",
        "shaky",
        "raised",
        "strong",
        "weak",
        "warm",
        "cold",
        "heavy",
        "tight",
        "hoarse",
        "firm",
        "gentle",
        "slow",
        "fast",
        "rapid",
        "rising",
        "falling",
        "wide",
        "narrowed",
    ]
)
CUE_NOUNS = frozenset(
    [
        "voice",
        "voices",
        "tone",
        "tones",
        "pitch",
        "pitched",
        "speech",
        "volume",
        "delivery",
        "sound",
        "sounds",
        "face",
        "faces",
        "eyes",
        "eye",
        "brows",
        "eyebrows",
        "brow",
        "mouth",
        "lips",
        "smile",
        "gaze",
        "look",
        "looks",
        "expression",
        "expressions",
        "posture",
        "laugh",
        "words",
    ]
)
_LINKS = frozenset({"is", "was", "are", "were", "sounds", "sounded", "remains", "stays", "becomes"})


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


@functools.cache
def _cue_words() -> frozenset[str]:
    """Words the scan acts on: those that start a known phrase, negations and scope breaks."""
    return frozenset(_vocabulary()[1]) | NEGATIONS | SCOPE_BREAKS


def _describes_cue(tokens: Sequence[str], at: int) -> bool:
    """tokens[at] is a cue word and no emotion-wheel node ("clear"), or a cue adjective qualifying
    a voice or face word: "a weak voice", "low-pitched", "her voice is weak" (not "she feels weak")."""
    if tokens[at] not in CUE_ADJECTIVES:
        return False
    if _cue_only(tokens[at]):
        return True
    if at + 1 < len(tokens) and tokens[at + 1] in CUE_NOUNS:
        return True
    before = [t for t in tokens[max(0, at - 4) : at] if t not in _MODIFIERS or t in _LINKS]
    return len(before) >= 2 and before[-1] in _LINKS and before[-2] in CUE_NOUNS


def _cue_only(word: str) -> bool:
    """A voice or face cue word that is no emotion-wheel node ("clear", "low"; not "weak")."""
    return word in CUE_ADJECTIVES and word not in get_taxonomy().wheel_words()


def _scan_tokens(tokens: Sequence[str]) -> list[str]:
    """Known emotion words and phrases among tokens (the longest phrase at each position),
    skipping those inside a negation's scope and cue words about a voice or face; a scope break
    ("but", a comma) ends the scope."""
    vocab, longest = _vocabulary()
    cues = _cue_words()
    labels: list[str] = []
    negated = False
    i, end = 0, len(tokens)
    while i < end:
        token = tokens[i]
        i += 1
        if token not in cues:  # most words: only a contraction ("isn't") matters
            negated = negated or ("'" in token and token.endswith("n't"))
            continue
        width = longest.get(token, 0)  # the longest known phrase this word starts
        for n in range(min(width, end - i + 1), 0, -1):
            phrase = token if n == 1 else " ".join(tokens[i - 1 : i - 1 + n])
            if phrase in vocab:
                if not negated and not (n == 1 and _describes_cue(tokens, i - 1)):
                    labels.append(phrase)
                i += n - 1
                break
        else:
            if token in NEGATIONS or token.endswith("n't"):
                negated = True
            elif token in SCOPE_BREAKS:
                negated = False
    return labels


def _list_item_labels(item: str) -> list[str]:
    """Labels of one list item: one word is a label (open vocabulary), a known phrase is one; any
    other item gives the emotion words in it, never itself ("begs to leave", "a low voice")."""
    tokens = [t for t in tokenize(item) if t != CLAUSE_BREAK]
    if len(tokens) == 1:  # one word: a label unless it is filler or a cue word
        word = tokens[0]
        filler = word in _MODIFIERS or word in _STOPWORDS or _is_negation(word)
        return [] if filler or _cue_only(word) else [word]
    if _has_negation(tokens):
        return _scan_tokens(tokens)
    while tokens and tokens[0] in _MODIFIERS:
        tokens = tokens[1:]
    if not tokens:
        return []
    phrase = " ".join(tokens)
    vocab, _ = _vocabulary()
    if len(tokens) == 1:
        return [] if phrase in _STOPWORDS else [phrase]
    if len(tokens) <= _MAX_LABEL_WORDS and phrase in vocab:
        return [phrase]
    return _scan_tokens(tokens)


_ITEM_SEPARATORS = frozenset({CLAUSE_BREAK, "and", "or", "&", "/", "|"})


def _split_list(text: str) -> list[str]:
    """Labels of a list written with commas, semicolons, slashes, 'and'/'or' or one per line:
    the items between separators, each read by `_list_item_labels`."""
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
            if len(item) == 1 and item[0] in vocab and not _cue_only(item[0]):  # the common case
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


def answer_block(labels: str) -> str:
    """`<answer>LABELS</answer>`: the R1-Omni answer format of training targets, the only text
    the GRPO answer rewards read (`answer_text`)."""
    return f"<answer>{labels}</answer>"


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
    return _finish(_split_list(_TAG_RE.sub(" ", answer)))


def think_block_labels(think: str | None) -> tuple[str, ...]:
    """Emotion words named in the content of a `<think>` block (negated ones excluded)."""
    return _finish(_scan_tokens(tokenize(think or "")))


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
    return _finish(_scan_tokens(tokenize(text)))


@functools.lru_cache(maxsize=65536)
def extract_think_labels(completion: str) -> tuple[str, ...]:
    """Emotion words named in the `<think>` block (taxonomy words only, negations excluded)."""
    return think_block_labels(think_text(completion))
