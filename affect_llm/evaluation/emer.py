"""EMER explainable emotion reasoning: clue overlap and label overlap of predicted explanations.

Two scorers. The judge: a local causal LM (any Hugging Face directory) reads the reference and the
predicted explanation with a fixed prompt and gives both overlaps from 1 to 10, decoded greedily.
The deterministic proxy, for CI: wheel F1 of the emotion labels, and F1 of the AU / visual / audio
cue phrases the two explanations name (`CUE_LEXICON`).

The references are read by `affect_llm.data.datasets.emer` (EMER V1 / V2 files or a CSV with
`name` and `reason`): one item per clip, its explanation as `reason`, its labels as `openset`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from affect_llm.data.datasets import emer_items
from affect_llm.data.datasets.emer import reference_file
from affect_llm.data.datasets.reading import read_csv
from affect_llm.errors import InputError
from affect_llm.evaluation.checkpoints import load_checkpoint
from affect_llm.evaluation.common import (
    checkpoint_names,
    generation_config,
    load_config,
    perception_config,
    run_main,
    select_items,
)
from affect_llm.evaluation.options import EmerOptions
from affect_llm.evaluation.registry import EMER_TEST_SIZES, PUBLISHED_EMER
from affect_llm.evaluation.report import (
    is_subset,
    keep_earlier_checkpoints,
    markdown_table,
    sample_count,
    write_markdown,
)
from affect_llm.files import atomic_write_json, atomic_write_text
from affect_llm.options import parse_options

JUDGE_PROMPT = (
    "You are grading an explanation of a person's emotions against a reference explanation.\n"
    "Reference: {reference}\n"
    "Prediction: {prediction}\n"
    "Give two scores from 1 (no overlap) to 10 (complete overlap):\n"
    "1. Clue overlap: how many of the reference's facial, vocal and verbal clues the prediction "
    "also names.\n"
    "2. Label overlap: how well the emotions the prediction concludes match the reference's.\n"
    "Answer in exactly this form:\nClue overlap: <1-10>\nLabel overlap: <1-10>"
)
_SCORE_RE = {
    "clue_overlap": re.compile(r"clue\s+overlap\W{0,5}(\d+(?:\.\d+)?)", re.IGNORECASE),
    "label_overlap": re.compile(r"label\s+overlap\W{0,5}(\d+(?:\.\d+)?)", re.IGNORECASE),
}

# Cue phrases of the proxy: each cue is matched by any of its word forms (whole words).
CUE_LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "visual": {
        "smile": ("smile", "smiles", "smiling", "grin", "grins", "grinning"),
        "frown": ("frown", "frowns", "frowning", "furrowed"),
        "tears": ("tears", "tearful", "crying", "cries", "weeping"),
        "raised brows": ("raised eyebrows", "raised brows", "brows are raised", "eyebrows raised"),
        "wide eyes": ("wide eyes", "eyes wide", "widened eyes", "wide-eyed"),
        "narrowed eyes": ("narrowed eyes", "squint", "squinting"),
        "open mouth": ("open mouth", "mouth open", "jaw drop", "gasp"),
        "tight lips": ("tightens her lips", "tightens his lips", "pressed lips", "tight lips"),
        "lip corners down": ("lip corners drop", "corners of the mouth turn down", "pout"),
        "gaze away": ("looks away", "averted gaze", "looks down", "downcast"),
        "head": ("nods", "nodding", "shakes her head", "shakes his head", "head shake"),
    },
    "audio": {
        "high pitch": (
            "high pitch",
            "high-pitched",
            "high pitched",
            "voice is high",
            "rising pitch",
        ),
        "low pitch": ("low pitch", "low-pitched", "low pitched", "deep voice"),
        "loud": ("loud", "loudly", "shouts", "shouting", "yells", "raised voice"),
        "quiet": ("quiet", "quietly", "soft voice", "softly", "whisper", "whispers"),
        "fast": ("fast", "quick", "quickly", "rapid", "rapidly"),
        "slow": ("slow", "slowly", "hesitant", "pauses"),
        "trembling": ("trembling", "shaky", "quivering", "voice breaks"),
        "laugh": ("laugh", "laughs", "laughing", "chuckle"),
        "sigh": ("sigh", "sighs", "sighing"),
    },
}


def _cue_patterns() -> dict[str, dict[str, re.Pattern[str]]]:
    return {
        kind: {
            cue: re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b", re.I)
            for cue, forms in cues.items()
        }
        for kind, cues in CUE_LEXICON.items()
    }


_PATTERNS = _cue_patterns()


def cues_in(text: str) -> dict[str, set[str]]:
    """{"au": AU codes, "visual": cue names, "audio": cue names} named in an explanation."""
    from affect_llm.action_units import find_aus

    found = {"au": set(find_aus(text or ""))}
    for kind, patterns in _PATTERNS.items():
        found[kind] = {cue for cue, pattern in patterns.items() if pattern.search(text or "")}
    return found


def _set_f1(reference: set[str], predicted: set[str]) -> float:
    if not reference and not predicted:
        return 1.0
    hit = len(reference & predicted)
    return 2 * hit / (len(reference) + len(predicted))


def proxy_scores(
    references: dict[str, str], reference_labels: dict[str, list[str]], responses: dict[str, str]
) -> dict[str, Any]:
    """The deterministic proxy: wheel F1 of labels, and mean per-sample F1 of each cue kind over
    the samples whose reference names a cue of that kind."""
    from affect_llm.metrics import ov_scores
    from affect_llm.parsing import extract_labels

    predicted = {n: list(extract_labels(responses.get(n, ""))) for n in references}
    wheel = ov_scores(reference_labels, predicted)["level1"]
    per_kind: dict[str, list[float]] = {"au": [], "visual": [], "audio": []}
    for name, reference in references.items():
        ref_cues, pred_cues = cues_in(reference), cues_in(responses.get(name, ""))
        for kind, values in per_kind.items():
            if ref_cues[kind]:
                values.append(_set_f1(ref_cues[kind], pred_cues[kind]))
    cue_f1 = {k: (sum(v) / len(v) if v else None) for k, v in per_kind.items()}
    present = [v for v in cue_f1.values() if v is not None]
    return {
        "label_wheel_f1": wheel.f1,
        "label_precision": wheel.precision,
        "label_recall": wheel.recall,
        "cue_f1": cue_f1,
        "clue_proxy": sum(present) / len(present) if present else None,
        "samples": len(references),
    }


def parse_judge(completion: str) -> dict[str, float | None]:
    """Both 1-10 scores from a judge completion; None for a score it did not give in range."""
    scores: dict[str, float | None] = {}
    for key, pattern in _SCORE_RE.items():
        match = pattern.search(completion)
        value = float(match.group(1)) if match else None
        scores[key] = value if value is not None and 1 <= value <= 10 else None
    return scores


def judge_scores(
    llm, references: dict[str, str], responses: dict[str, str], out_path: Path
) -> dict[str, Any]:
    """Judge every sample (fixed prompt, greedy) and write each verdict to `out_path` (JSONL)."""
    names = list(references)
    prompts = [
        JUDGE_PROMPT.format(reference=references[n], prediction=responses.get(n, "")) for n in names
    ]
    completions = llm.complete(prompts)
    lines, parsed = [], {"clue_overlap": [], "label_overlap": []}
    for name, completion in zip(names, completions):
        scores = parse_judge(completion)
        lines.append(json.dumps({"name": name, "judge_output": completion, **scores}))
        for key, value in scores.items():
            if value is not None:
                parsed[key].append(value)
    atomic_write_text(out_path, "".join(line + "\n" for line in lines))
    return {
        **{k: (sum(v) / len(v) if v else None) for k, v in parsed.items()},
        "parsed": {k: len(v) for k, v in parsed.items()},
        "samples": len(names),
        "judge": llm.path,
        "prompt": JUDGE_PROMPT,
    }


def held_out(items: list, split: str | None) -> list:
    """The rows of `split` (default test: the clips a model was not trained on); None: every row."""
    if split is None:
        return items
    kept = [item for item in items if item.split == split]
    if not kept:
        found = ", ".join(sorted({item.split for item in items}))
        raise InputError(
            f"datasets.emer.split: no reference row in split {split!r} (found: {found}); mark "
            "held-out clips `split: test` in labels.csv, or set split: null to score every row"
        )
    return kept


def _report(out: Path, summary: dict[str, Any], judge_path: str | None) -> None:
    """results.md: every score with n scored / n in EMER's official test set; the published rows
    sit beside ours only when the whole official set was scored, else apart, under their own
    heading (a subset or the user's own clips is not the benchmark)."""
    official = summary["official_samples"]
    rows: dict[str, dict[str, float | None]] = {}
    notes: dict[str, dict[str, str]] = {}
    full = True
    for checkpoint in summary["checkpoints"]:
        result = checkpoint["emer"]
        judge = result.get("judge") or {}
        scored = result["proxy"]["samples"]
        full = full and official is not None and not is_subset(scored, official)
        rows[checkpoint["name"]] = {
            "clue_overlap": judge.get("clue_overlap"),
            "label_overlap": judge.get("label_overlap"),
            "label_wheel_f1": 100 * result["proxy"]["label_wheel_f1"],
            "clue_proxy": None
            if result["proxy"]["clue_proxy"] is None
            else 100 * result["proxy"]["clue_proxy"],
        }
        notes[checkpoint["name"]] = {"label_wheel_f1": sample_count(scored, official)}
    published = {f"{model} (published)": dict(scores) for model, scores in PUBLISHED_EMER.items()}
    columns = [
        ("clue_overlap", "clue overlap (judge, 1-10)"),
        ("label_overlap", "label overlap (judge, 1-10)"),
        ("label_wheel_f1", "label wheel F1 (proxy, x100)"),
        ("clue_proxy", "cue-phrase F1 (proxy, x100)"),
    ]
    note = (
        f"Judge: {judge_path} (greedy, fixed prompt in results.json)."
        if judge_path
        else "No judge model given: judge columns are empty; the proxy columns are deterministic."
    )
    split = summary["split"]
    scored = (
        f"Scored {summary['samples']} clips of {summary['reference']}"
        + (f", split {split!r}" if split else ", every row")
        + (
            f" (n scored / n in EMER's official test set: {official})."
            if official
            else ": your own reference file, not the EMER benchmark."
        )
    )
    if not official and split and not summary.get("reference_has_split", True):
        scored += (
            f" {summary['reference']} has no split column, so every row was scored, the clips a "
            "model trained on included: mark held-out clips `split: test` to score only those."
        )
    lines = [
        "# EMER results\n",
        markdown_table(columns, {**rows, **(published if full else {})}, notes=notes),
    ]
    if not full:
        lines += [
            "",
            "These scores are not EMER's benchmark figures (a subset of the official test set, or "
            "other clips), so the published ones are not set beside them.",
            "",
            "## Published (EMER's official test set)\n",
            markdown_table(columns, published),
        ]
    write_markdown(out / "results.md", "\n".join([*lines, "", note, scored, ""]))


def run(args: EmerOptions) -> dict[str, Any]:
    from affect_llm.evaluation.generation import read_responses

    config = load_config(args.config)
    entry = (config.get("datasets") or {}).get("emer")
    if not entry or not entry.get("root"):
        raise ValueError("give --config with `datasets: {emer: {root: DIR}}`")
    if not args.model:
        raise ValueError("--model is required")
    split = entry.get("split", "test")
    items = held_out(emer_items(entry["root"], reference=entry.get("reference")), split)
    items = select_items(items, args.limit)
    reference = reference_file(Path(entry["root"]), entry.get("reference"))
    official = EMER_TEST_SIZES.get(reference.name)  # None: the user's own reference CSV
    references = {i.id: i.reason or "" for i in items}
    labels = {i.id: list(i.openset) for i in items}
    judge_path = args.judge_model or (config.get("judge") or {}).get("model")
    gen = generation_config(args, config)
    perception = perception_config(args, config)
    out = Path(args.out)
    llm = None
    if judge_path:
        from affect_llm.evaluation.local_llm import LocalLLM

        llm = LocalLLM(
            judge_path,
            args.device,
            args.judge_max_new_tokens,
            seed=gen.seed,
            trust_remote_code=args.trust_remote_code,
        )
    summary: dict[str, Any] = {
        "benchmark": "EMER",
        "split": split,
        "reference": reference.name,
        "samples": len(items),
        "official_samples": official,
        # a labels.csv without `split` has no held-out rows: every row, trained-on clips included
        "reference_has_split": "split" in read_csv(reference)[0],
        "generation": gen.to_dict(),
        "perception": perception.to_dict(),
        "judge": {"model": judge_path, "decoding": "greedy", "prompt": JUDGE_PROMPT},
        "checkpoints": [],
        "published": PUBLISHED_EMER,
        "selection": "every checkpoint is reported; none is selected on the test set",
    }
    for name, model_path in zip(checkpoint_names(args.model), args.model):
        folder = out / name / "emer"
        checkpoint = load_checkpoint(model_path, args, gen, perception)
        checkpoint.answer(items, folder / "responses.jsonl", "reason")
        responses = read_responses(folder / "responses.jsonl")
        result = {"proxy": proxy_scores(references, labels, responses)}
        if llm is not None:
            result["judge"] = judge_scores(llm, references, responses, folder / "judge.jsonl")
        atomic_write_json(folder / "scores.json", result)
        summary["checkpoints"].append({"name": name, "model": model_path, "emer": result})
    keep_earlier_checkpoints(out, summary)  # a rerun with other checkpoints adds rows
    atomic_write_json(out / "results.json", summary)
    _report(out, summary, judge_path)
    return summary


def main(argv: Sequence[str] | None = None, prog: str = "eval/emer.py") -> int:
    options = parse_options(EmerOptions, argv, prog, __doc__)
    return run_main(run, options, lambda checkpoint: checkpoint["emer"]["proxy"], "results.md")
