"""The quickstart: the README's main job, runnable offline on a fresh CPU machine.

Training stages: build the bundled sample clips with the data builder, add the synthetic 4-class set
whose label only the face (AU) / voice inputs carry, measure held-out accuracy of the tiny model,
run a cold-start SFT and then emotion-wheel GRPO, measure again, and plot the GRPO reward curve.
Scoring stage: deterministic label extraction from the bundled free-text answers, then the
MER-UniBench metrics (OV wheel score, hit rate, sentiment).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from affect_llm.files import atomic_path, atomic_write_json, atomic_write_text
from affect_llm.metrics import hit_rate, ov_scores, sentiment_scores
from affect_llm.parsing import extract_labels


def example_path(name: str) -> Path:
    """A bundled example file (affect_llm/resources/examples/NAME)."""
    return Path(str(resources.files("affect_llm") / "resources" / "examples" / name))


def _read(name: str, column: str) -> dict[str, str]:
    with open(example_path(name), newline="", encoding="utf-8") as f:
        return {row["name"]: row[column] for row in csv.DictReader(f)}


def _write_predictions(path: Path, predictions: dict[str, tuple[str, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "openset"])
    for name, labels in predictions.items():
        writer.writerow([name, "[" + ", ".join(labels) + "]"])
    atomic_write_text(path, buffer.getvalue())


def scoring_stage(out_dir: str | Path) -> dict:
    """Extract labels from the bundled answers, score them, write predictions and scores.json."""
    out_dir = Path(out_dir)
    ov_pred = {n: extract_labels(r) for n, r in _read("ovmerd_responses.csv", "response").items()}
    mer_pred = {n: extract_labels(r) for n, r in _read("mer2023_responses.csv", "response").items()}
    _write_predictions(out_dir / "ovmerd_pred.csv", ov_pred)
    _write_predictions(out_dir / "mer2023_pred.csv", mer_pred)
    ov_gt, mer_gt = _read("ovmerd_gt.csv", "openset"), _read("mer2023_gt.csv", "label")
    ov = ov_scores(ov_gt, ov_pred)
    sentiment = sentiment_scores(
        {n: float(v) for n, v in _read("mosi_gt.csv", "valence").items()},
        _read("mosi_pred.csv", "sentiment"),
    )
    scores = {
        "ovmerd": {
            "level1": ov["level1"].as_dict(),
            "level2": ov["level2"].as_dict(),
            "mean_f1": (ov["level1"].f1 + ov["level2"].f1) / 2,
            "samples": len(ov_gt),
        },
        "mer2023_hit_rate": hit_rate(mer_gt, mer_pred),
        "mer2023_samples": len(mer_gt),
        "mosi": sentiment,
    }
    atomic_write_json(out_dir / "scores.json", scores)
    return scores


def print_scores(scores: dict) -> None:
    """A table a person can read."""
    table = Table(
        title="Scoring check: MER-UniBench metrics on bundled example answers (not this model's)",
        caption="The answers are hand-written files in affect_llm/resources/examples: this table "
        "shows the scoring pipeline at work, not what the trained model can do.",
    )
    table.add_column("dataset")
    table.add_column("metric")
    table.add_column("score", justify="right")
    table.add_column("samples", justify="right")
    ov, mosi = scores["ovmerd"], scores["mosi"]
    ov_n, mer_n, mosi_n = ov["samples"], scores["mer2023_samples"], mosi["samples"]
    table.add_row(
        "OV-MERD+ (examples)", "wheel F1, level 1", f"{ov['level1']['f1']:.4f}", f"{ov_n}"
    )
    table.add_row("", "wheel F1, level 2", f"{ov['level2']['f1']:.4f}", f"{ov_n}")
    table.add_row("", "mean of levels 1 and 2", f"{ov['mean_f1']:.4f}", f"{ov_n}")
    table.add_row("MER2023 (examples)", "hit rate", f"{scores['mer2023_hit_rate']:.4f}", f"{mer_n}")
    table.add_row("CMU-MOSI (examples)", "weighted F1", f"{mosi['weighted_f1']:.4f}", f"{mosi_n}")
    table.add_row("", "accuracy", f"{mosi['accuracy']:.4f}", f"{mosi_n}")
    Console().print(table)


@dataclass
class QuickstartSettings:
    """Sizes of the quickstart's training stages (the defaults take a few minutes on 2 cores)."""

    synthetic_train: int = field(default=256, metadata={"help": "Synthetic training rows."})
    heldout: int = field(default=80, metadata={"help": "Held-out synthetic rows scored."})
    sft_steps: int = field(default=60, metadata={"help": "Cold-start SFT steps (batch 32)."})
    sft_learning_rate: float = field(default=3e-3, metadata={"help": "SFT learning rate."})
    grpo_steps: int = field(default=30, metadata={"help": "GRPO steps."})
    grpo_batch: int = field(
        default=64, metadata={"help": "Completions per GRPO step (num_generations per prompt)."}
    )
    num_generations: int = field(default=8, metadata={"help": "GRPO completions per prompt."})
    grpo_learning_rate: float = field(default=1e-3, metadata={"help": "GRPO learning rate."})
    reward_window: int = field(
        default=5, metadata={"help": "Steps averaged for reward_first and reward_last."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the model, data and sampling."})
    threads: int | None = field(
        default=None, metadata={"help": "torch CPU threads (None: torch's default)."}
    )


def samples_dir() -> Path:
    """The bundled sample clips and their labels.csv (affect_llm/resources/samples)."""
    return Path(str(resources.files("affect_llm") / "resources" / "samples"))


class _RewardRecorder:
    """Collects the mean `ew_f1` reward TRL logs at every GRPO step."""

    def __init__(self):
        from transformers import TrainerCallback  # lazy: `--scoring-only` never loads transformers

        recorder = self

        class Callback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and "rewards/ew_f1/mean" in logs:
                    recorder.curve.append(float(logs["rewards/ew_f1/mean"]))

        self.curve: list[float] = []
        self.callback = Callback()


def plot_reward_curve(curve: list[float], path: Path, window: int) -> None:
    """PNG of the per-step mean ew_f1 reward and its running mean."""
    import matplotlib  # lazy: an optional extra (`affect-llm[plots]`); the caller reports its absence

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(1, len(curve) + 1)
    smooth = (
        np.convolve(curve, np.ones(window) / window, mode="valid") if len(curve) >= window else []
    )
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(steps, curve, color="0.7", label="ew_f1 per step")
    if len(smooth):
        axes.plot(steps[window - 1 :], smooth, color="C0", label=f"mean of {window} steps")
    axes.set_xlabel("GRPO step")
    axes.set_ylabel("mean ew_f1 reward")
    axes.set_ylim(0, 1)
    axes.legend(loc="lower right")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


def training_stages(out_dir: str | Path, settings: QuickstartSettings | None = None) -> dict:
    """Build data, train the tiny model (SFT then GRPO) and measure held-out accuracy."""
    # Lazy: `affect-llm quickstart --scoring-only` scores without loading torch / TRL.
    import torch
    from trl import GRPOConfig, SFTConfig

    from affect_llm.data.folder import build_folder
    from affect_llm.native_logs import quiet_third_party
    from affect_llm.training.accuracy import greedy_answers, label_accuracy
    from affect_llm.training.config import AffectModelConfig, AffectRewardConfig
    from affect_llm.training.console import use_short_logs
    from affect_llm.training.data import CachedMedia, combine_media, training_rows
    from affect_llm.training.export import save_checkpoint
    from affect_llm.training.model_loading import build_model_and_processor
    from affect_llm.training.synthetic import CLASSES, media_lookup, synthetic_rows
    from affect_llm.training.trainers import build_grpo_trainer, build_sft_trainer

    settings = settings or QuickstartSettings()
    quiet_third_party()
    out_dir = Path(out_dir)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.perf_counter() - started - sum(timings.values()), 2)

    data_dir = out_dir / "data"
    summary = build_folder(samples_dir(), data_dir, samples_dir() / "labels.csv")
    print(summary.line(data_dir))
    bundled = training_rows(data_dir, task="onehot", candidates=CLASSES, cues=())
    synthetic, media = synthetic_rows(settings.synthetic_train, settings.seed)
    heldout, heldout_media = synthetic_rows(settings.heldout, settings.seed + 1000, split="test")
    media_loader = combine_media(CachedMedia(data_dir), media_lookup(media))
    heldout_loader = media_lookup(heldout_media)
    rows = bundled + synthetic
    lap("build")

    model_config = AffectModelConfig(
        num_face_tokens=4, num_audio_tokens=4, model_seed=settings.seed
    )
    model, processor = build_model_and_processor(model_config)

    def accuracy() -> float:
        answers = greedy_answers(model, processor, heldout, heldout_loader, max_new_tokens=6)
        return label_accuracy(answers, heldout)

    accuracy_before = accuracy()
    common = dict(
        lr_scheduler_type="constant",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        bf16=False,
        activation_checkpointing=False,
        save_strategy="no",
        disable_tqdm=False,  # TRL's progress bar, with short log lines (use_short_logs)
        seed=settings.seed,
    )
    sft_args = SFTConfig(
        output_dir=str(out_dir),  # nothing is saved mid-run: no empty sft/ folder
        max_steps=settings.sft_steps,
        per_device_train_batch_size=32,
        learning_rate=settings.sft_learning_rate,
        logging_steps=10,
        **common,
    )
    print(f"cold-start SFT: {settings.sft_steps} steps on {len(rows)} rows")
    sft = build_sft_trainer(model_config, None, sft_args, model, processor, rows, media_loader)
    use_short_logs(sft)
    sft.train()
    model = sft.model
    accuracy_after_sft = accuracy()
    lap("sft")

    grpo_args = GRPOConfig(
        output_dir=str(out_dir),  # nothing is saved mid-run: no empty grpo/ folder
        max_steps=settings.grpo_steps,
        per_device_train_batch_size=settings.grpo_batch,
        num_generations=settings.num_generations,
        max_completion_length=7,  # <answer> + the longest label (4 tokens) + </answer> + end
        temperature=1.0,
        learning_rate=settings.grpo_learning_rate,
        logging_steps=1,
        **common,
    )
    recorder = _RewardRecorder()
    print(
        f"GRPO: {settings.grpo_steps} steps, ew_f1 reward, {settings.num_generations} samples per prompt"
    )
    grpo = build_grpo_trainer(
        model_config,
        None,
        AffectRewardConfig(rewards=["ew_f1"]),
        grpo_args,
        model,
        processor,
        rows,
        media_loader,
        callbacks=[recorder.callback],
    )
    use_short_logs(grpo)
    grpo.train()
    model = grpo.model
    accuracy_after = accuracy()
    lap("grpo")

    save_checkpoint(model, processor, out_dir / "model")
    curve = recorder.curve
    window = max(1, min(settings.reward_window, len(curve) // 2))
    try:
        plot_reward_curve(curve, out_dir / "reward_curve.png", window)
        plot = "reward_curve.png"
    except ImportError:  # matplotlib comes with the `plots` extra
        print("no reward plot: pip install 'affect-llm[plots]' for matplotlib")
        plot = None
    return {
        "accuracy_before": accuracy_before,
        "accuracy_after_sft": accuracy_after_sft,
        "accuracy_after": accuracy_after,
        "chance": 1 / len(CLASSES),
        "reward_first": sum(curve[:window]) / window,
        "reward_last": sum(curve[-window:]) / window,
        "reward_curve": curve,
        "reward_plot": plot,
        "train_rows": len(rows),
        "bundled_rows": len(bundled),
        "heldout_rows": len(heldout),
        "model_dir": "model",
        "settings": asdict(settings),
        "seconds": timings,
    }


def print_training(report: dict) -> None:
    """The training stages' figures as a table."""
    table = Table(title="Tiny AffectLLM on the synthetic face / voice task (4 classes)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    heldout = report["heldout_rows"]
    table.add_row(
        f"accuracy on {heldout} held-out clips, untrained", f"{report['accuracy_before']:.3f}"
    )
    table.add_row("after cold-start SFT", f"{report['accuracy_after_sft']:.3f}")
    table.add_row("after SFT + GRPO", f"{report['accuracy_after']:.3f}")
    table.add_row("chance", f"{report['chance']:.3f}")
    window, steps = report["settings"]["reward_window"], len(report["reward_curve"])
    table.add_row(
        f"mean ew_f1 reward, first {window} of {steps} GRPO steps", f"{report['reward_first']:.3f}"
    )
    table.add_row(
        f"mean ew_f1 reward, last {window} of {steps} GRPO steps", f"{report['reward_last']:.3f}"
    )
    seconds = ", ".join(f"{k} {v:.0f} s" for k, v in report["seconds"].items())
    table.add_row("time", seconds)
    Console().print(table)


def run_quickstart(
    out_dir: str | Path, settings: QuickstartSettings | None = None, train: bool = True
) -> dict:
    """Run every quickstart stage and write OUT/report.json (`train=False`: scoring only)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {}
    if train:
        report.update(training_stages(out_dir, settings))
        print_training(report)
    scores = scoring_stage(out_dir)
    print_scores(scores)
    report["scores"] = scores
    atomic_write_json(out_dir / "report.json", report)
    print(f"report written to {out_dir / 'report.json'}")
    return report
