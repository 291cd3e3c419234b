"""Command-line options shared by `affect-llm chat` and `affect-llm demo` (defaults: `ChatConfig`)."""

from __future__ import annotations

import argparse
import os
from dataclasses import fields


def _help(name: str) -> str:
    from affect_llm.chat.config import ChatConfig

    found = {f.name: f for f in fields(ChatConfig)}[name]
    return f"{found.metadata['help']} (default: {found.default})"


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, generation and perception options."""
    from affect_llm.chat.config import ChatConfig

    defaults = ChatConfig()
    parser.add_argument(
        "--model",
        default=None,
        metavar="DIR",
        help="saved AffectLLM checkpoint (model + processor save_pretrained directory); "
        "default: the bundled tiny random model",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=defaults.max_new_tokens, help=_help("max_new_tokens")
    )
    parser.add_argument(
        "--temperature", type=float, default=defaults.temperature, help=_help("temperature")
    )
    parser.add_argument("--top-p", type=float, default=defaults.top_p, help=_help("top_p"))
    parser.add_argument(
        "--num-frames", type=int, default=defaults.num_frames, help=_help("num_frames")
    )
    parser.add_argument(
        "--face-detector",
        choices=("mediapipe", "opencv"),
        default=defaults.face_detector,
        help=_help("face_detector"),
    )
    parser.add_argument("--device", default=defaults.device, help=_help("device"))
    parser.add_argument("--seed", type=int, default=defaults.seed, help=_help("seed"))


def engine_from_args(args: argparse.Namespace):
    """Load the model once, as the options say."""
    # mediapipe / TFLite log to stderr at import; keep the terminal readable.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from affect_llm.chat.session import ChatConfig, ChatEngine

    config = ChatConfig(
        model=args.model,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        num_frames=args.num_frames,
        face_detector=args.face_detector,
        device=args.device,
        seed=args.seed,
    )
    return ChatEngine(config)
