"""Train the tiny model on the synthetic set (affect_llm.training.synthetic) and measure accuracy."""

from __future__ import annotations

import numpy as np
import torch

from affect_llm.training.collators import AffectLLMDataCollator
from affect_llm.training.synthetic import make_rows


def train_and_evaluate(
    model, processor, modality: str, max_steps: int = 150, seed: int = 0, lr: float = 3e-3
) -> tuple[float, int]:
    """Train the whole tiny model until its training loss is low (or `max_steps`), then return the
    greedy-decoding accuracy on held-out rows and the number of steps taken."""
    torch.manual_seed(seed)
    train_rows = make_rows(modality, 256, seed=seed)
    test_rows = make_rows(modality, 80, seed=seed + 1000)
    collate = AffectLLMDataCollator(processor)
    batches = [collate(train_rows[i : i + 32]) for i in range(0, len(train_rows), 32)]
    for batch in batches:
        # identical prompts and one-token labels: no padding, the answer is the last 2 tokens, so
        # only the last 3 positions need logits (the LM head dominates the tiny model's cost)
        assert bool(batch["attention_mask"].all())
        batch["labels"] = batch["labels"][:, -3:]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    low_loss_streak, step = 0, 0
    for step in range(1, max_steps + 1):
        loss = model(**batches[step % len(batches)], logits_to_keep=3).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        low_loss_streak = low_loss_streak + 1 if loss.item() < 0.05 else 0
        if low_loss_streak == len(batches):  # a whole epoch of near-zero loss
            break
    model.eval()
    processor.tokenizer.padding_side = "left"
    texts = [r["prompt"] for r in test_rows]
    inputs = processor(
        text=texts, aus=[r["aus"] for r in test_rows], audio=[r["audio"] for r in test_rows]
    )
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=2, do_sample=False)
    answers = processor.batch_decode(
        out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    hits = [a.strip().split(" ")[0] == r["label"] for a, r in zip(answers, test_rows)]
    return float(np.mean(hits)), step
