"""From a model's free-text answer to what a metric reads: labels, a sentiment word or one class.

All of it is deterministic. Sentiment: a sentiment word the answer names (outside a negation) wins;
otherwise the answer's emotion labels vote with the valence of their emotion-wheel level-1 clusters
(`CLUSTER_VALENCE`), so answers to the open-vocabulary question (AffectGPT's) can be scored too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from affect_llm.parsing import answer_text, extract_labels
from affect_llm.taxonomy import WHEELS, get_taxonomy
from affect_llm.text_patterns import CLAUSE_BREAK, tokenize

# Valence of every level-1 cluster of the five wheels: +1 pleasant, -1 unpleasant, 0 either
# (surprise can be good or bad news). This table is the documented "valence lexicon".
CLUSTER_VALENCE: dict[str, int] = {
    **dict.fromkeys(["happy", "joyful", "joy", "peaceful", "powerful", "genius"], 1),
    **dict.fromkeys(
        [
            "sad",
            "mad",
            "angry",
            "anger",
            "scared",
            "fearful",
            "fear",
            "disgusted",
            "disgust",
            "bad",
        ],
        -1,
    ),
    **dict.fromkeys(["surprised"], 0),
}
SENTIMENT_WORDS = {
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
    "pleasant": "positive",
    "unpleasant": "negative",
}
_NEGATIONS = frozenset({"not", "no", "never", "neither", "nor", "without", "hardly", "barely"})


def label_valence(label: str) -> int:
    """+1 / -1 / 0 for one emotion label: the sign of its clusters' valences summed over the wheels."""
    taxonomy = get_taxonomy()
    total = 0
    for wheel in WHEELS:
        cluster = taxonomy.cluster(label, wheel, "level1")
        total += CLUSTER_VALENCE.get(cluster, 0) if cluster else 0
    return (total > 0) - (total < 0)


def labels_sentiment(labels: Iterable[str]) -> str:
    """positive / negative / neutral: the sign of the summed valences of the labels."""
    total = sum(label_valence(label) for label in labels)
    return "positive" if total > 0 else "negative" if total < 0 else "neutral"


def _named_sentiments(text: str) -> list[str]:
    """Sentiment words in the text, skipping those inside a negation ("not negative")."""
    found, negated = [], False
    for token in tokenize(text):
        if token == CLAUSE_BREAK or token in ("but", "however", "rather"):
            negated = False
        elif token in _NEGATIONS or token.endswith("n't"):
            negated = True
        elif token in SENTIMENT_WORDS and not negated:
            found.append(SENTIMENT_WORDS[token])
    return found


def answer_sentiment(response: str) -> str:
    """The sentiment a free-text answer gives (reading its `<answer>` block when it has one)."""
    text = answer_text(response) or response or ""
    named = set(_named_sentiments(text))
    if len(named) == 1:
        return named.pop()
    if named:  # "positive or negative": undecided
        return "neutral"
    return labels_sentiment(extract_labels(response or ""))


# Closed-set classes by concept: every common word form (adjective, noun, participle) of a class
# maps to its concept, and each dataset's class name is one of those forms (DFEW "angry", MAFW
# "anger", MER "worried" for anxiety), so "fearful" is fear in every dataset and never surprise.
CLASS_WORD_FORMS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "angry", "angered", "angrily", "mad", "furious", "fury", "rage", "enraged"),
    "disgust": ("disgust", "disgusted", "disgusting", "disgustful", "revulsion", "revolted"),
    "fear": (
        "fear",
        "fearful",
        "feared",
        "afraid",
        "scared",
        "frightened",
        "fright",
        "terrified",
        "terror",
    ),
    "happiness": ("happiness", "happy", "joy", "joyful", "joyous", "glad", "delighted", "cheerful"),
    "neutral": ("neutral", "neutrality", "calm", "expressionless"),
    "sadness": ("sadness", "sad", "saddened", "sorrow", "sorrowful", "unhappy"),
    "surprise": (
        "surprise",
        "surprised",
        "surprising",
        "astonished",
        "astonishment",
        "amazed",
        "startled",
    ),
    "contempt": ("contempt", "contemptuous", "scorn", "scornful", "disdain", "disdainful"),
    "anxiety": (
        "anxiety",
        "anxious",
        "worried",
        "worry",
        "worrying",
        "nervous",
        "nervousness",
        "uneasy",
    ),
    "helplessness": ("helplessness", "helpless", "powerless", "powerlessness"),
    "disappointment": ("disappointment", "disappointed", "disappointing", "letdown"),
}
CONCEPT_OF_FORM: dict[str, str] = {
    form: concept for concept, forms in CLASS_WORD_FORMS.items() for form in forms
}


def closed_set_class(labels: Sequence[str], classes: Sequence[str]) -> str | None:
    """The class a label list names: the first label that is a class, else the first that is a
    word form of one (CLASS_WORD_FORMS), else the class sharing the most wheel level-1 clusters with the first label
    that maps to any class; None if none does."""
    labels = [label.strip().lower() for label in labels]
    for label in labels:
        if label in classes:
            return label
    by_concept = {CONCEPT_OF_FORM.get(c, c): c for c in classes}
    for label in labels:
        concept = CONCEPT_OF_FORM.get(label)
        if concept in by_concept:
            return by_concept[concept]
    taxonomy = get_taxonomy()
    class_clusters = {c: {(w, taxonomy.cluster(c, w, "level1")) for w in WHEELS} for c in classes}
    for label in labels:
        clusters = {(w, taxonomy.cluster(label, w, "level1")) for w in WHEELS}
        clusters = {key for key in clusters if key[1] is not None}
        best = max(classes, key=lambda c: len(clusters & class_clusters[c]))
        if clusters & class_clusters[best]:
            return best
    return None
