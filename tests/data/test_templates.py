import pytest

from affect_llm.data.schema import Sample
from affect_llm.data.templates import render

ROW = {
    "id": "s1",
    "openset": ["happy", "excited"],
    "label": "happy",
    "valence": 0.8,
    "reason": "She smiles broadly.",
    "subtitle": "Great news!",
    "au_description": "AU12 lip corner puller",
    "body": None,
    "prosody": "The voice is high-pitched.",
    "candidates": ["neutral", "happy", "sad"],
}


def test_same_seed_same_text_and_seeds_vary_the_wording():
    assert render(ROW, "openset", seed=3) == render(ROW, "openset", seed=3)
    prompts = {render({**ROW, "id": f"s{i}"}, "onehot", seed=0).prompt for i in range(20)}
    assert len(prompts) > 1


def test_openset_answer_uses_affectgpt_wording():
    instruction = render(ROW, "openset")
    assert instruction.answer == "The character's emotional state is happy, excited."
    assert "Subtitle: Great news!" in instruction.prompt and "Voice:" in instruction.prompt


def test_reasoning_answer_has_think_and_answer():
    answer = render(ROW, "reason").answer
    assert answer == "<think>She smiles broadly.</think>\n<answer>happy, excited</answer>"


def test_onehot_lists_every_candidate_and_answers_the_label_in_an_answer_block():
    instruction = render(ROW, "onehot", seed=1)
    assert instruction.answer == "<answer>happy</answer>"  # what the GRPO answer rewards read
    assert all(c in instruction.prompt for c in ROW["candidates"])
    with pytest.raises(ValueError, match="label among its candidates"):
        render({**ROW, "label": "bored"}, "onehot")


def test_sentiment_and_cue_selection():
    assert render(ROW, "sentiment").answer == "positive"
    assert render({**ROW, "valence": -2.0}, "sentiment").answer == "negative"
    bare = render(ROW, "sentiment", cues=()).prompt
    assert "Facial action units" not in bare and "Subtitle" not in bare
    only_aus = render(ROW, "openset", cues=("aus",)).prompt
    assert only_aus.startswith("Facial action units: AU12") and "Voice" not in only_aus


def test_schema_version_is_checked():
    assert Sample.from_dict({"id": "x", "schema_version": 1}).id == "x"
    with pytest.raises(ValueError, match="schema version 2"):
        Sample.from_dict({"id": "x", "schema_version": 2})


def test_evaluation_asks_a_question_the_model_was_trained_on():
    from affect_llm.data.templates import evaluation_question

    # AffectGPT's open-set question, asked the same way in every evaluation run
    assert evaluation_question("openset") == (
        "Please recognize all possible emotional states of the character."
    )
    for task in ("openset", "reason", "sentiment", "onehot"):
        trained = {
            render(ROW, task, seed=seed, cues=(), candidates=["happy", "sad"]).prompt
            for seed in range(20)
        }
        assert evaluation_question(task, ["happy", "sad"]) in trained


def test_samples_of_another_schema_version_are_refused_with_file_and_line(tmp_path):
    from affect_llm.data.schema import read_samples
    from affect_llm.training.data import training_rows

    path = tmp_path / "samples.jsonl"
    path.write_text(
        '{"id": "a", "schema_version": 1, "openset": ["happy"]}\n'
        '{"id": "b", "schema_version": 2, "openset": ["sad"]}\n',
        encoding="utf-8",
    )
    for read in (read_samples, training_rows):
        with pytest.raises(ValueError, match=r"samples.jsonl:2: sample 'b' has schema version 2"):
            read(tmp_path)
    path.write_text('{"id": "a", "openset": ["happy"]}\n\n', encoding="utf-8")
    assert [row["id"] for row in read_samples(path)] == ["a"]
