"""Instruction templates: turn a sample row into (prompt, answer) for one of four tasks.

Wording is drawn from a few paraphrases with a generator seeded by (seed, id, task), so a given seed
always gives the same text. AU, body, voice and subtitle cues can be rendered into the prompt
(Emotion-LLaMA style) in addition to the encoder tokens the processor inserts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from affect_llm.data.schema import TASKS
from affect_llm.parsing import answer_block

CUES = ("subtitle", "aus", "body", "audio")

_OPENSET_PROMPTS = (
    "Please recognize all possible emotional states of the character.",
    "Which emotions does the person in this clip express? List every one that applies.",
    "Describe the character's emotional state with one or more emotion words.",
)
_REASON_PROMPTS = (
    "Please recognize all possible emotional states of the character. First reason about the facial, vocal and verbal clues inside <think></think>, then give the emotions inside <answer></answer>.",
    "What is the character feeling? Think through the evidence from face, voice and words in <think></think>, then list the emotions in <answer></answer>.",
)
_ONEHOT_PROMPTS = (
    "Which one of these emotions best describes the character: {choices}? Answer with one word.",
    "Choose the character's emotion from the following options: {choices}. Reply with the label only.",
)
_SENTIMENT_PROMPTS = (
    "Is the character's sentiment positive, negative or neutral?",
    "Judge the overall sentiment of the speaker: positive, negative or neutral.",
)


# Task -> its paraphrases. The first of each is the fixed question asked at evaluation (for
# openset, AffectGPT's wording), so training and evaluation cannot drift apart.
PROMPTS: dict[str, tuple[str, ...]] = {
    "openset": _OPENSET_PROMPTS,
    "reason": _REASON_PROMPTS,
    "onehot": _ONEHOT_PROMPTS,
    "sentiment": _SENTIMENT_PROMPTS,
}


def evaluation_question(task: str, candidates: Sequence[str] = ()) -> str:
    """The fixed question of a task at evaluation (no paraphrase sampling: every run asks the same)."""
    if task not in PROMPTS:
        raise ValueError(f"unknown task {task!r}")
    return PROMPTS[task][0].format(choices=", ".join(candidates))


@dataclass
class Instruction:
    prompt: str
    answer: str
    task: str


def cue_lines(row: dict, cues: Sequence[str] = CUES) -> list[str]:
    """The cue texts of a row (subtitle, AU description, body, voice) as prompt lines."""
    lines = []
    if "subtitle" in cues and row.get("subtitle"):
        lines.append(f"Subtitle: {row['subtitle']}")
    if "aus" in cues and row.get("au_description"):
        lines.append(f"Facial action units: {row['au_description']}")
    if "body" in cues and row.get("body"):
        lines.append(f"Body: {row['body']}")
    if "audio" in cues and row.get("prosody"):
        lines.append(f"Voice: {row['prosody']}")
    return lines


def sentiment_word(valence: float | None) -> str:
    if valence is None or valence == 0:
        return "neutral"
    return "positive" if valence > 0 else "negative"


def _labels(row: dict) -> list[str]:
    return list(row.get("openset") or ([row["label"]] if row.get("label") else []))


def render(
    row: dict,
    task: str | None = None,
    seed: int = 0,
    cues: Sequence[str] = CUES,
    candidates: Sequence[str] | None = None,
) -> Instruction:
    """The prompt and target answer for a sample row; same (row, task, seed) -> same text."""
    task = task or row.get("task") or "openset"
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    rng = random.Random(f"{seed}:{row['id']}:{task}")
    labels = _labels(row)
    openset_answer = f"The character's emotional state is {', '.join(labels) or 'neutral'}."
    if task == "openset":
        prompt, answer = rng.choice(_OPENSET_PROMPTS), openset_answer
    elif task == "reason":
        prompt = rng.choice(_REASON_PROMPTS)
        reason = row.get("reason") or row.get("au_description") or ""
        answer = f"<think>{reason}</think>\n{answer_block(', '.join(labels) or 'neutral')}"
    elif task == "onehot":
        choices = list(candidates or row.get("candidates") or [])
        if not row.get("label") or row["label"] not in choices:
            raise ValueError(f"{row['id']}: one-hot task needs a label among its candidates")
        rng.shuffle(choices)
        prompt = rng.choice(_ONEHOT_PROMPTS).format(choices=", ".join(choices))
        answer = answer_block(row["label"])
    else:
        prompt, answer = rng.choice(_SENTIMENT_PROMPTS), sentiment_word(row.get("valence"))
    lines = cue_lines(row, cues)
    if lines:
        prompt = "\n".join([*lines, prompt])
    return Instruction(prompt, answer, task)
