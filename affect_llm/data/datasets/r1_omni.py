"""R1-Omni / open-r1 GRPO rows, a JSON list or JSONL, in three forms:

- open-r1: `{"video", "problem", "solution": "<answer> sad </answer>"}`;
- R1-Omni RLVR (its README): LLaVA-style `{"video", "conversations": [{"from": "human", ...},
  {"from": "gpt", "value": "sad"}]}`, the `gpt` value the bare label (R1-Omni's own loader wraps
  it as `<answer> sad </answer>`);
- R1-Omni cold start: the `gpt` value `<think>...</think>\n<answer>anxious</answer>`; the
  reasoning is kept as the item's reason (task "reason").

Videos are paths relative to the file's folder (e.g. `DFEW/videos/1.mp4`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from affect_llm.data.datasets.reading import label_fields, labelled_item
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import LabelError, parse_label
from affect_llm.errors import InputError

LAYOUTS = (
    LayoutRule("original", ("*.jsonl", "*.json"), "one R1-Omni rows file (*.json or *.jsonl)"),
)
ANSWER_ROLES = ("gpt", "assistant")  # LLaVA's and the chat template's name of the answer turn
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
_THINK = re.compile(r"<think>(.*?)</think>", re.S)


def _rows(path: Path) -> list[tuple[int, object]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    raise InputError(f"{path}: line {number}: invalid JSON ({error.msg})") from None
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: invalid JSON at line {error.lineno} ({error.msg})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of rows")
    return [(index + 1, row) for index, row in enumerate(data)]


def solution(row: dict) -> object:
    """open-r1's `solution`, else the last answer turn of R1-Omni's `conversations`."""
    if "solution" in row:
        return row["solution"]
    turns = row.get("conversations")
    answers = [
        turn.get("value")
        for turn in (turns if isinstance(turns, list) else [])
        if isinstance(turn, dict) and turn.get("from") in ANSWER_ROLES
    ]
    return answers[-1] if answers else None


def answer_fields(number: int, text: object) -> dict:
    """Label, and reasoning if any, of one answer: `<answer> sad </answer>`, the bare `sad`, or
    `<think>...</think><answer>...</answer>`."""
    if not isinstance(text, str) or not text.strip():
        raise LabelError(f"row {number}: no solution or gpt answer")
    answer = _ANSWER.search(text)
    if answer is None and "<" in text:
        raise LabelError(f"row {number}: solution has tags but no <answer> ... </answer>")
    think = _THINK.search(text)
    reason = think.group(1).strip() if think else ""
    try:
        label = parse_label(answer.group(1) if answer else text)
    except LabelError as error:
        raise LabelError(f"row {number}: {error}") from None
    return label_fields(label, reason=reason or None, task="reason" if reason else "onehot")


def r1_omni_items(root: str | os.PathLike, split: str = "train") -> list[SourceItem]:
    root = Path(root)
    path = detect("r1-omni", LAYOUTS, root).labels
    items: list[SourceItem] = []
    seen: dict[str, int] = {}
    for number, row in _rows(path):
        if not isinstance(row, dict) or not isinstance(row.get("video"), str):
            raise InputError(f"{path}: row {number}: expected an object with a 'video' path")
        video = Path(row["video"])
        name = video.with_suffix("").as_posix()
        fields = {"id": name, "source": "r1-omni", "split": split, "task": "onehot"}
        if name in seen:
            item = SourceItem(
                **fields, error=f"row {number}: video {row['video']} already on row {seen[name]}"
            )
        else:
            seen[name] = number
            item = labelled_item(answer_fields, number, solution(row), **fields)
        clip = video if video.is_absolute() else path.parent / video
        if not item.error:
            if clip.is_file():
                item.video = os.path.abspath(clip)
            else:
                item.error = f"row {number}: no video file {clip}"
        items.append(item)
    return items


SPECS = (
    DatasetSpec(
        "r1-omni",
        r1_omni_items,
        "R1-Omni / open-r1 GRPO rows (JSON or JSONL: video + problem/solution or conversations)",
        LAYOUTS,
    ),
)
