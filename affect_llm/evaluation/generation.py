"""Batched, resumable answer generation for benchmark items.

Answers go to a JSONL file, one line per sample, flushed and fsynced after every batch, so a killed
run loses at most the batch in flight and a rerun generates only the samples not yet written. The
settings of the run are kept beside it (`generation.json`); resuming with other settings is refused,
because the file would then mix answers from two different decodings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from affect_llm.data.builder import BuildConfig, SourceItem, extract_item
from affect_llm.data.cache import FeatureCache
from affect_llm.data.templates import CUES, cue_lines, evaluation_question
from affect_llm.errors import is_disk_full
from affect_llm.files import atomic_write_json
from affect_llm.perception.clip import PerceptionConfig
from affect_llm.safe_text import printable

logger = logging.getLogger(__name__)

TINY_MODEL = "tiny"  # --model tiny: a random-init tiny model built offline (pipeline smoke tests)


@dataclass
class GenerationConfig:
    """Decoding settings; greedy by default so that a rerun gives the same answers."""

    batch_size: int = field(default=8, metadata={"help": "Samples per generate() call."})
    max_new_tokens: int = field(default=128, metadata={"help": "Longest answer, in tokens."})
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of greedy decoding."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass."})
    num_beams: int = field(default=1, metadata={"help": "Beam search width (1: none)."})
    seed: int = field(default=0, metadata={"help": "Seed set before every batch (recorded)."})
    cues: tuple[str, ...] = field(
        default=CUES,
        metadata={"help": "Cue texts added to the prompt: subtitle, aus, body, audio."},
    )

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "num_beams": self.num_beams,
        }
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cues"] = list(self.cues)
        return data


def load_model(
    path: str,
    device: str = "cpu",
    dtype: str | None = None,
    seed: int = 0,
    trust_remote_code: bool = False,
):
    """(model, processor) from a saved AffectLLM directory, or `tiny` for a random tiny model;
    the folder's own code (auto_map) runs only with `trust_remote_code`."""
    import torch

    import affect_llm.modeling  # noqa: F401  (registers the Auto classes)

    if path == TINY_MODEL:
        from affect_llm.modeling.tiny import tiny_model_and_processor

        model, processor = tiny_model_and_processor(seed=seed)
    else:
        from transformers import AutoModelForCausalLM, AutoProcessor

        from affect_llm.hub import model_folder
        from affect_llm.remote_code import check_chat_template, check_model_folder, load_pretrained

        path = model_folder(path, "--model")  # a folder or a hub id; else one line, exit 2
        trust = trust_remote_code
        check_model_folder(path, trust_remote_code=trust)
        torch_dtype = getattr(torch, dtype) if dtype else None
        model = load_pretrained(
            AutoModelForCausalLM.from_pretrained, path, trust_remote_code=trust, dtype=torch_dtype
        )
        processor = load_pretrained(AutoProcessor.from_pretrained, path, trust_remote_code=trust)
        check_chat_template(processor, path)  # bounded before any prompt is rendered
    model.to(device).eval()
    return model, processor


