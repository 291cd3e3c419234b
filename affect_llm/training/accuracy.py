"""Held-out accuracy of a model by greedy decoding: is the first label it names the gold one?"""

from __future__ import annotations

from collections.abc import Callable

import torch

from affect_llm.modeling.families import family_of_processor
from affect_llm.parsing import extract_labels
from affect_llm.training.backbone_data import backbone_greedy_answers
from affect_llm.training.collators import render_prompt


@torch.no_grad()
def greedy_answers(
    model,
    processor,
    rows: list[dict],
    media_loader: Callable[[dict], dict],
    max_new_tokens: int = 8,
    batch_size: int = 64,
) -> list[str]:
    """Greedy answers to each row's prompt, given its media."""
    family = family_of_processor(processor)
    if family is not None:
        return backbone_greedy_answers(
            model, processor, family, rows, media_loader, max_new_tokens, batch_size
        )
    was_training = model.training
    model.eval()
    answers = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        media = [media_loader(row) for row in chunk]
        inputs = processor(
            text=[render_prompt(processor, row["prompt"]) for row in chunk],
            faces=[m.get("faces") for m in media],
            aus=[m.get("aus") for m in media],
            audio=[m.get("audio") for m in media],
            padding_side="left",
        ).to(model.device)
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        new = out[:, inputs["input_ids"].shape[1] :]
        answers.extend(processor.batch_decode(new, skip_special_tokens=True))
    model.train(was_training)
    return answers


def label_accuracy(answers: list[str], rows: list[dict]) -> float:
    """Share of answers whose first extracted label is the row's `label`."""
    if not rows:
        raise ValueError("no rows to score")
    hits = 0
    for answer, row in zip(answers, rows):
        labels = extract_labels(answer)
        hits += bool(labels) and labels[0] == row["label"]
    return hits / len(rows)
