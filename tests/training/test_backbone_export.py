"""A trained omni / VL / audio backbone exports as a native checkpoint of its family.

After a short SFT run on each tiny family checkpoint, the merged LoRA export (and a full
fine-tune's output) loads in a process where affect_llm cannot be imported, with transformers'
own family class and `AutoProcessor`, and gives the trainer's logits on the same batch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from affect_llm.modeling.backbones import content_parts, load_backbone, render_prompt
from affect_llm.modeling.families import AUDIO_FAMILY, OMNI, VL
from affect_llm.modeling.tiny_backbones import TINY_FRAMES, save_tiny_backbone
from affect_llm.training.backbone_models import build_backbone
from affect_llm.training.config import AffectModelConfig
from affect_llm.training.export import merged_dir, save_trained

pytestmark = pytest.mark.slow

FAMILIES = ("omni", "vl", "audio")
CLASSES = {
    "omni": "Qwen2_5OmniThinkerForConditionalGeneration",
    "omni-full": "Qwen2_5OmniThinkerForConditionalGeneration",  # trained and saved: the thinker
    "vl": "Qwen2_5_VLForConditionalGeneration",
    "audio": "Qwen2AudioForConditionalGeneration",
}
# `python -I` (no PYTHONPATH, no current folder) and a finder refusing `affect_llm`, as in
# tests/modeling/test_affect_save_load.py, so not even the editable install is reachable.
RELOAD = textwrap.dedent(
    """
    import sys

    class _NoAffectLLM:
        def find_spec(self, name, path=None, target=None):
            if name == "affect_llm" or name.startswith("affect_llm."):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, _NoAffectLLM())
    import json, os, torch, transformers
    from safetensors.torch import load_file
    from transformers import AutoProcessor

    torch.set_num_threads(int(os.environ["SAVED_WITH_THREADS"]))
    try:
        import affect_llm
        raise SystemExit("affect_llm is importable")
    except ModuleNotFoundError:
        pass
    directory, case_dir = sys.argv[1], sys.argv[2]
    case = json.load(open(f"{case_dir}/case.json"))
    model = getattr(transformers, case["class"]).from_pretrained(directory).eval()
    processor = AutoProcessor.from_pretrained(directory)
    assert type(processor).__name__ == case["processor"], type(processor)
    assert model.config.model_type == case["model_type"], model.config.model_type
    prompt = processor.apply_chat_template(case["messages"], tokenize=False, add_generation_prompt=True)
    assert prompt == case["prompt"], (prompt, case["prompt"])
    batch = load_file(f"{case_dir}/batch.safetensors")
    expected = batch.pop("expected_logits")
    with torch.no_grad():
        logits = model(**batch, **case["flags"]).logits
    diff = (logits - expected).abs().max().item()
    assert diff <= 1e-5, diff
    print("logits max diff", diff)
    """
)


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-backbones")
    checkpoints = {family: save_tiny_backbone(family, root / family) for family in FAMILIES}
    checkpoints["omni-full"] = _full_omni(checkpoints["omni"], root / "omni-full")
    return checkpoints


def _full_omni(thinker_dir, out):
    """A released Qwen2.5-Omni folder's layout (thinker, talker and token2wav weights and
    configs) around the tiny thinker, as tests/modeling/test_backbone_families.py builds it."""
    out.mkdir()
    full = {
        "model_type": "qwen2_5_omni",
        "architectures": ["Qwen2_5OmniForConditionalGeneration"],
        "thinker_config": json.loads((thinker_dir / "config.json").read_text()),
        "talker_config": {"model_type": "qwen2_5_omni_talker"},
        "token2wav_config": {"model_type": "qwen2_5_omni_token2wav"},
        "enable_audio_output": True,
    }
    (out / "config.json").write_text(json.dumps(full))
    weights = {f"thinker.{k}": v for k, v in load_file(thinker_dir / "model.safetensors").items()}
    weights["talker.codec_head.weight"] = torch.zeros(4, 4)
    weights["token2wav.code2wav_dit_model.proj.weight"] = torch.zeros(4, 4)
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json", "processor_config.json"):
        shutil.copy(thinker_dir / name, out / name)
    shutil.copy(thinker_dir / "chat_template.jinja", out / "chat_template.jinja")
    return out


def _media(index: int) -> dict:
    rng = np.random.default_rng(index)
    return {
        "video": rng.integers(0, 256, (4, 56, 56, 3), dtype=np.uint8),
        "video_fps": 2.0,
        "video_max_pixels": TINY_FRAMES.max_pixels,
        "audio": (0.1 * rng.standard_normal(16000 * 2)).astype(np.float32),
    }


def _rows() -> list[dict]:
    answers = ("happy", "sad", "angry", "neutral")
    return [
        {
            "id": f"clip{i}",
            "prompt": [{"role": "user", "content": "Which emotion does the person show?"}],
            "completion": [{"role": "assistant", "content": f"<answer>{answers[i]}</answer>"}],
        }
        for i in range(4)
    ]


def _train(checkpoint, out, llm_mode: str):
    from trl import SFTConfig

    from affect_llm.training.trainers import build_sft_trainer

    config = AffectModelConfig(
        model_name_or_path=str(checkpoint), llm_mode=llm_mode, lora_r=4, lora_alpha=8
    )
    model, processor, _ = build_backbone(config)
    args = SFTConfig(
        output_dir=str(out),
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=5e-3,
        lr_scheduler_type="constant",
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        bf16=False,
        seed=0,
    )
    media = {row["id"]: _media(i) for i, row in enumerate(_rows())}
    trainer = build_sft_trainer(
        None, None, args, model, processor, _rows(), lambda row: media[row["id"]]
    )
    trainer.train()
    return trainer, processor


def _reload(exported, case_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HF_"))}
    env.update(HF_HUB_OFFLINE="1", SAVED_WITH_THREADS=str(torch.get_num_threads()))
    return subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(exported), str(case_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _case(trainer, processor, family_name, case_dir, base_checkpoint) -> None:
    """The trainer's logits on a collated batch, and what the export's processor must render;
    they must differ from the untrained checkpoint's, or the export test would prove nothing."""
    family = {"omni": OMNI, "omni-full": OMNI, "vl": VL, "audio": AUDIO_FAMILY}[family_name]
    batch = trainer.data_collator(_rows()[:2])
    batch.pop("labels")
    model = trainer.accelerator.unwrap_model(trainer.model).eval()
    with torch.no_grad():
        logits = model(**batch).logits
        untrained = load_backbone(base_checkpoint)[0].eval()(**batch).logits
    assert (logits - untrained).abs().max() > 1e-3
    case_dir.mkdir()
    tensors = {k: v.contiguous() for k, v in batch.items() if isinstance(v, torch.Tensor)}
    save_file(
        {**tensors, "expected_logits": logits.contiguous()}, str(case_dir / "batch.safetensors")
    )
    has_video, has_audio = family.sees_video, family.sees_audio
    prompt = render_prompt(processor, family, "How does she feel?", has_video, has_audio)
    messages = [
        {
            "role": "user",
            "content": content_parts(family, "How does she feel?", has_video, has_audio),
        }
    ]
    case = {
        "class": CLASSES[family_name],
        "processor": type(processor).__name__,
        "model_type": model.config.model_type,
        "messages": messages,
        "prompt": prompt,
        # what the batch says besides tensors (Qwen2.5-Omni: use_audio_in_video)
        "flags": {k: v for k, v in batch.items() if not isinstance(v, torch.Tensor)},
    }
    (case_dir / "case.json").write_text(json.dumps(case))


