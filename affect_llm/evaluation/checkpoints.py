"""The checkpoint a benchmark runner answers with: AffectLLM, or a pretrained omni / VL / audio one."""

from __future__ import annotations

from affect_llm.evaluation.backbone_answers import FamilyCheckpoint
from affect_llm.evaluation.common import Checkpoint
from affect_llm.evaluation.generation import TINY_MODEL, GenerationConfig
from affect_llm.evaluation.options import RunnerOptions
from affect_llm.hub import model_folder
from affect_llm.modeling.families import is_backbone_checkpoint
from affect_llm.perception.clip import PerceptionConfig


def load_checkpoint(
    path: str,
    options: RunnerOptions,
    generation: GenerationConfig,
    perception: PerceptionConfig,
) -> Checkpoint:
    """`FamilyCheckpoint` for a Qwen2.5-Omni / Qwen2.5-VL / Qwen2-Audio folder, else AffectLLM's."""
    if path != TINY_MODEL:  # a hub id becomes its local snapshot first
        path = model_folder(path, "--model")
    if is_backbone_checkpoint(path):
        return FamilyCheckpoint.load(path, options, generation, perception)
    return Checkpoint.load(path, options, generation, perception)
