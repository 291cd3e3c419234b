"""GRPO rewards: TRL's signature, documented values, None for missing columns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affect_llm.rewards import REWARDS, build_reward

GOOD = "<think>Cheek raiser and AU12 show a smile; he sounds happy.</think>\n<answer>happy, joyful</answer>"


def call(name, completions, **columns):
    return REWARDS[name](["prompt"] * len(completions), completions, **columns)


def test_registry_has_the_six_rewards_with_names_trl_can_log():
    assert set(REWARDS) == {
        "format",
        "ew_f1",
        "think_answer_consistency",
        "au_grounding",
        "length_penalty",
        "accuracy",
    }
    for name, reward in REWARDS.items():
        assert reward.__name__ == name


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (GOOD, 1.0),
        ("  <think>a</think>  <answer>b</answer>\n", 1.0),
        ("<answer>b</answer><think>a</think>", 0.0),
        ("<think>a</think><answer>b</answer> extra", 0.0),
        ("<think>a</think><think>b</think><answer>c</answer>", 0.0),
        ("happy", 0.0),
    ],
)
def test_format_is_strict(completion, expected):
    assert call("format", [completion]) == [expected]


def test_completions_may_be_chat_messages():
    messages = [{"role": "assistant", "content": GOOD}]
    assert call("format", [messages]) == [1.0]
    assert call("ew_f1", [messages], openset=["[happy]"]) == call(
        "ew_f1", [GOOD], openset=["[happy]"]
    )


def test_ew_f1_rewards_wheel_overlap():
    perfect, wrong, partial = call(
        "ew_f1",
        ["<answer>happy</answer>", "<answer>furious</answer>", "<answer>happy, furious</answer>"],
        openset=["[happy]", "[happy]", "['happy']"],
    )
    assert perfect == pytest.approx(1.0)
    assert wrong == 0.0
    assert 0.0 < partial < 1.0


def test_ew_f1_neutral_ground_truth_rewards_a_neutral_answer():
    assert call(
        "ew_f1", ["<answer>neutral</answer>", "<answer>angry</answer>"], openset=["[]", "[]"]
    ) == [1.0, 0.0]


def test_ew_f1_levels_and_sources_are_built_by_the_factory():
    level1 = build_reward("ew_f1", level="level1")
    assert level1.__name__ == "ew_f1_answer_level1"
    # joyful and happy share a level-1 cluster in every wheel but not always a level-2 one.
    assert level1(None, ["<answer>joyful</answer>"], openset=["[happy]"]) == [pytest.approx(1.0)]
    think = build_reward("ew_f1", source="think")
    assert (
        think(None, ["<think>he is happy</think><answer>sad</answer>"], openset=["[happy]"])[0]
        > 0.9
    )
    with pytest.raises(ValueError, match="level"):
        build_reward("ew_f1", level="level3")
    with pytest.raises(KeyError, match="unknown reward"):
        build_reward("nope")


def test_think_answer_consistency():
    agree = "<think>She smiles; she is happy.</think><answer>happy</answer>"
    disagree = "<think>She frowns; she is angry.</think><answer>happy</answer>"
    silent = "<think>Nothing to say.</think><answer>happy</answer>"
    assert call("think_answer_consistency", [agree, disagree, silent]) == [
        pytest.approx(1.0),
        0.0,
        0.0,
    ]


def test_au_grounding_is_f_beta_mapped_to_minus_one_one():
    rewards = call(
        "au_grounding",
        [
            "<think>AU06 and lip corner puller</think><answer>happy</answer>",
            "<think>AU06 only</think><answer>happy</answer>",
            "<think>no action units named</think><answer>happy</answer>",
            "<think>AU04</think><answer>x</answer>",
            "<think>nothing</think><answer>x</answer>",
        ],
        aus=[["AU06", "AU12"], '["AU06", "AU12"]', ["AU06"], ["AU12"], []],
    )
    assert rewards == [pytest.approx(1.0), pytest.approx(2 * (2 / 3) - 1), -1.0, -1.0, 1.0]
    beta2 = build_reward("au_grounding", beta=2.0)
    # precision 1, recall 0.5: F2 = 5 * 0.5 / (4 + 0.5)
    assert beta2(None, ["<think>AU6</think>"], aus=[["AU06", "AU12"]]) == [
        pytest.approx(2 * (2.5 / 4.5) - 1)
    ]


def test_length_penalty_only_when_more_labels_than_ground_truth():
    completions = ["<answer>a1, a2</answer>", "<answer>happy, sad, angry, calm</answer>"]
    assert call("length_penalty", completions, openset=["[x, y]", "[x, y]"]) == [1.0, 1 / 3]
    ratio = build_reward("length_penalty", mode="ratio")
    assert ratio(None, completions[1:], openset=["[x, y]"]) == [0.5]


def test_accuracy_normalises_through_the_wheel():
    rewards = call(
        "accuracy",
        [
            "<answer>Happiness</answer>",
            "<answer>fear</answer>",
            "<answer>happy</answer>",
            "<answer>neutral</answer>",
        ],
        label=["happy", "anxiety", "happy", "neutral"],
    )
    assert rewards == [1.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("name", ["ew_f1", "au_grounding", "length_penalty", "accuracy"])
def test_missing_column_gives_none_not_a_crash(name):
    assert call(name, [GOOD, GOOD]) == [None, None]


def test_an_empty_batch_gives_empty_rewards():
    for reward in REWARDS.values():
        assert reward([], [], openset=[], aus=[], label=[]) == []


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text())
def test_rewards_never_crash_and_stay_in_range(completion, gt):
    columns = {"openset": [gt], "aus": [gt], "label": [gt]}
    for name, reward in REWARDS.items():
        (value,) = reward(["p"], [completion], **columns)
        low = -1.0 if name == "au_grounding" else 0.0
        assert low <= value <= 1.0, name


def test_answer_rewards_read_only_the_answer_block():
    unfinished = "<think>She sounds happy and"  # no answer block: nothing to score
    assert call("ew_f1", [unfinished], openset=["[happy, excited]"]) == [0.0]
    assert call("length_penalty", [unfinished], openset=["[happy, excited]"]) == [0.0]
    assert call("accuracy", [unfinished, "happy"], label=["happy", "happy"]) == [0.0, 0.0]
    assert call("think_answer_consistency", [unfinished]) == [0.0]
    think = build_reward("ew_f1", source="think")
    assert think(None, [unfinished], openset=["[happy, excited]"])[0] > 0.5  # it reasons


def _wheel_f1_reference(gt: list[str], pred: list[str], levels: list[str]) -> float:
    """Per-sample wheel F1 straight from the definition, with sets of cluster names."""
    from affect_llm.taxonomy import WHEELS, get_taxonomy

    taxonomy = get_taxonomy()
    level_means = []
    for level in levels:
        scores = []
        for wheel in WHEELS:
            g = taxonomy.map_labels(gt, wheel, level)
            if g:
                p = taxonomy.map_labels(pred, wheel, level)
                scores.append(2 * len(g & p) / (len(g) + len(p)))
        if scores:
            level_means.append(sum(scores) / len(scores))
    if level_means:
        return sum(level_means) / len(level_means)
    mapped = any(taxonomy.map_labels(pred, w, lv) for w in WHEELS for lv in levels)
    return 0.0 if mapped else 1.0


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_wheel_f1_matches_the_definition(data):
    from affect_llm.rewards import wheel_f1
    from affect_llm.taxonomy import get_taxonomy

    taxonomy = get_taxonomy()
    pool = [*sorted(taxonomy.emotion_words())[::7], "neutral", "table", "calmness"]
    labels = st.lists(st.sampled_from(pool), max_size=4)
    pairs = data.draw(st.lists(st.tuples(labels, labels), min_size=1, max_size=20))
    for level, levels in [
        ("mean", ["level1", "level2"]),
        ("level1", ["level1"]),
        ("level2", ["level2"]),
    ]:
        expected = [_wheel_f1_reference(g, p, levels) for g, p in pairs]
        assert [wheel_f1(g, p, level) for g, p in pairs] == pytest.approx(expected, abs=1e-12)


def test_the_six_rewards_score_text_and_chat_messages_alike_on_every_call():
    """Completions arrive as text or as chat messages and are parsed through shared caches:
    neither the form nor a second call changes a score."""
    words = ("cheerful", "gloomy", "irritated")  # completions no other test parses
    texts = [GOOD.replace("happy", word) for word in words]
    messages = [[{"role": "assistant", "content": c}] for c in texts]
    columns = {"openset": ["[happy]"] * 3, "aus": [["AU12"]] * 3, "label": ["happy"] * 3}
    first = {name: reward(["p"] * 3, texts, **columns) for name, reward in REWARDS.items()}
    assert {
        name: reward(["p"] * 3, messages, **columns) for name, reward in REWARDS.items()
    } == first
    assert {name: reward(["p"] * 3, texts, **columns) for name, reward in REWARDS.items()} == first
    assert first["ew_f1"] != [0.0, 0.0, 0.0] and first["format"] == [1.0, 1.0, 1.0]


def test_the_rewards_benchmark_runs_and_every_parse_it_clears_is_cached():
    """The benchmark's cold-cache comparison needs each shared parse to be an lru cache."""
    script = Path(__file__).parents[1] / "benchmarks" / "bench_rewards.py"
    done = subprocess.run(
        [sys.executable, str(script), "--batch", "16", "--rounds", "1", "--generation", ""],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "all 6 rewards on 16 fresh completions" in done.stdout
