"""Fixtures of the benchmark tests: one full MER-UniBench run, a tiny judge LM."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_fixtures import EVAL, FAST


@pytest.fixture(scope="session")
def mer_run(tmp_path_factory) -> Path:
    """The whole MER-UniBench runner over the nine mini datasets with the tiny model."""
    from affect_llm.evaluation.mer_unibench import main

    out = tmp_path_factory.mktemp("mer_unibench")
    assert main(["--config", str(EVAL / "mer_unibench.yaml"), "--out", str(out), *FAST]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_llm_dir(tmp_path_factory) -> Path:
    """A random tiny Qwen2 causal LM with the offline tokenizer: stands in for a local judge LLM."""
    import torch
    from transformers import Qwen2ForCausalLM

    from affect_llm.modeling.tiny import load_tiny_tokenizer, tiny_text_config

    path = tmp_path_factory.mktemp("tiny_llm")
    tokenizer = load_tiny_tokenizer()
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(tiny_text_config(len(tokenizer)))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
