"""Answer interpretation, dataset reading, prediction files and resumable answer files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eval_fixtures import MINI

from affect_llm.errors import InputError
from affect_llm.evaluation.answers import (
    answer_sentiment,
    closed_set_class,
    label_valence,
    labels_sentiment,
)
from affect_llm.evaluation.generation import read_done
from affect_llm.evaluation.loading import ground_truth, load_items
from affect_llm.evaluation.predictions import read_predictions, to_metric_values
from affect_llm.evaluation.registry import MER_UNIBENCH


@pytest.mark.parametrize(
    ("answer", "sentiment"),
    [
        ("Positive.", "positive"),
        ("<answer>negative</answer>", "negative"),
        ("The sentiment is not negative, it is positive.", "positive"),
        ("It could be positive or negative.", "neutral"),
        ("The character's emotional state is happy, excited.", "positive"),
        ("The character's emotional state is sad, angry.", "negative"),
        ("", "neutral"),
    ],
)
def test_answer_sentiment(answer, sentiment):
    assert answer_sentiment(answer) == sentiment


def test_valence_lexicon_follows_the_wheels():
    assert label_valence("happy") == 1 and label_valence("worried") == -1
    assert label_valence("surprise") == 0 and label_valence("neutral") == 0
    assert labels_sentiment(["happy", "sad", "angry"]) == "negative"


def test_closed_set_class():
    classes = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"]
    assert closed_set_class(["angry"], classes) == "angry"
    assert closed_set_class(["joyful"], classes) == "happy"  # via the wheel clusters
    assert closed_set_class(["furious", "sad"], classes) == "sad"  # a named class wins
    assert closed_set_class([], classes) is None


def test_every_mini_dataset_reads_with_labels_and_clips():
    from eval_fixtures import dataset_root

    for name, spec in MER_UNIBENCH.items():
        items = load_items(spec.reader, dataset_root(name), split=spec.split)
        gt = ground_truth(items, spec.metric)
        assert gt, name
        assert all(i.video for i in items if i.id in gt), name


def test_iemocap_four_classes_merge_excited_into_happy_and_drop_others():
    items = load_items("iemocap", MINI / "iemocap", split="Session5")
    labels = {i.id: i.label for i in items}
    assert labels["Ses05F_impro03_F000"] == "happy"  # exc
    assert "Ses05F_impro01_M000" not in labels  # fru is not one of the four
    assert sorted(set(labels.values())) == ["angry", "happy", "neutral", "sad"]


def test_sentiment_ground_truth_keeps_only_the_test_rows():
    items = load_items("mosi", MINI / "mosi", split="test")
    expected = {
        "k5Y_838nuGo_1": -1.6,
        "k5Y_838nuGo_2": 1.2,
        "k5Y_838nuGo_3": 0.8,
        "k5Y_838nuGo_4": 1.0,
    }
    assert ground_truth(items, "sentiment") == expected
    processed = load_items("mosi", MINI / "merbench" / "cmumosi-process", split="test")
    assert ground_truth(processed, "sentiment") == expected


def test_prediction_file_layouts(tmp_path):
    (tmp_path / "a.csv").write_text("name,openset\nx,\"['happy']\"\n")
    assert read_predictions(tmp_path / "a.csv").values == {"x": "['happy']"}
    (tmp_path / "b.csv").write_text("name,reason\nx,The character is angry and annoyed.\n")
    b = read_predictions(tmp_path / "b.csv")
    assert b.kind == "response" and to_metric_values(b, "hitrate") == {"x": "[angry, annoyed]"}
    assert to_metric_values(b, "sentiment") == {"x": "negative"}
    np.savez(
        tmp_path / "c.npz",
        filenames=np.array(["x"]),
        fileitems=np.array([["sad", "tired"]], dtype=object),
    )
    assert read_predictions(tmp_path / "c.npz").values == {"x": "[sad, tired]"}
    np.savez(tmp_path / "d.npz", other=np.zeros(2))
    with pytest.raises(InputError, match=r"d\.npz"):
        read_predictions(tmp_path / "d.npz")
    (tmp_path / "e.csv").write_text("name,sentiment\nx,positive\n")
    with pytest.raises(InputError, match="sentiment column"):
        to_metric_values(read_predictions(tmp_path / "e.csv"), "ov")


def test_torn_last_line_is_cut_off_and_regenerated(tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text(json.dumps({"name": "a", "response": "happy"}) + "\n" + '{"name": "b", "resp')
    assert list(read_done(path)) == ["a"]
    assert path.read_text().endswith("}\n")


def test_affectgpt_update_npz_with_free_text_reasons_goes_through_the_extractor(tmp_path):
    reasons = ["The man frowns and shouts; he is angry.", "She smiles warmly, clearly happy."]
    np.savez_compressed(tmp_path / "u.npz", filenames=["a", "b"], fileitems=reasons)
    predictions = read_predictions(tmp_path / "u.npz")
    assert predictions.kind == "response"
    values = to_metric_values(predictions, "hitrate")  # labels read by the extractor
    assert "angry" in values["a"] and "happy" in values["b"]
    np.savez_compressed(tmp_path / "o.npz", filenames=["a"], fileitems=["happy, excited"])
    assert read_predictions(tmp_path / "o.npz").kind == "openset"
