"""SFT batches and the prompt text both trainers tokenise: rows of chat messages -> model inputs.

Library-side only (a saved checkpoint holds the processor, not how this project trains it).
"""

from __future__ import annotations

import torch

from affect_llm.modeling.processing_affect_llm import AffectLLMProcessor


def render_prompt(processor: AffectLLMProcessor, prompt: str | list[dict]) -> str:
    """Prompt text ending where the assistant starts: chat template for message lists, else as is."""
    if isinstance(prompt, str):
        return prompt
    return processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)


def render_completion(processor: AffectLLMProcessor, completion: str | list[dict]) -> str:
    """The assistant's reply followed by the end-of-turn token the model must learn to emit."""
    if not isinstance(completion, str):
        completion = "".join(
            m["content"]
            if isinstance(m["content"], str)
            else "".join(part.get("text", "") for part in m["content"])
            for m in completion
            if m["role"] == "assistant"
        )
    return completion + processor.tokenizer.eos_token


class AffectLLMDataCollator:
    """Batches SFT rows into model inputs: prompt tokens are masked out of `labels`.

    Rows: `prompt` (messages or text with `<|face|>` / `<|audio|>`), `completion` (messages or
    text), and optional `faces` / `aus` / `audio` per row (see `AffectLLMProcessor`). Subclasses
    change only how prompts and their media are encoded (`encode_prompts`), e.g.
    `CachedFeatureCollator` for rows that carry cached encoder outputs.
    """

    def __init__(self, processor: AffectLLMProcessor, max_length: int | None = None):
        self.processor = processor
        self.max_length = max_length

    def encode_prompts(
        self, prompts: list[str], rows: list[dict]
    ) -> tuple[list[list[int]], dict[str, torch.Tensor]]:
        """Token ids of each prompt (placeholders expanded) and the batch's media inputs."""
        encoded = self.processor(
            text=prompts,
            faces=[row.get("faces") for row in rows],
            aus=[row.get("aus") for row in rows],
            audio=[row.get("audio") for row in rows],
            return_tensors=None,
            padding=False,
        )
        media = {k: v for k, v in encoded.items() if k not in ("input_ids", "attention_mask")}
        return encoded["input_ids"], media

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.processor.tokenizer
        prompts = [render_prompt(self.processor, row["prompt"]) for row in rows]
        prompt_ids, media = self.encode_prompts(prompts, rows)
        sequences, label_rows = [], []
        for ids, row in zip(prompt_ids, rows):
            answer = tokenizer(
                render_completion(self.processor, row["completion"]), add_special_tokens=False
            )["input_ids"]
            sequence, labels = list(ids) + answer, [-100] * len(ids) + answer
            if self.max_length is not None:
                sequence, labels = sequence[: self.max_length], labels[: self.max_length]
            sequences.append(sequence)
            label_rows.append(labels)
        length = max(len(s) for s in sequences)
        batch = len(rows)
        input_ids = torch.full((batch, length), tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(batch, length, dtype=torch.long)
        labels = torch.full((batch, length), -100, dtype=torch.long)
        for i, (sequence, lab) in enumerate(zip(sequences, label_rows)):
            input_ids[i, : len(sequence)] = torch.tensor(sequence)
            attention_mask[i, : len(sequence)] = 1
            labels[i, : len(lab)] = torch.tensor(lab)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels, **media}
