"""What a training run prints: TRL's tqdm bar with short log lines instead of whole metric dicts."""

from __future__ import annotations

from transformers.trainer_callback import ProgressCallback

# The figures a person watches, in this order; everything else stays in trainer_state.json.
SHOWN = {
    "loss": "loss",
    "reward": "reward",
    "rewards/ew_f1/mean": "ew_f1",
    "rewards/format/mean": "format",
    "completions/clipped_ratio": "clipped",
    "mean_token_accuracy": "token acc",
    "learning_rate": "lr",
    "train_runtime": "seconds",
    "train_loss": "mean loss",
}


def short_line(step: int, logs: dict) -> str:
    """'step 5: loss 8.73, lr 0.001' from a Trainer log dict (a few keys, 4 significant digits)."""
    parts = [
        f"{name} {logs[key]:.4g}"
        for key, name in SHOWN.items()
        if isinstance(logs.get(key), (int, float))
    ]
    return f"step {step}: " + ", ".join(parts)


def use_short_logs(trainer) -> None:
    """Replace the trainer's progress callback by one that keeps the bar and prints short lines."""

    class ShortLogProgress(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and self.training_bar is not None and logs:
                self.training_bar.write(short_line(state.global_step, logs))

    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ShortLogProgress())


def done_line(kind: str, metrics: dict, output_dir: str) -> str:
    """The last line of a recipe: where the model went and how the run ended."""
    seconds = metrics.get("train_runtime")
    took = f" in {seconds:.0f} s" if isinstance(seconds, (int, float)) else ""
    loss = metrics.get("train_loss")
    loss_text = f", mean loss {loss:.4g}" if isinstance(loss, (int, float)) else ""
    return f"{kind} done{took}{loss_text} -> {output_dir}"
