"""Command-line options shared by `affect-llm chat` and `affect-llm demo`."""

from __future__ import annotations

import argparse
import os


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, generation and perception options (defaults from `ChatConfig`)."""
    parser.add_argument(
        "--model",
        default=None,
        metavar="DIR",
        help="saved AffectLLM checkpoint (save_pretrained directory); default: bundled tiny model",
    )
    parser.add_argument("--max-new-tokens", type=int, default=256, help="most tokens per answer")
    parser.add_argument(
        "--temperature",
        type=float,
        default=0.7,
        help="sampling temperature, seeded so runs repeat; 0 decodes greedily (default 0.7)",
    )
    parser.add_argument("--top-p", type=float, default=0.9, help="nucleus sampling mass")
    parser.add_argument("--num-frames", type=int, default=8, help="frames sampled per clip")
    parser.add_argument(
        "--face-detector",
        choices=("mediapipe", "opencv"),
        default="mediapipe",
        help="face detector",
    )
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the tiny model and sampling")


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
