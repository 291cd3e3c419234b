"""`affect-llm build`: turn a folder of clips, or a public dataset in its layout, into samples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affect_llm.data.datasets import dataset_spec, dataset_specs
from affect_llm.errors import InputError, report_user_errors


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="Output folder (samples.jsonl, errors.jsonl).")
    parser.add_argument("--frames", type=int, default=8, help="Frames sampled per clip.")
    parser.add_argument("--face-size", type=int, default=224, help="Face crop side in pixels.")
    parser.add_argument("--detector", choices=["mediapipe", "opencv"], default="mediapipe")
    parser.add_argument("--decode", choices=["seek", "sequential"], default="seek")
    parser.add_argument("--body", action="store_true", help="Also compute body cues (pose).")
    parser.add_argument("--no-au-estimate", action="store_true", help="No landmark AU estimate.")
    parser.add_argument("--asr-model", help="Local ASR checkpoint for clips without subtitles.")
    parser.add_argument("--workers", type=int, default=1, help="Worker processes.")
    parser.add_argument("--cache", help="Feature cache folder (default OUT/cache).")
    parser.add_argument("--limit", type=int, help="Only the first N samples.")


def register(subparsers) -> None:
    build = subparsers.add_parser("build", help=__doc__.splitlines()[0].split(": ", 1)[-1])
    kinds = build.add_subparsers(dest="dataset", required=True, metavar="SOURCE")
    folder = kinds.add_parser("folder", help="A folder of videos/audio plus a labels CSV.")
    folder.add_argument("video_dir", help="Folder searched recursively for media by file stem.")
    folder.add_argument("--labels", help="CSV with name and openset or label (and more).")
    _common(folder)
    folder.set_defaults(func=run)
    sharegpt = kinds.add_parser("sharegpt", help="ms-swift / LLaMA-Factory sharegpt JSON file.")
    sharegpt.add_argument("root", help="The JSON (or JSONL) file: messages, videos, audios.")
    _common(sharegpt)
    sharegpt.set_defaults(func=run)
    for spec in dataset_specs().values():  # one subcommand per registered dataset
        parser = kinds.add_parser(spec.name, help=spec.help)
        parser.add_argument("root", help="Dataset folder in its published layout.")
        parser.add_argument("--split", help="Split / subset to build (dataset-specific default).")
        for option in spec.options:
            parser.add_argument(
                option.flag,
                help=option.help,
                type=option.type,
                choices=option.choices,
                default=option.default,
            )
        _common(parser)
        parser.set_defaults(func=run)


def _not_found(error: OSError) -> InputError:
    if error.filename:
        return InputError(f"{error.filename}: {error.strerror or 'cannot be read'}")
    return InputError(str(error))


def run(args: argparse.Namespace) -> int:
    """Bad options or labels file: one line, exit 2, no traceback (unless --debug)."""
    return report_user_errors(lambda: _run(args), debug=getattr(args, "debug", False))


def _run(args: argparse.Namespace) -> int:
    from affect_llm.data.builder import BuildConfig, build_samples
    from affect_llm.data.labels import LabelError
    from affect_llm.perception.clip import ConfigError, PerceptionConfig

    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1 (got {args.limit})")
    perception = PerceptionConfig(
        num_frames=args.frames,
        face_size=args.face_size,
        face_detector=args.detector,
        decode_mode=args.decode,
        estimate_aus=not args.no_au_estimate,
        body=args.body,
        asr_model=args.asr_model,
    )
    config = BuildConfig(perception=perception, workers=args.workers, cache_dir=args.cache)
    root = args.video_dir if args.dataset == "folder" else args.root
    if args.dataset != "sharegpt" and not Path(root).is_dir():
        raise InputError(f"{root}: no such folder (expected the folder that holds the clips)")
    try:
        if args.dataset == "sharegpt":  # a file (ms-swift / LLaMA-Factory JSON), not a folder
            from affect_llm.data.interchange import sharegpt_items

            items = sharegpt_items(root)
        elif args.dataset == "folder":
            from affect_llm.data.folder import folder_items

            items = folder_items(args.video_dir, args.labels)
        else:
            from affect_llm.data.datasets import describe_layout, read_dataset

            kwargs = {"split": args.split} if args.split else {}
            for option in dataset_spec(args.dataset).options:
                if getattr(args, option.dest) is not None:
                    kwargs[option.dest] = getattr(args, option.dest)
            items = read_dataset(args.dataset, args.root, **kwargs)
            print(f"reading {describe_layout(args.dataset, args.root)}")
    except LabelError as error:
        raise InputError(str(error)) from None
    except FileNotFoundError as error:
        raise _not_found(error) from None
    if args.limit:
        items = items[: args.limit]
    summary = build_samples(items, args.out, config, progress=True)
    print(summary.line(args.out))
    return 1 if summary.total and summary.written == 0 else 0


def main(argv: list[str] | None = None) -> int:
    """`affect-llm build ...` on its own (the thin scripts in data_builders/ call this)."""

    parser = argparse.ArgumentParser(prog="affect-llm")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["build", *(sys.argv[1:] if argv is None else argv)])
    return report_user_errors(lambda: args.func(args))
