"""Deterministic label extraction from free-text answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affect_llm.parsing import answer_text, extract_labels, extract_think_labels, think_text


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<think>He smiles.</think>\n<answer>Happy, Excited!</answer>", ("happy", "excited")),
        (
            "The character's emotional state is happy, excited, and slightly anxious.",
            ("happy", "excited", "anxious"),
        ),
        ("Emotions: anger; disgust / contempt", ("anger", "disgust", "contempt")),
        ("The emotions of the character are: fear, anxiety.", ("fear", "anxiety")),
        ("- Anxious\n- Worried\n* nervous", ("anxious", "worried", "nervous")),
        ("1. sad\n2. lonely", ("sad", "lonely")),
        ("happy", ("happy",)),
        ("Happy and excited!", ("happy", "excited")),
        ("sadness; grief; despair", ("sadness", "grief", "despair")),
        ("I think she is surprised", ("surprised",)),
        ("happy, happy, HAPPY", ("happy",)),
        ("<answer>angry, frustrated</answer> trailing text about joy", ("angry", "frustrated")),
    ],
)
def test_extracts_labels_in_order(response, expected):
    assert extract_labels(response) == expected


@pytest.mark.parametrize(
    ("response", "forbidden", "kept"),
    [
        ("The person is not angry.", {"angry"}, set()),
        ("She is neither happy nor sad.", {"happy", "sad"}, set()),
        ("There is no sign of joy in her face; she looks frustrated.", {"joy"}, {"frustrated"}),
        ("<answer>Not angry; sad</answer>", {"angry"}, {"sad"}),
        ("He isn't happy at all. He feels betrayed.", {"happy"}, {"betrayed"}),
        ("calm but not relaxed", {"relaxed"}, {"calm"}),
        ("she is not at all angry, rather she is amused", {"angry"}, {"amused"}),
        (
            "The character's emotional state is angry and frustrated, but not sad.",
            {"sad"},
            {"angry", "frustrated"},
        ),
        ("without fear, he was hopeful", {"fear"}, {"hopeful"}),
        ("I don't think she is happy, she looks tired", {"happy"}, {"tired"}),
    ],
)
def test_negated_labels_are_never_returned(response, forbidden, kept):
    labels = set(extract_labels(response))
    assert not labels & forbidden
    assert kept <= labels


@pytest.mark.parametrize(
    "response",
    [
        "The character appears neutral, showing no particular emotion.",
        "Neutral.",
        "<answer>neutral</answer>",
        "The character shows no emotion.",
        "",
        "   ",
        "<answer></answer>",
    ],
)
def test_neutral_answers_yield_neutral_or_nothing(response):
    assert extract_labels(response) in ((), ("neutral",))


def test_think_and_answer_blocks():
    completion = "<think>The voice shakes; he is afraid, not angry.</think><answer>scared</answer>"
    assert think_text(completion) == "The voice shakes; he is afraid, not angry."
    assert answer_text(completion) == "scared"
    think_labels = extract_think_labels(completion)
    assert "afraid" in think_labels  # "shakes" is an inflected wheel form too
    assert "angry" not in think_labels
    assert answer_text("no tags here") is None
    assert answer_text("<answer>unclosed, still read") == "unclosed, still read"
    assert answer_text("<ANSWER>Upper</ANSWER>") == "upper"


def test_multiword_emotion_phrases_are_kept_whole():
    assert "let down" in extract_labels("Honestly, she feels let down by her friend.")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_unicode_never_crashes(text):
    labels = extract_labels(text)
    assert isinstance(labels, tuple)
    assert all(label == label.lower() and label.strip() == label and label for label in labels)
    assert len(labels) == len(set(labels))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["happy", "sad", "angry", "calm", "proud", "tired"]), min_size=1))
def test_answer_lists_keep_order_and_drop_duplicates(labels):
    response = "<answer>" + ", ".join(labels) + "</answer>"
    assert extract_labels(response) == tuple(dict.fromkeys(labels))


@pytest.mark.slow  # a second Python process (importing affect_llm loads transformers)
def test_extraction_does_not_depend_on_the_hash_seed():
    """Labels come from sets of words: another process, hashing strings differently, must read
    the same labels."""
    import os
    import subprocess
    import sys

    texts = [
        "The character's emotional state is joyful, a bit nervous, and hopeful.",
        "She feels let down and heartbroken, not angry; maybe a little anxious or worried.",
    ]
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"  # not this process's seed
    script = f"from affect_llm.parsing import extract_labels as x; print([x(t) for t in {texts!r}])"
    other = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert other.strip() == str([extract_labels(t) for t in texts])


def test_free_text_finds_emotion_words_not_everyday_words():
    text = (
        "In the video, the man is clearly speaking to someone. His tone of voice is calm, and he "
        "feels proud; the woman is terrified and heartbroken."
    )
    assert extract_labels("She is clearly angry.") == ("angry",)
    labels = set(extract_labels(text))
    assert {"calm", "proud", "terrified", "heartbroken"} <= labels
    assert not labels & {"clearly", "speaking", "voice", "tone"}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        # cue words about the voice or the face are not emotions ...
        ("She speaks in a low voice.", ()),
        ("a low voice", ()),
        ("She sounds sad, with a low voice.", ("sad",)),
        ("Her voice is clear and she begs to leave.", ()),
        ("Emotions: sad, begs to leave", ("sad",)),
        ("<answer>clear, begs to leave</answer>", ()),
        ("<answer>sad, low</answer>", ("sad",)),
        ("Her speech is slow and low pitched, which suggests sadness.", ("sadness",)),
        ("Her voice is weak and shaky; she is scared.", ("scared",)),
        ("Emotional state: low voice, clear speech", ()),
        # ... but the same words stay emotions where they name one (the negatives)
        ("She feels weak.", ("weak",)),
        ("<answer>weak, sad</answer>", ("weak", "sad")),
        ("His tone of voice is calm, and he feels proud.", ("calm", "proud")),
        ("She feels let down, with a heavy heart.", ("let down", "heavy")),
    ],
)
def test_labels_come_only_from_emotion_words(response, expected):
    """The demo listed "clear" and "begs to leave" as emotions and read "low" in "a low voice"
    as scared / insecure: voice and face cues, and phrases without an emotion word, are no labels."""
    assert extract_labels(response) == expected
