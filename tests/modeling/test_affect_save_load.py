"""Saved checkpoints are self-contained: they load where affect_llm cannot be imported, same logits."""

from __future__ import annotations

import json
import os
import re
import textwrap

import numpy as np
import pytest
import torch
from conftest import prompts_for, random_media
from safetensors.torch import save_file
from transformers import AutoProcessor
from transformers.dynamic_module_utils import get_imports

from affect_llm.action_units import OPENFACE_INTENSITY_AUS
from affect_llm.modeling import AffectLLMProcessor
from affect_llm.modeling.modeling_affect_llm import AUTO_MAP
from affect_llm.modeling.processing_affect_llm import NUM_ACTION_UNITS
from affect_llm.modeling.tiny import tiny_model_and_processor
from affect_llm.training.export import save_checkpoint

# Run with `python -I` (no PYTHONPATH, no current folder) plus a finder that refuses `affect_llm`,
# so the editable install of this repository cannot be reached either.
BLOCK_AFFECT_LLM = textwrap.dedent(
    """
    import sys

    class _NoAffectLLM:
        def find_spec(self, name, path=None, target=None):
            if name == "affect_llm" or name.startswith("affect_llm."):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, _NoAffectLLM())
    """
)

RELOAD = BLOCK_AFFECT_LLM + textwrap.dedent(
    """
    import json, os, numpy as np, torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoProcessor

    # the saving process's thread count: a CPU reduction split another way rounds differently
    torch.set_num_threads(int(os.environ["SAVED_WITH_THREADS"]))

    try:
        import affect_llm
        raise SystemExit("affect_llm is importable")
    except ModuleNotFoundError:
        pass
    for directory in sys.argv[1:]:
        for auto in (AutoConfig, AutoModelForCausalLM, AutoProcessor):
            try:
                auto.from_pretrained(directory)
                raise SystemExit(f"{auto.__name__} loaded custom code without trust_remote_code")
            except ValueError as error:
                assert "trust_remote_code=True" in str(error), error
        case = json.load(open(f"{directory}/case.json"))
        arrays = np.load(f"{directory}/media.npz")
        media = {
            key: [arrays[f"{key}{i}"] if f"{key}{i}" in arrays else None for i in range(case["n"])]
            if case[key] else None
            for key in ("faces", "aus", "audio")
        }
        expected = load_file(f"{directory}/expected.safetensors")
        config = AutoConfig.from_pretrained(directory, trust_remote_code=True)
        model = AutoModelForCausalLM.from_pretrained(directory, trust_remote_code=True).eval()
        processor = AutoProcessor.from_pretrained(directory, trust_remote_code=True)
        assert type(config).__name__ == "AffectLLMConfig", type(config)
        assert type(model).__name__ == "AffectLLMForConditionalGeneration", type(model)
        assert type(processor).__name__ == "AffectLLMProcessor", type(processor)
        batch = processor(text=case["prompts"], **media, return_tensors="pt")
        with torch.no_grad():
            logits = model(**batch).logits
        assert torch.equal(batch["input_ids"], expected["input_ids"]), directory
        assert torch.equal(logits, expected["logits"]), (directory, (logits - expected["logits"]).abs().max())
    print("reloaded", len(sys.argv) - 1)
    """
)


def _isolated_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HF_"))}
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    env["SAVED_WITH_THREADS"] = str(torch.get_num_threads())
    return env


def _save_case(directory, face, audio) -> None:
    model, processor = tiny_model_and_processor(face, audio, seed=3)
    model.eval()
    media = random_media(face, 3, seed=5, missing=True)
    prompts = prompts_for(media)
    batch = processor(text=prompts, **media, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    save_checkpoint(model, processor, directory)
    save_file(
        {"input_ids": batch["input_ids"], "logits": logits.contiguous()},
        str(directory / "expected.safetensors"),
    )
    arrays = {
        f"{key}{i}": value
        for key in ("faces", "aus", "audio")
        for i, value in enumerate(media[key] or [])
        if value is not None
    }
    np.savez(directory / "media.npz", **arrays)
    case = {"prompts": prompts, "n": 3, **{k: media[k] is not None for k in media}}
    (directory / "case.json").write_text(json.dumps(case))


def _card_snippet(directory, face: str) -> str:
    card = (directory / "README.md").read_text()
    assert "base LLM" in card and "qwen2" in card and "[None]" not in card
    assert (face if face != "au" else "AU-sequence") in card
    snippet = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    # the tiny CLIP / SigLIP read 32x32 crops; the snippet's shape is for real checkpoints
    return snippet.replace("224, 224", "32, 32")


def test_saved_folder_names_its_code_in_auto_map_and_imports_no_affect_llm(tmp_path):
    model, processor = tiny_model_and_processor("clip", "hubert")
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["auto_map"] == AUTO_MAP
    for entry in AUTO_MAP.values():
        assert (tmp_path / f"{entry.split('.')[0]}.py").exists(), entry
    generation = json.loads((tmp_path / "generation_config.json").read_text())
    assert set(generation["suppress_tokens"]) >= {config["face_token_id"], config["audio_token_id"]}
    for path in tmp_path.glob("*.py"):  # what transformers requires installed before loading
        assert "affect_llm" not in get_imports(path), path
    processor.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "processor_config.json").read_text())
    assert saved["auto_map"]["AutoProcessor"] == "processing_affect_llm.AffectLLMProcessor"
    for path in tmp_path.glob("*.py"):  # prosody.py is the implementation, not a re-export
        assert "affect_llm" not in get_imports(path), path


def test_auto_processor_never_falls_back_to_a_bare_tokenizer(tmp_path):
    model, processor = tiny_model_and_processor("siglip", "whisper")
    model.save_pretrained(tmp_path)
    processor.tokenizer.save_pretrained(tmp_path)  # a tokenizer alone, no processor_config.json
    with pytest.raises(OSError, match="no AffectLLMProcessor settings"):
        AutoProcessor.from_pretrained(tmp_path)
    with pytest.raises(OSError, match="no AffectLLMProcessor settings"):
        AffectLLMProcessor.from_pretrained(tmp_path)


def test_processor_au_width_is_the_openface_au_list():
    assert len(OPENFACE_INTENSITY_AUS) == NUM_ACTION_UNITS


def test_towers_loaded_without_their_weights_are_initialised_as_fresh_ones():
    """Missing weights get the towers' own init (Whisper's sinusoidal positions, CLIP's scaled
    attention), as in a model built from its config, not the decoder's generic N(0, 0.02)."""
    fresh, _ = tiny_model_and_processor("clip", "whisper")
    loaded = type(fresh).from_pretrained(None, config=fresh.config, state_dict={})
    positions = "model.audio_encoder.tower.embed_positions.weight"
    torch.testing.assert_close(loaded.state_dict()[positions], fresh.state_dict()[positions])
    clip = fresh.config.face_config
    std = clip.hidden_size**-0.5 * (2 * clip.num_hidden_layers) ** -0.5 * clip.initializer_factor
    for model in (fresh, loaded):
        q_proj = model.model.face_encoder.tower.encoder.layers[0].self_attn.q_proj
        assert abs(float(q_proj.weight.detach().std()) / std - 1) < 0.2
