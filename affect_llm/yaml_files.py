"""The one YAML reader for user files (eval configs, recipes): plain data, bounded, one-line errors.

`yaml.safe_load` refuses `!!python/...` tags, but with a traceback, and it happily builds a
"billion laughs" document: a 700-byte file of nested aliases that expands to gigabytes as soon
as anything walks it. Here the composed document's expanded size is counted first (aliases
counted as often as they are used) and refused over `MAX_NODES`; tags, syntax errors and
nesting too deep for the parser are one-line `InputError`s naming the file and line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from affect_llm.errors import InputError

MAX_NODES = 100_000  # a recipe or eval config has a few hundred


class _Loader(yaml.SafeLoader):
    """SafeLoader that checks the expanded size of a document before constructing it."""

    source = "YAML"

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_size(node, self.source)
        return self.construct_document(node)


def _check_size(root: yaml.Node, source: str) -> None:
    """Expanded node count of `root`, shared (aliased) nodes counted once per use; iterative,
    memoised per node, refusing recursive aliases and anything over MAX_NODES."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in open_nodes:
                raise InputError(
                    f"{source}:{_line(node)}: a recursive alias (an anchor used inside itself)"
                )
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        total = 1 + sum(sizes[id(child)] for child in children)
        if total > MAX_NODES:
            raise InputError(
                f"{source}:{_line(node)}: the document expands to over {MAX_NODES:,} values "
                "(aliases of aliases, a 'billion laughs' file?); refused before reading it"
            )
        sizes[key] = total
        open_nodes.discard(key)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 0


def load_yaml(path: str | os.PathLike, what: str = "config") -> Any:
    """The plain data (mappings, lists, strings, numbers, booleans, null) of a YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{what} {path}: cannot read it as UTF-8 text ({error})") from None
    loader = _Loader(text)
    loader.source = str(path)
    try:
        return loader.get_single_data()
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        where = f"{mark.line + 1}" if mark is not None else "?"
        raise InputError(
            f"{path}:{where}: {error.problem} (only plain YAML values are read: no !!python "
            "or other application tags)"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise InputError(f"{path}:{where}: {problem}") from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to read (thousands of levels)") from None
    finally:
        loader.dispose()
