"""Command lines built from options dataclasses: the one home of that plumbing.

Every field of the dataclass is a flag (spelled `--max-new-tokens` or `--max_new_tokens`) whose help
is the field's `help` metadata; transformers' `HfArgumentParser` does the work. Used by the eval
runners (`affect_llm.evaluation.options`) and by `affect-llm chat` / `affect-llm demo`
(`affect_llm.chat.options`).

transformers is imported only when a command line is built, never at import: the `affect-llm`
parser hands those sub-commands their arguments unparsed (`add_options_command`), so
`affect-llm --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, NoReturn, TypeVar

from affect_llm.errors import closest

Options = TypeVar("Options")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's layout; shows a field's default unless its help already speaks of
    it or there is none to show (None, False, an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        default = action.default
        if (
            "default" in help_text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or default == []
            or not action.option_strings
        ):
            return help_text
        return f"{help_text.rstrip('.')} (default: %(default)s)"


def build_parser(
    options: type, prog: str, description: str | None, epilog: str | None = None
) -> argparse.ArgumentParser:
    """The command line of `options`: one flag per field (HfArgumentParser)."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(
        options, prog=prog, description=description, epilog=epilog, formatter_class=_HelpFormatter
    )
    # HfArgumentParser gives every list "+"; a field may ask for another count (`--cues` alone).
    nargs = {f.name: f.metadata["nargs"] for f in fields(options) if "nargs" in f.metadata}
    for action in parser._actions:
        if action.dest in nargs:
            action.nargs = nargs[action.dest]
    return parser


def parse_options(
    options: type[Options],
    argv: Sequence[str] | None,
    prog: str,
    description: str | None,
    epilog: str | None = None,
) -> Options:
    """The typed options of a command line; a bad flag exits 2 with one line."""
    parser = build_parser(options, prog, description, epilog)

    def error(message: str) -> NoReturn:
        print(f"{prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)

    parser.error = error  # one line instead of the usage block
    parsed, unknown = parser.parse_args_into_dataclasses(
        args=None if argv is None else list(argv),
        return_remaining_strings=True,
        look_for_args_file=False,
    )
    if unknown:
        error(f"unrecognized arguments: {' '.join(unknown)}{_nearest_flag(options, unknown[0])}")
    return parsed


def _nearest_flag(options: type, argument: str) -> str:
    """' (did you mean --x?)' for a mistyped flag, in the spelling it was typed in (- or _)."""
    if not argument.startswith("--"):
        return ""
    names = [f.name.replace("_", "-") if "-" in argument else f.name for f in fields(options)]
    return closest(argument.split("=", 1)[0], [f"--{name}" for name in names])


def add_options_command(
    subparsers: argparse._SubParsersAction, name: str, help_text: str, run: Callable[..., Any]
) -> argparse.ArgumentParser:
    """A sub-command whose arguments (and --help) go unparsed to `run` as `args.options`, which
    reads them with `parse_options`: its flags come from a dataclass, and transformers loads only
    when the sub-command runs."""
    # prefix_chars="+": this parser has no options of its own, so "--x" reaches `options`.
    parser = subparsers.add_parser(name, help=help_text, add_help=False, prefix_chars="+")
    parser.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)
    return parser
