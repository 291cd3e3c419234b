"""The benchmark runners score a pretrained omni model as it is (zero-shot), like AffectLLM.

A tiny random Qwen2.5-Omni thinker saved to a folder is given to `--model`: the three runners write
results.json on the mini benchmark layouts, answers resume from responses.jsonl, and the own-data
EMER recipe runs with the family folder in place of an AffectLLM one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from eval_fixtures import EVAL, REPO

from affect_llm.data.builder import BuildConfig, SourceItem
from affect_llm.data.cache import FeatureCache
from affect_llm.modeling.tiny_backbones import TINY_FRAMES, save_tiny_backbone

SAMPLES = REPO / "affect_llm" / "resources" / "samples"
# the tiny model's frames (56 x 56, at most 8), short answers, cue texts without perception
FAMILY_FAST = [
    "--max-new-tokens",
    "6",
    "--video-max-pixels",
    str(TINY_FRAMES.max_pixels),
    "--video-max-frames",
    str(TINY_FRAMES.max_frames),
    "--limit",
    "2",
    "--no-progress",
]


@pytest.fixture(scope="module")
def tiny_omni(tmp_path_factory) -> Path:
    return save_tiny_backbone("omni", tmp_path_factory.mktemp("models") / "tiny-omni")


def _responses(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "responses.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("family_name", ["omni", "vl", "audio"])
def test_an_items_clip_reaches_the_model_as_the_family_reads_it(family_name, tiny_omni, tmp_path):
    from affect_llm.evaluation.backbone_answers import FamilyInputs
    from affect_llm.modeling.backbone_generation import generation_inputs
    from affect_llm.modeling.backbones import load_backbone, media_token_counts

    folder = tiny_omni if family_name == "omni" else save_tiny_backbone(family_name, tmp_path / "m")
    model, processor, family = load_backbone(folder)
    inputs = FamilyInputs(model, processor, family, TINY_FRAMES, cues=("subtitle",))
    item = SourceItem(id="hopper_happy", video=str(SAMPLES / "hopper_happy.mp4"))
    cache = FeatureCache(tmp_path / "cache")
    meta, media = inputs.perceive(item, BuildConfig(), cache)
    assert meta == {}  # subtitle-only cues: no perception run
    frames = media["video"]
    if family.sees_video:
        assert 2 <= len(frames) <= TINY_FRAMES.max_frames
        assert frames.shape[1] * frames.shape[2] <= TINY_FRAMES.max_pixels
        # decoded once: the second read comes from the run's feature cache
        again = inputs.perceive(item, BuildConfig(), cache)[1]
        assert (again["video"] == frames).all() and again["video_fps"] == media["video_fps"]
    else:
        assert frames is None
    if family.sees_audio:
        assert media["audio"].dtype.name == "float32" and len(media["audio"]) > 16000
    else:
        assert media["audio"] is None
    text = inputs.render("How does she feel?", media)
    assert text.rstrip().endswith("assistant")
    batch = generation_inputs(processor, family, [text], [media])
    counts = media_token_counts(processor, batch["input_ids"][0])
    assert (counts.get("video", 0) > 0) == family.sees_video
    assert (counts.get("audio", 0) > 0) == family.sees_audio
    # Qwen2.5-Omni hears the audio inside the video (TMRoPE positions need the flag)
    assert batch.get("use_audio_in_video", False) == (family_name == "omni")
    # a left-padded batch answers as each prompt alone does
    texts = [text, inputs.render("Which one emotion does the person in this clip show?", media)]
    kwargs = {"max_new_tokens": 4, "do_sample": False}
    alone = [inputs.generate([t], [media], kwargs)[0] for t in texts]
    assert inputs.generate(texts, [media, media], kwargs) == alone


@pytest.mark.slow
def test_mer_unibench_scores_a_zero_shot_omni_folder_and_resumes(tiny_omni, tmp_path):
    from affect_llm.evaluation.mer_unibench import main

    out = tmp_path / "out"
    args = ["--config", str(EVAL / "mer_unibench.yaml"), "--model", str(tiny_omni)]
    args += ["--datasets", "mer2023", "meld", "mosi", "ovmerd", "--cues", "subtitle"]
    assert main([*args, "--out", str(out), *FAMILY_FAST]) == 0
    results = json.loads((out / "results.json").read_text())
    (checkpoint,) = results["checkpoints"]
    assert checkpoint["model"] == str(tiny_omni)
    assert set(checkpoint["datasets"]) == {"mer2023", "meld", "mosi", "ovmerd"}
    for name, result in checkpoint["datasets"].items():
        assert result["failed_samples"] == 0, name
        rows = _responses(out / "tiny-omni" / name)
        assert len(rows) == result["samples"] == 2 and not any("error" in r for r in rows)
        assert 0.0 <= result["score"] <= 1.0
    settings = json.loads((out / "tiny-omni" / "meld" / "generation.json").read_text())
    assert settings["family"] == "omni" and settings["frames"]["max_pixels"] == 3136
    # resumable: a rerun generates nothing new
    before = (out / "tiny-omni" / "meld" / "responses.jsonl").read_bytes()
    assert main([*args, "--out", str(out), *FAMILY_FAST]) == 0
    assert (out / "tiny-omni" / "meld" / "responses.jsonl").read_bytes() == before
    # ... and refuses to mix answers made at other frame settings
    other = [*FAMILY_FAST]
    other[other.index("--video-max-frames") + 1] = "4"
    assert main([*args, "--out", str(out), *other]) == 2


@pytest.mark.slow
def test_dfew_mafw_and_emer_runners_take_an_omni_folder(tiny_omni, tmp_path):
    from affect_llm.evaluation.closed_set import main as closed_set
    from affect_llm.evaluation.emer import main as emer

    out = tmp_path / "closed"
    model = ["--model", str(tiny_omni), "--cues", "subtitle", *FAMILY_FAST]
    assert closed_set(["--config", str(EVAL / "dfew_mafw.yaml"), "--out", str(out), *model]) == 0
    results = json.loads((out / "results.json").read_text())
    for dataset in ("dfew", "mafw"):
        result = results["checkpoints"][0]["datasets"][dataset]
        assert set(result["folds"]) == {"1", "2"}
        assert all(scores["samples"] == 2 for scores in result["folds"].values())
        assert not any("error" in r for r in _responses(out / "tiny-omni" / dataset / "fold1"))
    out = tmp_path / "emer"
    assert emer(["--config", str(EVAL / "emer.yaml"), "--out", str(out), *model]) == 0
    result = json.loads((out / "results.json").read_text())["checkpoints"][0]["emer"]
    assert result["proxy"]["samples"] == 2


@pytest.mark.slow
def test_own_data_emer_recipe_runs_with_a_family_folder(tiny_omni, tmp_path):
    """recipes/own_data/emer.yaml as a user runs it, only --model changed to the family folder
    (every cue, so perception runs too)."""
    from affect_llm.evaluation.emer import main

    (tmp_path / "recipes" / "own_data").mkdir(parents=True)
    shutil.copy(REPO / "recipes" / "own_data" / "emer.yaml", tmp_path / "recipes" / "own_data")
    shutil.copytree(SAMPLES, tmp_path / "clips", ignore=shutil.ignore_patterns("NOTICE.md"))
    out = tmp_path / "runs" / "eval"
    config = str(tmp_path / "recipes" / "own_data" / "emer.yaml")
    argv = ["--config", config, "--model", str(tiny_omni), "--out", str(out), *FAMILY_FAST]
    assert main(argv) == 0
    result = json.loads((out / "results.json").read_text())["checkpoints"][0]
    assert result["emer"]["proxy"]["samples"] == 2
    rows = _responses(out / "tiny-omni" / "emer")
    assert len(rows) == 2 and {r["name"] for r in rows} <= {p.stem for p in SAMPLES.glob("*.mp4")}
    assert not any("error" in r for r in rows)
