"""The README's own-data path, walked as documented: build, SFT, GRPO, eval on one's own clips.

The commands are read from the README's "Train on your own clips" block and run from a copy of the
checkout's recipes/ and eval/ (only shorter runs are appended as flags), so the README cannot drift
from what works; the recipes' summaries must show exactly the folder's rows and no synthetic ones.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SAMPLES = ROOT / "affect_llm" / "resources" / "samples"
# shorter runs than the documented ones, appended as flags (flags override the YAML)
SHORTER = {
    "sft": ["--max_steps", "2"],  # affect-llm sft
    "grpo": ["--max_steps", "1"],  # affect-llm grpo
    "emer": ["--limit", "2", "--max-new-tokens", "8"],  # affect-llm eval emer
}


def readme_block(title: str) -> list[str]:
    """The command lines of the first bash block under the README heading `title`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def runnable(line: str) -> list[str]:
    """The command with this environment's executables and the shorter-run flags."""
    argv = shlex.split(line)
    tools = {"affect-llm": str(BIN / "affect-llm"), "accelerate": str(BIN / "accelerate")}
    argv[0] = sys.executable if argv[0] == "python" else tools.get(argv[0], argv[0])
    for command, flags in SHORTER.items():
        if command in argv[1:3]:
            argv += flags
    return argv


def own_clips(folder: Path) -> None:
    """The bundled clips with a labels.csv as a researcher writes it: one clip held out for
    testing and one row whose clip is missing."""
    clips = folder / "clips"
    clips.mkdir()
    for clip in SAMPLES.glob("*.mp4"):
        shutil.copy(clip, clips / clip.name)
    with open(SAMPLES / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["split"] = "test" if row["name"] == "hopper_surprise" else "train"
    rows.append({**rows[0], "name": "no_such_clip", "split": "train"})
    with open(clips / "labels.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.slow
def test_own_data_path_as_documented(tmp_path):
    own_clips(tmp_path)
    for folder in ("recipes", "eval"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    commands = readme_block("Train on your own clips")
    tools = [shlex.split(command)[0] for command in commands]
    assert tools == ["affect-llm"] * 4
    outputs = []
    for line in commands:
        done = subprocess.run(
            runnable(line), cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (line, done.stderr[-3000:])
        assert "Traceback" not in done.stderr
        # no noise a user cannot act on: launcher defaults, deprecation warnings, metric dicts
        assert "were not passed to `accelerate launch`" not in done.stderr
        assert "FutureWarning" not in done.stderr
        assert "W0000" not in done.stderr  # mediapipe's native log lines
        assert "{'" not in done.stdout
        outputs.append(done.stdout)

    build, sft, grpo, evaluation = outputs
    samples = (tmp_path / "data/mine/samples.jsonl").read_text().splitlines()
    built = sorted(json.loads(sample)["id"] for sample in samples)
    assert built == ["hopper_angry", "hopper_happy", "hopper_sad", "hopper_surprise"]
    errors = (tmp_path / "data/mine/errors.jsonl").read_text()
    assert "no_such_clip" in errors and "built 4/5 samples" in build
    for summary in (sft, grpo):
        assert "training rows: 3\n  data/mine: 3 rows, 1 dropped\n" in summary
        assert "dropped 1 in split 'test', not in train: hopper_surprise" in summary
        assert "synthetic" not in summary  # no synthetic source, no synthetic row
        assert "cues in the prompt: subtitle, aus, body, audio" in summary
        assert "modalities: face 3/3, audio 3/3" in summary
        assert "first prompt: <|face|><|audio|> | Subtitle: " in summary
        assert "<think></think>" in summary  # the rows' own task: reason (labels have reasons)
    assert re.search(r"^step 2: .*seconds [0-9.]+, mean loss", sft, re.M)  # one short line
    assert "SFT done" in sft and "-> runs/own-sft" in sft
    assert "GRPO done" in grpo and "-> runs/own-grpo" in grpo
    assert (tmp_path / "runs/own-grpo/config.json").is_file()
    results = json.loads((tmp_path / "runs/eval/own/results.json").read_text())
    checkpoint = results["checkpoints"][0]
    assert checkpoint["name"] == "own-grpo" and '"samples": 1' in evaluation
    # the eval scores the held-out clip only, not the clips the model trained on
    answered = (tmp_path / "runs/eval/own/own-grpo/emer/responses.jsonl").read_text()
    assert [json.loads(line)["name"] for line in answered.splitlines()] == ["hopper_surprise"]


def test_the_summary_warns_when_a_small_folder_gets_too_few_steps(tmp_path):
    """3 rows x 20 epochs (the old default) ran 20 optimizer steps and learnt nothing (loss 6.97):
    the pre-training summary says so; the recipe's own settings are enough."""
    import yaml
    from trl import SFTConfig

    from affect_llm.training.data_loading import check_schedule

    def config(**values):
        return SFTConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True, **values)

    old = check_schedule(3, config(num_train_epochs=20, per_device_train_batch_size=4))
    assert old == (
        "warning: 3 rows x 20 epochs at batch 4 give only 20 optimizer steps; a small folder "
        "needs about 50 to learn its answers: set num_train_epochs to at least 50, or add rows"
    )
    recipe = yaml.safe_load((ROOT / "recipes/own_data/sft.yaml").read_text())
    keys = ("num_train_epochs", "per_device_train_batch_size")
    assert check_schedule(3, config(**{key: recipe[key] for key in keys})) is None
    assert check_schedule(3, config(num_train_epochs=1, max_steps=5)) is None  # asked for
    assert check_schedule(400, config(num_train_epochs=1, per_device_train_batch_size=4)) is None


@pytest.mark.slow
def test_own_data_path_with_a_pretrained_omni_checkpoint(tmp_path):
    """A researcher changes only `model_name_or_path` in recipes/own_data/sft.yaml to a
    Qwen2.5-Omni folder: SFT, GRPO (from the SFT output, as the recipe says) and the EMER eval run,
    and the AffectLLM-only keys are ignored with one note."""
    from affect_llm.modeling.tiny_backbones import save_tiny_backbone

    own_clips(tmp_path)
    for folder in ("recipes", "eval"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    omni = save_tiny_backbone("omni", tmp_path / "Qwen2.5-Omni-tiny")
    recipe = tmp_path / "recipes/own_data/sft.yaml"
    text = recipe.read_text(encoding="utf-8")
    recipe.write_text(
        re.sub(r"^model_name_or_path: .*$", f"model_name_or_path: {omni}", text, flags=re.M),
        encoding="utf-8",
    )
    outputs = []
    for line in readme_block("Train on your own clips"):
        done = subprocess.run(
            runnable(line), cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, (line, done.stderr[-3000:])
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout)
    _, sft, grpo, _ = outputs
    assert "AffectLLM-only settings are ignored" in sft and "num_face_tokens" in sft
    for summary in (sft, grpo):
        assert "modalities: video 3/3, audio 3/3" in summary
        assert "media tokens per sample" in summary
        assert "<|face|>" not in summary
    for run in ("own-sft", "own-grpo"):
        config = json.loads((tmp_path / f"runs/{run}/config.json").read_text())
        assert config["model_type"] == "qwen2_5_omni_thinker"
        assert (tmp_path / f"runs/{run}/processor_config.json").is_file()
    results = json.loads((tmp_path / "runs/eval/own/results.json").read_text())
    assert results["checkpoints"][0]["name"] == "own-grpo"
