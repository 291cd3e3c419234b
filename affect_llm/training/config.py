"""Recipe configs: what model to build, what data to train on, which rewards to use.

Parsed with TRL's `TrlParser` together with TRL's `SFTConfig` / `GRPOConfig`, so one YAML file
(`--config`) holds all of them and command-line flags override it (see recipes/).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from trl import ModelConfig, TrlParser

from affect_llm.data.schema import TASKS
from affect_llm.data.templates import CUES
from affect_llm.errors import InputError, closest
from affect_llm.hub import model_folder
from affect_llm.training.guards import OutputDirConfig
from affect_llm.yaml_files import load_yaml


@dataclass
class AffectModelConfig(ModelConfig):
    """The model: the bundled tiny model, a saved AffectLLM folder, or pretrained components.

    TRL's `ModelConfig` gives `dtype`, `attn_implementation` ("auto": flash_attention_2 when
    installed with a GPU, else sdpa), the LoRA settings (`lora_r`, `lora_alpha`, `lora_dropout`,
    `lora_target_modules`, `use_rslora`, `use_dora`, ...) and `load_in_4bit` / `load_in_8bit`
    (QLoRA; needs a GPU). `llm_mode: lora` and TRL's `use_peft: true` mean the same.
    """

    model_name_or_path: str | None = field(
        default="tiny",
        metadata={
            "help": "'tiny' (offline random-init model), a saved AffectLLM folder, or None to "
            "compose `llm` + `face_encoder` + `audio_encoder`."
        },
    )
    llm: str | None = field(
        default=None, metadata={"help": "Qwen2 / LLaMA causal LM (hub name or path) to compose."}
    )
    face_encoder: str = field(
        default="au",
        metadata={
            "help": "'au' (AU sequences) or a CLIP / SigLIP vision checkpoint; for 'tiny': "
            "au, clip or siglip."
        },
    )
    audio_encoder: str = field(
        default="prosody",
        metadata={
            "help": "'prosody' or a Whisper / HuBERT checkpoint; for 'tiny': prosody, "
            "whisper or hubert."
        },
    )
    num_face_tokens: int = field(default=8, metadata={"help": "Tokens per face clip."})
    num_audio_tokens: int = field(default=8, metadata={"help": "Tokens per audio clip."})
    num_frames: int = field(default=8, metadata={"help": "Face crops per clip (CLIP / SigLIP)."})
    tiny_hidden_size: int = field(default=64, metadata={"help": "Decoder width of the tiny model."})
    tiny_text: str = field(default="qwen2", metadata={"help": "Tiny decoder kind: qwen2 or llama."})
    model_seed: int = field(default=0, metadata={"help": "Seed of the tiny model's random init."})
    llm_mode: str = field(
        default="full",
        metadata={"help": "How the LLM trains: full, lora (LoRA / QLoRA adapters) or frozen."},
    )
    train_face_encoder: bool | None = field(
        default=None,
        metadata={"help": "Train the face encoder (default: only the from-scratch AU encoder)."},
    )
    train_audio_encoder: bool | None = field(
        default=None,
        metadata={"help": "Train the audio encoder (default: only the from-scratch prosody one)."},
    )
    train_vision_tower: bool = field(
        default=False,
        metadata={"help": "Omni / VL backbones: train the vision tower and merger (else frozen)."},
    )
    train_audio_tower: bool = field(
        default=False,
        metadata={"help": "Omni / audio backbones: train the audio tower (else frozen)."},
    )

    def __post_init__(self):
        super().__post_init__()
        if self.use_peft and self.llm_mode == "full":
            self.llm_mode = "lora"
        self.use_peft = self.llm_mode == "lora"

    @property
    def load_in_bits(self) -> int | None:
        """4, 8 or None: how the LLM is loaded (TRL's `load_in_4bit` / `load_in_8bit`)."""
        return 4 if self.load_in_4bit else 8 if self.load_in_8bit else None


@dataclass
class AffectDataConfig:
    """Training data: built folders (`affect-llm build`) and / or the synthetic grounding set."""

    dataset_paths: list[str] = field(
        default_factory=list,
        metadata={"help": "Build folders (or samples.jsonl files) made by `affect-llm build`."},
    )
    dataset_splits: list[str] = field(
        default_factory=lambda: ["train"], metadata={"help": "Splits of samples.jsonl to use."}
    )
    task: str | None = field(
        default=None,
        metadata={
            "help": "Instruction task (openset, reason, onehot, sentiment); None: the row's."
        },
    )
    candidates: list[str] = field(
        default_factory=list, metadata={"help": "Choices for the onehot task (default: row's)."}
    )
    cues: list[str] = field(
        default_factory=lambda: ["subtitle", "aus", "body", "audio"],
        metadata={"help": "Cue texts rendered into the prompt (subtitle, aus, body, audio)."},
    )
    template_seed: int = field(default=0, metadata={"help": "Seed of the prompt paraphrases."})
    synthetic_samples: int = field(
        default=0, metadata={"help": "Rows of the synthetic 4-class face / voice set to add."}
    )
    synthetic_modality: str = field(
        default="both",
        metadata={"help": "Which input carries the synthetic label: face, audio or both."},
    )
    synthetic_seed: int = field(default=0, metadata={"help": "Seed of the synthetic set."})
    use_cached_features: bool = field(
        default=False,
        metadata={"help": "Read frozen-encoder outputs from the feature cache (no encoder runs)."},
    )
    video_fps: float = field(
        default=2.0,
        metadata={"help": "Omni / VL backbones: frames sampled per second of video (R1-Omni: 2)."},
    )
    video_max_frames: int = field(
        default=32, metadata={"help": "Omni / VL backbones: at most this many frames a clip."}
    )
    video_max_pixels: int = field(
        default=256 * 28 * 28,
        metadata={"help": "Omni / VL backbones: at most this many pixels a frame."},
    )


@dataclass
class AffectRewardConfig:
    """GRPO rewards by registry name (`affect_llm.rewards.REWARDS`); weights: `reward_weights`."""

    rewards: list[str] = field(
        default_factory=lambda: ["ew_f1"],
        metadata={
            "help": "Reward names, optionally with parameters: 'ew_f1', "
            "'ew_f1:level=level1,source=think', 'length_penalty:mode=inverse'."
        },
    )


SYNTHETIC_MODALITIES = ("face", "audio", "both")


def _field_names(dataclass_types) -> set[str]:
    return {f.name for cls in dataclass_types for f in fields(cls)}


def check_yaml_keys(config_path: str, dataclass_types) -> None:
    """Every key of a recipe YAML must be a config field; a typo names the file and the closest key."""
    config = load_yaml(config_path, "--config")  # bounded, plain values, one-line errors
    if not isinstance(config, dict):
        raise InputError(f"{config_path}: expected a YAML mapping of key: value")
    valid = _field_names(dataclass_types) | {"env"}
    for key in config:
        if key not in valid:
            raise InputError(
                f"{config_path}: unknown key {key!r}{closest(str(key), valid)}; the keys are "
                "the fields of the recipe's configs (see `--help`)"
            )


def check_flags(argv: list[str], dataclass_types) -> None:
    """Every flag must name a config field exactly (argparse would take `--learning_rat` for
    `--learning_rate`); a typo is one line with the closest flag."""
    from affect_llm.errors import InputError, closest

    valid = _field_names(dataclass_types) | {"config", "help"}
    for token in argv:
        name = token[2:].partition("=")[0].replace("-", "_")
        negated = name.startswith("no_") and name[3:] in valid  # --no_x of a boolean x
        if token.startswith("--") and name and name not in valid and not negated:
            raise InputError(f"unknown flag --{name}{closest(name, valid)} (see --help)")


def parse_recipe_args(dataclass_types, argv: list[str] | None = None) -> tuple:
    """TRL's parser over the recipe's configs (YAML via --config, flags override it), checked.

    Unknown YAML keys and impossible values are InputErrors (one line, exit code 2) before anything
    is built; `validate_configs` lists the checks.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    types = (*dataclass_types, OutputDirConfig)  # its flag is kept on the TrainingArguments
    check_flags(argv, types)
    if "--config" in argv and argv.index("--config") + 1 < len(argv):
        check_yaml_keys(argv[argv.index("--config") + 1], types)
    parser = TrlParser(types)

    def error(message: str):  # a bad value: one line, not argparse's usage block
        source = argv[argv.index("--config") + 1] if "--config" in argv[:-1] else "command line"
        raise InputError(f"{source}: {message.replace('argument ', '', 1)}")

    parser.error = error
    *parsed, output = parser.parse_args_and_config(argv)
    parsed[-1].overwrite_output_dir = output.overwrite_output_dir
    validate_configs(*parsed)
    return tuple(parsed)


def check_launch_precision(args) -> None:
    """Under a DeepSpeed launch, accelerate's mixed_precision must be the recipe's: otherwise every
    rank stops at the first step in DeepSpeed's config check with transformers' traceback (the
    ZeRO configs ask for bf16; the tiny recipes, made for CPUs, turn it off)."""
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() != "true":
        return
    launched = os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
    recipe = (
        "bf16" if getattr(args, "bf16", False) else "fp16" if getattr(args, "fp16", False) else "no"
    )
    if launched != recipe:
        flag = "false" if recipe == "no" else "true"
        raise InputError(
            f"the accelerate config asks for mixed_precision {launched}, the recipe for "
            f"{recipe} ({'bf16' if recipe == 'no' else recipe}: {flag}): pass "
            f"--mixed_precision {recipe}, or set the recipe's bf16 / fp16 to match"
        )


def validate_configs(*configs) -> None:
    """Checks that need no model or data: the model folder, task, cues, modality, build folders,
    and the launch's precision."""
    for config in configs:
        if hasattr(config, "bf16") and hasattr(config, "fp16"):  # the TrainingArguments
            check_launch_precision(config)
        if isinstance(config, AffectModelConfig):
            name = config.model_name_or_path
            if name not in (None, "tiny"):
                config.model_name_or_path = model_folder(name, "model_name_or_path")
        if isinstance(config, AffectDataConfig):
            if config.task is not None and config.task not in TASKS:
                raise InputError(
                    f"task {config.task!r} is not a task{closest(config.task, TASKS)}; "
                    f"choose one of {', '.join(TASKS)}"
                )
            for cue in config.cues:
                if cue not in CUES:
                    raise InputError(
                        f"cues: {cue!r} is not a cue{closest(cue, CUES)}; choose from "
                        f"{', '.join(CUES)}"
                    )
            if config.synthetic_modality not in SYNTHETIC_MODALITIES:
                raise InputError(
                    f"synthetic_modality {config.synthetic_modality!r}: choose one of "
                    f"{', '.join(SYNTHETIC_MODALITIES)}"
                )
            for path in config.dataset_paths:
                folder = Path(path)
                samples = folder / "samples.jsonl" if folder.is_dir() else folder
                if not samples.is_file():
                    raise InputError(
                        f"dataset_paths: {path} has no samples.jsonl (expected a folder made by "
                        "`affect-llm build`)"
                    )
            if not config.dataset_paths and not config.synthetic_samples:
                raise InputError("no training data: set dataset_paths and/or synthetic_samples")
