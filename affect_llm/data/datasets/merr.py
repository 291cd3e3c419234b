"""MERR (Emotion-LLaMA): JSON keyed by sample with pseu_emotion, smp_reason_caption (fine) /
caption (coarse), text (subtitle), and the cues AU_list, peak_index, peak_AU_list,
visual_prior_list, audio_prior_list. With both files present, `granularity` ("fine" or
"coarse") must choose one."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

from affect_llm.action_units import AU_NAMES, normalize_au
from affect_llm.data.datasets.reading import (
    attach_media,
    label_fields,
    labelled_item,
    media_index,
    missing,
    one_file,
    require_file,
)
from affect_llm.data.datasets.spec import BuildOption, DatasetSpec, LayoutRule
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import parse_label
from affect_llm.errors import InputError

MERR_FILES = {"fine": "MERR_fine_grained.json", "coarse": "MERR_coarse_grained.json"}
LAYOUTS = (LayoutRule("original", tuple(MERR_FILES.values()), " or ".join(MERR_FILES.values())),)


def _codes(entry: dict, key: str) -> list[str]:
    """A MERR AU list ("AU06" or OpenFace's "AU06_r"), every entry an AU code."""
    value = entry.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"MERR key '{key}': expected a list of AU codes, got {value!r}")
    codes = [normalize_au(code) if isinstance(code, str | int) else None for code in value]
    bad = [value[i] for i, code in enumerate(codes) if code is None]
    if bad:
        raise ValueError(f"MERR key '{key}': {bad[0]!r} is not an AU code")
    return list(dict.fromkeys(codes))


def _named(codes: list[str]) -> str:
    return ", ".join(f"{code} {AU_NAMES[code]}" if code in AU_NAMES else code for code in codes)


def cue_fields(entry: dict) -> dict:
    """MERR's own cues -> the item's AU text (peak frame and its AUs, all AUs, visual priors) and
    voice text (`audio_prior_list`, a string), rendered into prompts like extracted cues."""
    aus, peak_aus = _codes(entry, "AU_list"), _codes(entry, "peak_AU_list")
    visual = entry.get("visual_prior_list") or []
    if not isinstance(visual, list) or not all(isinstance(v, str) for v in visual):
        raise ValueError(f"MERR key 'visual_prior_list': expected a list of texts, got {visual!r}")
    audio = entry.get("audio_prior_list") or ""
    if not isinstance(audio, str):
        raise ValueError(f"MERR key 'audio_prior_list': expected a text, got {audio!r}")
    peak = entry.get("peak_index")
    if peak is not None and not re.fullmatch(r"\d+", str(peak).strip()):
        raise ValueError(f"MERR key 'peak_index': expected a frame number, got {peak!r}")
    parts = []
    if peak_aus:
        at = f" (frame {str(peak).strip()})" if peak is not None else ""
        parts.append(f"At the peak expression{at} the face shows {_named(peak_aus)}.")
    if aus:
        parts.append(f"Action units found: {_named(aus)}.")
    if visual:
        parts.append(f"Visual cues: {', '.join(v.strip() for v in visual)}.")
    return {
        "au_description": " ".join(parts) or None,
        "au_peak": peak_aus,
        "voice": audio.strip() or None,
    }


def _label_fields(entry: dict) -> dict:
    return label_fields(parse_label(entry.get("pseu_emotion")))


def _merr_file(root: Path, granularity: str | None) -> Path:
    if root.is_file():
        return root
    found = {g: one_file(root, f) for g, f in MERR_FILES.items()}
    if granularity:
        return found[granularity] or require_file(
            root, MERR_FILES[granularity], MERR_FILES[granularity]
        )
    if found["fine"] and found["coarse"]:
        raise InputError(
            f"{root}: holds both {MERR_FILES['fine']} and {MERR_FILES['coarse']}; choose one with --granularity fine|coarse"
        )
    found_file = found["fine"] or found["coarse"]
    if found_file is None:
        raise missing(root, LAYOUTS[0].expected)
    return found_file


def merr_items(
    root: str | os.PathLike, split: str = "train", granularity: str | None = None
) -> list[SourceItem]:
    root = Path(root)
    if granularity not in (None, *MERR_FILES):
        raise InputError(f"MERR granularity {granularity!r}: expected fine or coarse")
    path = _merr_file(root, granularity)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object keyed by sample name")
    media = media_index([root if root.is_dir() else root.parent])
    items = []
    for name, value in data.items():
        entry = value if isinstance(value, dict) else {}
        reason = entry.get("smp_reason_caption") or entry.get("caption") or None
        item = labelled_item(
            _label_fields,
            entry,
            id=str(name),
            source="merr",
            split=split,
            reason=reason,
            subtitle=entry.get("text") or None,
            task="reason" if reason else "onehot",
        )
        try:
            cues = cue_fields(entry)
        except ValueError as error:
            cues = {"error": item.error or f"{path.name}: {error}"}
        item = dataclasses.replace(item, **cues)
        if not item.error:
            attach_media(item, media, [item.id])
        items.append(item)
    return items


SPECS = (
    DatasetSpec(
        "merr",
        merr_items,
        "MERR JSON (Emotion-LLaMA; --granularity fine|coarse when both files are there)",
        LAYOUTS,
        options=(BuildOption("--granularity", "MERR file to read.", choices=tuple(MERR_FILES)),),
    ),
)
