"""affect-llm: train and evaluate multimodal LLMs that recognise emotions in video and explain them."""

__version__ = "0.1.0"