def read_done(path: Path) -> dict[str, dict[str, Any]]:
    """Finished lines of a responses file; a torn last line (killed mid-write) is cut off."""
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(keep)
    for number, line in enumerate(data[:keep].decode("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                from affect_llm.errors import InputError

                raise InputError(f"{path}: line {number}: invalid JSON ({error.msg})") from None
            except RecursionError:
                from affect_llm.errors import InputError

                raise InputError(
                    f"{path}: line {number}: JSON nested too deeply to read (thousands of levels)"
                ) from None
            done[row["name"]] = row
    return done


def read_responses(path: str | os.PathLike) -> dict[str, str]:
    """{name: response} of a responses.jsonl (samples that failed give an empty response)."""
    return {name: row.get("response") or "" for name, row in read_done(Path(path)).items()}


@dataclass
class GenerationRun:
    """What one `generate_answers` call did."""

    total: int = 0
    reused: int = 0
    generated: int = 0
    failed: int = 0
    run_id: str = ""


_SAMPLE_BYTES = 1 << 20


def model_fingerprint(path: str | os.PathLike, seed: int = 0) -> str:
    """A digest of what a saved model answers with: its config.json, and for each weights file
    its name, size, modification time, header and three 1 MiB samples (start, middle, end).

    Resuming an eval checks it, so answers of a model retrained in place are never mixed with
    the new model's. Reading samples, not whole files, keeps it instant for 15 GB of weights;
    retrained weights differ everywhere, so any sample tells.
    """
    if os.fspath(path) == TINY_MODEL:
        return f"{TINY_MODEL}-seed{seed}"
    folder = Path(path)
    if not folder.is_dir():  # a hub id: its revision is what the path records
        return hashlib.sha256(os.fspath(path).encode()).hexdigest()[:24]
    digest = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        if file.name == "config.json" or file.name.endswith((".json", ".jinja", ".txt")):
            if file.is_file():
                digest.update(file.name.encode() + b"\0" + file.read_bytes())
        elif file.is_file() and file.name.endswith((".safetensors", ".bin", ".pt", ".gguf")):
            stat = file.stat()
            digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
            with open(file, "rb") as handle:
                for offset in (0, stat.st_size // 2, max(0, stat.st_size - _SAMPLE_BYTES)):
                    handle.seek(offset)
                    digest.update(handle.read(_SAMPLE_BYTES))
    return digest.hexdigest()[:24]


def _check_settings(path: Path, settings: dict[str, Any], overwrite: bool) -> None:
    settings_path = path.with_name("generation.json")
    if settings_path.exists() and path.exists() and not overwrite:
        previous = json.loads(settings_path.read_text(encoding="utf-8"))
        if previous != settings:
            changed = sorted(
                k for k in settings.keys() | previous.keys() if settings.get(k) != previous.get(k)
            )
            from affect_llm.errors import InputError

            why = (
                "; the model's config or weights changed since (retrained in place?)"
                if "model_fingerprint" in changed
                else ""
            )
            raise InputError(
                f"{path} was generated with other settings ({', '.join(changed)} differ{why}); "
                "use a new output folder or --overwrite"
            )
    if overwrite:
        path.unlink(missing_ok=True)
    atomic_write_json(settings_path, settings)


def perceive_item(item: SourceItem, build: BuildConfig, cache: FeatureCache):
    """(meta, arrays) of an item's clip, from the feature cache or computed once and cached."""
    meta, _ = extract_item(item, build, cache)
    hit = cache.get(item.id, meta["cache_key"], load_arrays=True)
    arrays = hit[1] if hit else {}
    return meta, arrays


class AffectInputs:
    """How an AffectLLM reads an item: perception's face / AU / audio arrays and `<|face|>` /
    `<|audio|>` parts; a backbone family has its own (`affect_llm.evaluation.backbone_answers`)."""

    def __init__(self, model, processor):
        self.model, self.processor = model, processor

    def perceive(self, item: SourceItem, build: BuildConfig, cache: FeatureCache):
        """(meta for the cue lines, the media this model reads) of an item."""
        meta, arrays = perceive_item(item, build, cache)
        return meta, _model_inputs(self.processor, arrays)

    def render(self, prompt: str, media: dict[str, Any]) -> str:
        messages = [
            {
                "role": "user",
                "content": [{"type": "face"}, {"type": "audio"}, {"type": "text", "text": prompt}],
            }
        ]
        return self.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def generate(self, texts: list[str], media: list[dict], kwargs: dict[str, Any]) -> list[str]:
        """The answers to a left-padded batch of rendered prompts."""
        import torch

        inputs = self.processor(
            text=texts,
            faces=[m["faces"] for m in media],
            aus=[m["aus"] for m in media],
            audio=[m["audio"] for m in media],
            return_tensors="pt",
        ).to(next(self.model.parameters()).device)
        with torch.no_grad():
            output = self.model.generate(
                **inputs, **kwargs, pad_token_id=self.processor.tokenizer.pad_token_id
            )
        prompt_length = inputs["input_ids"].shape[1]
        return self.processor.batch_decode(output[:, prompt_length:], skip_special_tokens=True)


def _model_inputs(processor, arrays: dict[str, Any]) -> dict[str, Any]:
    """faces / aus / audio for the processor, whichever the model's encoders read."""
    aus = arrays.get("aus")
    faces, present = arrays.get("faces"), arrays.get("face_present")
    inputs: dict[str, Any] = {"faces": None, "aus": None, "audio": arrays.get("audio")}
    if processor.face_encoder_type == "au":
        inputs["aus"] = aus if aus is not None and len(aus) else None
    elif faces is not None and present is not None and present.any():
        inputs["faces"] = faces[present.astype(bool)]
    return inputs


def generate_answers(
    items: Sequence[SourceItem],
    model,
    processor,
    out_path: str | os.PathLike,
    task: str,
    config: GenerationConfig,
    perception: PerceptionConfig | None = None,
    cache_dir: str | os.PathLike | None = None,
    settings: dict[str, Any] | None = None,
    progress: bool = True,
    overwrite: bool = False,
    inputs: AffectInputs | None = None,
) -> GenerationRun:
    """Answer every item's question into `out_path` (JSONL: name, response[, error], run).

    Items whose media is missing or unreadable get a line with `error` and an empty response (they
    score as empty predictions); the rest of the run continues. `inputs` reads, renders and
    generates for the model (default: an AffectLLM's `AffectInputs`).
    """
    from transformers import set_seed

    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_settings(path, {**(settings or {}), "task": task, **config.to_dict()}, overwrite)
    done = read_done(path)
    pending = [item for item in items if item.id not in done]
    run = GenerationRun(total=len(items), reused=len(items) - len(pending), run_id=uuid.uuid4().hex)
    build = BuildConfig(perception=perception or PerceptionConfig())
    cache = FeatureCache(cache_dir or path.parent / "cache")
    processor.tokenizer.padding_side = "left"
    inputs = inputs or AffectInputs(model, processor)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), initial=run.reused, desc=path.parent.name, unit="sample")
    with open(path, "a", encoding="utf-8") as handle:
        for start in range(0, len(pending), config.batch_size):
            batch = pending[start : start + config.batch_size]
            lines, ready = [], []
            for item in batch:
                try:
                    if item.error:
                        raise ValueError(item.error)
                    meta, media = inputs.perceive(item, build, cache)
                except Exception as error:  # one bad clip must not stop the run; say which and why
                    if is_disk_full(error):
                        raise  # not this clip's fault: every other would fail the same way
                    reason = f"{type(error).__name__}: {error}"
                    logger.warning("sample %s failed: %s", printable(item.id), printable(reason))
                    lines.append(
                        {"name": item.id, "response": "", "error": reason, "run": run.run_id}
                    )
                    run.failed += 1
                    continue
                meta = {**meta, "subtitle": item.subtitle or meta.get("subtitle")}
                question = evaluation_question(task, item.candidates)
                prompt = "\n".join([*cue_lines(meta, config.cues), question])
                ready.append((item, inputs.render(prompt, media), media))
            if ready:
                # A per-batch seed keyed by its first sample: sampled runs resume reproducibly.
                set_seed(config.seed + zlib.crc32(ready[0][0].id.encode()) % 1_000_003)
                texts = inputs.generate(
                    [text for _, text, _ in ready],
                    [media for *_, media in ready],
                    config.generate_kwargs(),
                )
                for (item, _, _), response in zip(ready, texts):
                    lines.append({"name": item.id, "response": response.strip(), "run": run.run_id})
                    run.generated += 1
            handle.write("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
            if bar:
                bar.update(len(batch))
    if bar:
        bar.close()
    return run
