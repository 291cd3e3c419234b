"""affect-llm: train and evaluate multimodal LLMs that recognise emotions in video and explain them."""

__version__ = "0.1.0"

from affect_llm.telemetry import disable_telemetry

disable_telemetry()  # before transformers / TRL / huggingface_hub are imported below


def _register_with_transformers() -> None:
    """After `import affect_llm`, the Auto classes load saved AffectLLM checkpoints."""
    try:
        from affect_llm.modeling import register_auto_classes
    except ImportError:  # transformers / torch missing: the non-model parts still import
        return
    register_auto_classes()


_register_with_transformers()
