"""A reference-style emotion-wheel scorer, written from the published algorithm (ANCHORS.md).

It mirrors how AffectGPT's evaluation works, not how affect-llm does: pandas reads the wheel,
form and synonym tables again on every call, and labels are mapped one by one through nested
lists. It is the baseline of `bench_scoring.py` and an independent check of `affect_llm.metrics`
in the tests (same numbers, different code).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

WHEEL_DIR = Path(__file__).resolve().parents[1] / "affect_llm" / "resources" / "emotion_wheel"
WHEELS = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")


def to_list(value) -> list[str]:
    if isinstance(value, list):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return []
    text = str(value)
    if text[0] == "[":
        text = text[1:]
    if text and text[-1] == "]":
        text = text[:-1]
    return [item.strip() for item in re.split("['\",]", text) if item.strip() not in ("", ",")]


def read_forms(root: Path) -> dict[str, list[str]]:
    table = pd.read_csv(root / "format.csv")
    forms: dict[str, list[str]] = {}
    for _, row in table.iterrows():
        name = row["name"]
        for form in to_list(row["format"]):
            forms.setdefault(form, []).append(name)
        forms.setdefault(name, []).append(name)
    return forms


def read_synonyms(root: Path) -> dict[str, list[str]]:
    table = pd.read_csv(root / "synonym.csv")
    merged: dict[str, list[str]] = {}
    for run in range(1, 9):
        one_run: dict[str, list[str]] = {}
        for _, row in table.iterrows():
            word = str(row[f"word_run{run}"]).strip().lower()
            one_run.setdefault(word, []).append(word)
            for synonym in to_list(row[f"synonym_run{run}"]):
                one_run.setdefault(str(synonym).strip().lower(), []).append(word)
        for key, values in one_run.items():
            merged[key] = list(set(merged.get(key, []) + values))
    return merged


def read_wheel(root: Path, wheel: str) -> dict[str, dict[str, list[str]]]:
    table = pd.read_csv(root / f"{wheel}.csv")
    tree: dict[str, dict[str, list[str]]] = {}
    current = ["", "", ""]
    for _, row in table.iterrows():
        for i, column in enumerate(("level1", "level2", "level3")):
            if not pd.isna(row[column]):
                current[i] = row[column]
        l1, l2, l3 = (c.lower().strip() for c in current)
        tree.setdefault(l1, {}).setdefault(l2, []).append(l3)
    return tree


def wheel_map(root: Path, wheel: str, level: str) -> dict[str, str]:
    tree = read_wheel(root, wheel)
    mapping: dict[str, str] = {}
    for l1, children in tree.items():
        mapping[l1] = l1 if level == "level1" else sorted(children)[0]
        for l2, leaves in children.items():
            mapping[l2] = l1 if level == "level1" else l2
            for l3 in leaves:
                mapping[l3] = l1 if level == "level1" else l2
    return mapping


def map_label(label: str, forms, synonyms, mapping) -> str:
    if label not in forms:
        return ""
    roots = [root for name in forms[label] for root in synonyms.get(name, [])]
    for root in sorted(roots):
        if root in mapping:
            return mapping[root]
    return ""


def load_tables(root: Path = WHEEL_DIR) -> dict:
    """Every table, read once: lets the tests skip the per-call re-reading the benchmark measures."""
    return {
        "forms": read_forms(root),
        "synonyms": read_synonyms(root),
        "maps": {(w, lv): wheel_map(root, w, lv) for w in WHEELS for lv in ("level1", "level2")},
    }


def overlap(name2gt, name2pred, wheel: str, level: str, root: Path = WHEEL_DIR, tables=None):
    if tables is None:  # the reference style: read everything again for this wheel and level
        forms, synonyms = read_forms(root), read_synonyms(root)
        mapping = wheel_map(root, wheel, level)
    else:
        forms, synonyms, mapping = (
            tables["forms"],
            tables["synonyms"],
            tables["maps"][(wheel, level)],
        )
    precision, recall = [], []
    for name, gt_value in name2gt.items():
        gt = {map_label(x.lower().strip(), forms, synonyms, mapping) for x in to_list(gt_value)}
        gt.discard("")
        pred_value = name2pred.get(name, "")
        pred = {map_label(x.lower().strip(), forms, synonyms, mapping) for x in to_list(pred_value)}
        pred.discard("")
        if not gt:
            continue
        if not pred:
            precision.append(0)
            recall.append(0)
        else:
            precision.append(len(gt & pred) / len(pred))
            recall.append(len(gt & pred) / len(gt))
    return (np.mean(precision) if precision else 0.0), (np.mean(recall) if recall else 0.0)


def wheel_metric(
    name2gt, name2pred, level: str = "level1", root: Path = WHEEL_DIR, tables=None
) -> list[float]:
    """[f1, precision, recall] averaged over the five wheels, tables re-read for every wheel."""
    scores = []
    for wheel in WHEELS:
        p, r = overlap(name2gt, name2pred, wheel, level, root, tables)
        f = 0.0 if p + r == 0 else 2 * p * r / (p + r)
        scores.append([f, p, r])
    return np.mean(scores, axis=0).tolist()


def hit_rate(name2gt, name2pred, root: Path = WHEEL_DIR, tables=None) -> float:
    tables = tables or load_tables(root)
    forms, synonyms = tables["forms"], tables["synonyms"]
    per_wheel = []
    for wheel in WHEELS:
        mapping = tables["maps"][(wheel, "level1")]
        hits = []
        for name, gt_label in name2gt.items():
            gt = map_label(str(gt_label).lower().strip(), forms, synonyms, mapping)
            if not gt:
                continue
            pred_labels = to_list(name2pred.get(name, ""))
            pred = {map_label(x.lower().strip(), forms, synonyms, mapping) for x in pred_labels}
            hits.append(1.0 if gt in pred else 0.0)
        per_wheel.append(np.mean(hits) if hits else 0.0)
    return float(np.mean(per_wheel))