@pytest.mark.parametrize("family_name", [*FAMILIES, "omni-full"])
def test_merged_lora_export_is_a_native_checkpoint_with_the_trainers_logits(
    family_name, tiny_checkpoints, tmp_path
):
    torch.set_num_threads(1)
    out = tmp_path / "run"
    trainer, processor = _train(tiny_checkpoints[family_name], out, "lora")
    # the trained (unmerged) adapters' logits, before the export merges them in place
    _case(trainer, processor, family_name, tmp_path / "case", tiny_checkpoints[family_name])
    save_trained(trainer, out)
    merged = merged_dir(out)
    for folder in (out, merged):  # the adapter folder and the merged model both carry the processor
        for name in ("processor_config.json", "chat_template.jinja", "README.md"):
            assert (folder / name).is_file(), (folder, name)
    assert (out / "adapter_config.json").is_file()
    assert not (merged / "adapter_config.json").exists()
    card = (merged / "README.md").read_text(encoding="utf-8")
    assert CLASSES[family_name] in card and "affect-llm" in card
    if family_name == "omni-full":  # a released Omni folder: the thinker alone is exported
        assert json.loads((merged / "config.json").read_text())["model_type"] == (
            "qwen2_5_omni_thinker"
        )
        assert "talker and token2wav" in card
    result = _reload(merged, tmp_path / "case", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "logits max diff" in result.stdout
    print(family_name, result.stdout.strip())  # shown with -s


def test_full_fine_tune_output_is_a_native_checkpoint_and_its_card_runs(tiny_checkpoints, tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "run"
    trainer, processor = _train(tiny_checkpoints["omni"], out, "full")
    _case(trainer, processor, "omni", tmp_path / "case", tiny_checkpoints["omni"])
    save_trained(trainer, out)
    assert not merged_dir(out).exists()
    assert (out / "processor_config.json").is_file()
    result = _reload(out, tmp_path / "case", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    # the card's loading snippet runs as written, also without affect_llm
    card = (out / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    script = RELOAD.split("import json, os, torch")[0] + snippet
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HF_"))}
    ran = subprocess.run(
        [sys.executable, "-I", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**env, "HF_HUB_OFFLINE": "1"},
        stdin=subprocess.DEVNULL,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
