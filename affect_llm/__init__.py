"""affect-llm: train and evaluate multimodal LLMs that recognise emotions in video and explain them.

The package import stays light (no torch, no transformers) so `affect-llm score` and every `--help`
start instantly; `import affect_llm.modeling` registers AffectLLM with transformers' Auto classes.
"""

__version__ = "0.1.0"

from affect_llm.telemetry import disable_telemetry

disable_telemetry()  # before transformers / TRL / huggingface_hub are imported anywhere
