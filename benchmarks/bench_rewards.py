"""Benchmark: all six GRPO rewards on a batch of 1024 fresh completions (README: Benchmarks).

GRPO scores every rollout batch inline, so rewards must cost far less than a generation step.
Completions are new strings each round (the per-completion parse caches start cold, as in
training); the taxonomy is built and every known emotion word mapped once beforehand (90 ms),
as it is after the first steps of a training run.
Also prints the ratio against the same rewards with every cache cleared before each call.

    python benchmarks/bench_rewards.py [--batch 1024] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from affect_llm.action_units import AU_NAMES, find_aus
from affect_llm.parsing import answer_text, extract_labels, extract_think_labels, think_text
from affect_llm.rewards import REWARDS, forget_last_batch
from affect_llm.taxonomy import get_taxonomy


def make_batch(rng: random.Random, size: int, generations: int = 8) -> tuple[list[str], dict]:
    """A GRPO-like batch: size/generations prompts, each with `generations` sampled completions.

    Labels are drawn from the emotion words (one in ten from the full form table, mostly not
    emotion words at all); each reasoning names a few cues, an emotion and a negated one.
    """
    taxonomy = get_taxonomy()
    emotions = sorted(w for w in taxonomy.emotion_words() if " " not in w)
    others = sorted(w for w in taxonomy.forms if " " not in w)

    def word() -> str:
        return rng.choice(others if rng.random() < 0.1 else emotions)

    completions, openset, aus, label = [], [], [], []
    for _ in range(size // generations):
        gt = [word() for _ in range(rng.randint(1, 4))]
        active = sorted(rng.sample(sorted(AU_NAMES), 3))
        for _ in range(generations):
            answer = [word() for _ in range(rng.randint(1, 5))]
            cue = rng.choice([active[0], AU_NAMES[active[1]], "AU45"])
            think = (
                f"The speaker's face shows {cue} and the voice is tense (id {rng.random():.6f}); "
                f"they seem {answer[0]}, not {word()}, maybe {word()}."
            )
            completions.append(f"<think>{think}</think>\n<answer>{', '.join(answer)}</answer>")
            openset.append(str(gt))
            aus.append(active)
            label.append(gt[0])
    return completions, {"openset": openset, "aus": aus, "label": label}


def run_all(completions: list[str], columns: dict) -> None:
    for reward in REWARDS.values():
        reward(None, completions, **columns)


def clear_caches() -> None:
    """Forget every parse: the next reward re-reads its completions from scratch."""
    forget_last_batch()
    for cached in (extract_labels, extract_think_labels, find_aus, answer_text, think_text):
        cached.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    taxonomy = get_taxonomy()
    for form in taxonomy.forms:  # map every known emotion word once
        taxonomy.label_bits(form)
    run_all(*make_batch(rng, args.batch))
    fresh, fresh_cpu, uncached = [], [], []
    for _ in range(args.rounds):
        completions, columns = make_batch(rng, args.batch)
        start, start_cpu = time.perf_counter(), time.process_time()
        run_all(completions, columns)
        fresh.append(time.perf_counter() - start)
        fresh_cpu.append(time.process_time() - start_cpu)
        start = time.perf_counter()
        for reward in REWARDS.values():
            clear_caches()
            reward(None, completions, **columns)
        uncached.append(time.perf_counter() - start)
    best, median = min(fresh) * 1e3, statistics.median(fresh) * 1e3
    print(
        f"all {len(REWARDS)} rewards on {args.batch} fresh completions: "
        f"best {best:.1f} ms, median {median:.1f} ms wall; "
        f"median {statistics.median(fresh_cpu) * 1e3:.1f} ms CPU (load {os.getloadavg()[0]:.1f})"
    )
    print(
        f"shared parse cache speed-up vs re-parsing per reward: "
        f"{statistics.median(uncached) / statistics.median(fresh):.2f}x"
    )


if __name__ == "__main__":
    main()
