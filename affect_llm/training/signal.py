"""Say when GRPO cannot learn: every group's rewards equal, so every advantage is 0.

GRPO's advantage is a completion's reward minus its group's mean. A model that never writes what
the rewards read (a random model and `<answer>`) scores 0 in every group, every advantage is 0 and
no weight moves, while the run looks normal. TRL logs the fraction of groups whose rewards have
zero spread as `frac_reward_zero_std`; when it is 1 for the first steps, one line says so and what
to do.
"""

from __future__ import annotations

from transformers import TrainerCallback

ZERO_STD_KEY = "frac_reward_zero_std"
FIRST_STEPS = 3  # steps with no signal at all before the line is printed


def no_signal_line(steps: int, reward: float | None) -> str:
    """The one line: what happened, why nothing moves, and the two ways out."""
    mean = "" if reward is None else f", mean reward {reward:.3g}"
    return (
        f"warning: GRPO has no learning signal: in each of the first {steps} steps every group's "
        f"rewards were equal (frac_reward_zero_std 1{mean}), so every advantage is 0 and no "
        "weight moves; start from an SFT checkpoint (--model_name_or_path runs/<your-sft-run>) "
        "or use a reward for a block the model already writes (e.g. format)"
    )


class NoSignalWarning(TrainerCallback):
    """Prints `no_signal_line` once when every log of the first `steps` steps (or of the whole
    run, if shorter) has `frac_reward_zero_std` 1; a single group with spread silences it."""

    def __init__(self, steps: int = FIRST_STEPS, echo=None):
        self.steps = steps
        self.echo = echo or (lambda line: print(line, flush=True))
        self.zero = True  # every log so far had frac_reward_zero_std 1
        self.done = False
        self.reward: float | None = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.done or not logs or ZERO_STD_KEY not in logs:
            return
        self.zero = self.zero and logs[ZERO_STD_KEY] >= 1.0
        self.reward = logs.get("reward", self.reward)
        if not self.zero:
            self.done = True  # the signal is there: nothing to say, ever
            return
        if state.global_step >= min(self.steps, state.max_steps or self.steps):
            self.done = True
            if state.is_world_process_zero:
                self.echo(no_signal_line(state.global_step, self.reward))
