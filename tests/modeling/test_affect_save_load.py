"""save_pretrained -> Auto*.from_pretrained in a fresh process gives identical logits, every pair."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import ENCODER_PAIRS, prompts_for, random_media

from affect_llm.modeling.tiny import tiny_model_and_processor

RELOAD = textwrap.dedent(
    """
    import pickle, sys, torch
    import affect_llm.modeling  # registers the Auto classes
    from transformers import AutoModelForCausalLM, AutoProcessor

    for directory in sys.argv[1:]:
        with open(f"{directory}/case.pkl", "rb") as handle:
            case = pickle.load(handle)
        model = AutoModelForCausalLM.from_pretrained(directory).eval()
        processor = AutoProcessor.from_pretrained(directory)
        batch = processor(text=case["prompts"], **case["media"], return_tensors="pt")
        with torch.no_grad():
            logits = model(**batch).logits
        assert type(model).__name__ == "AffectLLMForConditionalGeneration", type(model)
        assert torch.equal(batch["input_ids"], case["input_ids"]), directory
        assert torch.equal(logits, case["logits"]), (directory, (logits - case["logits"]).abs().max())
    print("reloaded", len(sys.argv) - 1)
    """
)


@pytest.mark.slow
def test_reload_in_a_fresh_process_gives_identical_logits(tmp_path):
    directories = []
    for face, audio in ENCODER_PAIRS:
        model, processor = tiny_model_and_processor(face, audio, seed=3)
        model.eval()
        media = random_media(face, 3, seed=5, missing=True)
        prompts = prompts_for(media)
        batch = processor(text=prompts, **media, return_tensors="pt")
        with torch.no_grad():
            logits = model(**batch).logits
        directory = tmp_path / f"{face}-{audio}"
        model.save_pretrained(directory)
        processor.save_pretrained(directory)
        case = {
            "prompts": prompts,
            "media": media,
            "input_ids": batch["input_ids"],
            "logits": logits,
        }
        with open(directory / "case.pkl", "wb") as handle:
            pickle.dump(case, handle)
        directories.append(str(directory))
    result = subprocess.run(
        [sys.executable, "-c", RELOAD, *directories], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"reloaded {len(ENCODER_PAIRS)}" in result.stdout
