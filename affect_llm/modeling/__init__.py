"""AffectLLM in transformers' layout: configuration, model, processor, tiny offline builds."""

from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoProcessor
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
from affect_llm.modeling.modeling_affect_llm import (
    AffectLLMForConditionalGeneration,
    AffectLLMModel,
    AffectLLMPreTrainedModel,
)
from affect_llm.modeling.processing_affect_llm import AffectLLMProcessor


def register_auto_classes() -> None:
    """Make AutoConfig / AutoModel / AutoModelForCausalLM / AutoProcessor know `affect_llm`."""
    if "affect_llm" in CONFIG_MAPPING:
        return
    AutoConfig.register("affect_llm", AffectLLMConfig)
    AutoModel.register(AffectLLMConfig, AffectLLMModel)
    AutoModelForCausalLM.register(AffectLLMConfig, AffectLLMForConditionalGeneration)
    AutoProcessor.register(AffectLLMConfig, AffectLLMProcessor)


register_auto_classes()  # importing the models is what makes the Auto classes know them

__all__ = [
    "AffectLLMConfig",
    "AffectLLMForConditionalGeneration",
    "AffectLLMModel",
    "AffectLLMPreTrainedModel",
    "AffectLLMProcessor",
    "register_auto_classes",
]
