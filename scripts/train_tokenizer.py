"""Train the small offline tokenizer shipped in `affect_llm/resources/tiny_tokenizer` (a dev script).

Tests, the quickstart and the demo cannot download a tokenizer, so we train a byte-level BPE on the
emotion-wheel vocabulary plus templated affect sentences: emotion words, AU names and the reasoning
tags then encode in one or two tokens. Rebuild with `python scripts/train_tokenizer.py`.
The chat template is not stored with it: `load_tiny_tokenizer` attaches the library's template.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from affect_llm.action_units import AU_NAMES
from affect_llm.modeling.processing_affect_llm import (
    AUDIO_TOKEN,
    FACE_TOKEN,
    REASONING_TAGS,
    SPECIAL_TOKENS,
    default_chat_template,
)
from affect_llm.modeling.tiny import TINY_TOKENIZER_DIR

COMMON_LABELS = (
    "neutral",
    "happy",
    "happiness",
    "joy",
    "sad",
    "sadness",
    "angry",
    "anger",
    "worried",
    "worry",
    "surprise",
    "surprised",
    "fear",
    "fearful",
    "disgust",
    "disgusted",
    "contempt",
    "anxiety",
    "anxious",
    "helplessness",
    "disappointment",
    "disappointed",
    "excited",
    "calm",
    "frustrated",
    "positive",
    "negative",
)

_EMOTION_WHEEL_DIR = Path(str(resources.files("affect_llm") / "resources" / "emotion_wheel"))


def emotion_vocabulary() -> list[str]:
    """Every emotion word of the five wheels, the format forms and the synonym runs (lowercased)."""
    words: set[str] = set()
    for path in sorted(_EMOTION_WHEEL_DIR.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    for word in cell.split(","):
                        word = word.strip().lower()
                        if word and not word.startswith(("level", "word_run", "synonym_run")):
                            words.add(word)
    words.discard("name")
    words.discard("format")
    return sorted(words)


def _default_system_prompt() -> str:
    """The system prompt the chat template adds when a conversation has none."""
    import jinja2

    rendered = jinja2.Template(default_chat_template()).render(
        messages=[{"role": "user", "content": ""}]
    )
    return rendered.split("<|im_start|>system\n", 1)[1].split("<|im_end|>", 1)[0]


def _training_corpus(seed: int = 0) -> Iterator[str]:
    """Templated affect sentences that cover the vocabulary many times over."""
    rng = random.Random(seed)
    system_prompt = _default_system_prompt()
    words = emotion_vocabulary()
    au_phrases = [f"{code} ({name})" for code, name in AU_NAMES.items()]
    openings = [
        "The character's emotional state is",
        "The person seems",
        "Her voice sounds",
        "His face looks",
        "Overall the speaker feels",
        "Please recognize all possible emotional states of the character.",
    ]
    for _ in range(12):
        for word in words:
            yield f"{rng.choice(openings)} {word}."
            yield f"<answer> {word} </answer>"
    for _ in range(3000):
        labels = ", ".join(rng.sample(words, k=rng.randint(1, 4)))
        aus = ", ".join(rng.sample(au_phrases, k=rng.randint(1, 3)))
        yield (
            f"<|im_start|>user\n<|face|> <|audio|> Which emotions does the person show?<|im_end|>\n"
            f"<|im_start|>assistant\n<think> The face shows {aus}; the voice is "
            f"{rng.choice(['loud', 'quiet', 'trembling', 'flat', 'rising', 'fast', 'slow'])}. "
            f"This suggests {labels}. </think>\n<answer> {labels} </answer><|im_end|>"
        )
    # The benchmark label sets (MER-UniBench, DFEW/MAFW) are the words models say most: weight them.
    for _ in range(400):
        for word in COMMON_LABELS:
            yield f"<answer> {word} </answer> The character's emotional state is {word}, {word}."
    for _ in range(200):
        yield f"<|im_start|>system\n{system_prompt}<|im_end|>\n<|im_start|>user\n<|im_end|>"
        yield "<|im_start|>assistant\n"


def train_tiny_tokenizer(
    output_dir: str | os.PathLike = TINY_TOKENIZER_DIR, vocab_size: int = 8192
):
    """Train the byte-level BPE and save it as a transformers fast tokenizer in `output_dir`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(itertools.chain(_training_corpus()), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=[FACE_TOKEN, AUDIO_TOKEN, "<|im_start|>"],
        clean_up_tokenization_spaces=False,
        model_max_length=4096,
    )
    fast.add_tokens(REASONING_TAGS)
    with tempfile.TemporaryDirectory(dir=Path(output_dir).parent) as tmp:
        fast.save_pretrained(tmp)
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        for name in os.listdir(tmp):
            if (
                name != "chat_template.jinja"
            ):  # one template: affect_llm/modeling/chat_template.jinja
                os.replace(Path(tmp) / name, Path(output_dir) / name)
    return fast


if __name__ == "__main__":
    print(train_tiny_tokenizer())
