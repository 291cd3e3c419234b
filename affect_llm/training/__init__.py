"""Trainers for AffectLLM (SFT uses TRL's SFTTrainer with `AffectLLMDataCollator`)."""

from affect_llm.training.grpo_trainer import AffectGRPOTrainer, default_media_loader

__all__ = ["AffectGRPOTrainer", "default_media_loader"]
