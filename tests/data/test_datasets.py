"""Each public-dataset builder reads its published layout (tiny fake copies with real clips)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from media_fixtures import HAPPY

from affect_llm.data import BuildConfig, build_samples
from affect_llm.data.builder import make_row
from affect_llm.data.datasets import DATASETS
from affect_llm.data.templates import cue_lines
from affect_llm.errors import InputError
from affect_llm.perception import PerceptionConfig


def _clip(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(HAPPY, path)


def _by_id(items):
    return {item.id: item for item in items}


def test_mer_caption_plus(tmp_path):
    _clip(tmp_path / "video" / "sample_00000001.mp4")
    _clip(tmp_path / "video" / "sample_00000002.mp4")
    (tmp_path / "track2_train_mercaptionplus.csv").write_text(
        "name,openset\nsample_00000001,\"['happy', 'excited']\"\nsample_00000002,\n"
    )
    (tmp_path / "track3_train_mercaptionplus.csv").write_text(
        "name,reason\nsample_00000001,She smiles.\n"
    )
    (tmp_path / "subtitle_chieng.csv").write_text(
        "name,chinese,english\nsample_00000001,你好,Hello there\n"
    )
    items = _by_id(DATASETS["mer-caption+"](tmp_path))
    first, second = items["sample_00000001"], items["sample_00000002"]
    assert first.openset == ["happy", "excited"] and first.reason == "She smiles."
    assert (
        first.subtitle == "Hello there" and first.task == "reason" and first.video.endswith(".mp4")
    )
    assert second.openset == ["neutral"] and second.task == "openset"  # empty means neutral


def test_ovmerd(tmp_path):
    _clip(tmp_path / "video" / "samplenew_1.mp4")
    (tmp_path / "ovlabel.csv").write_text(
        "name,openset\nsamplenew_1,\"['worried', 'nervous']\"\nsamplenew_2,['sad']\n"
    )
    (tmp_path / "subtitle_eng.csv").write_text("name,sentence\nsamplenew_1,Are you sure?\n")
    items = _by_id(DATASETS["ovmerd"](tmp_path))
    assert items["samplenew_1"].openset == ["worried", "nervous"]
    assert items["samplenew_1"].subtitle == "Are you sure?" and items["samplenew_1"].split == "test"
    assert "no video or audio file" in items["samplenew_2"].error


def test_merr_json(tmp_path):
    _clip(tmp_path / "videos" / "sample_00000007.mp4")
    (tmp_path / "MERR_fine_grained.json").write_text(
        json.dumps(
            {
                "sample_00000007": {
                    "AU_list": ["AU06", "AU12"],
                    "peak_index": "3",
                    "pseu_emotion": "happy",
                    "smp_reason_caption": "The lip corners rise; she is happy.",
                }
            }
        )
    )
    item = DATASETS["merr"](tmp_path)[0]
    assert (
        item.label == "happy"
        and item.reason.startswith("The lip corners")
        and item.task == "reason"
    )


def test_mer2023_from_npz_and_mer2024_train_from_csv(tmp_path):
    root23 = tmp_path / "mer2023-dataset-process"
    _clip(root23 / "video" / "sample_3.mp4")
    np.savez(root23 / "label-6way.npz", test1_corpus={"sample_3": {"emo": "worried", "val": -1.2}})
    item = DATASETS["mer2023"](root23)[0]
    assert (item.label, item.valence, item.task) == ("worried", -1.2, "onehot")
    assert "worried" in item.candidates and item.video
    root24 = tmp_path / "mer2024"
    _clip(root24 / "video" / "s1.mp4")
    (root24 / "label-disdim.csv").write_text("name,discrete,valence\ns1,happy,2.0\ns2,??[,x\n")
    items = _by_id(DATASETS["mer2024"](root24, split="train"))
    assert items["s1"].label == "happy" and items["s1"].valence == 2.0
    assert "malformed label" in items["s2"].error


def test_dfew_fold_file(tmp_path):
    _clip(tmp_path / "Clip" / "original" / "42.mp4")
    split = tmp_path / "EmoLabel_DataSplit" / "test(single-labeled)"
    split.mkdir(parents=True)
    (split / "set_2.csv").write_text("video_name,label\n42,5\n43,9\n")
    items = _by_id(DATASETS["dfew"](tmp_path, fold=2))
    assert items["42"].label == "surprise" and items["42"].split == "test2"
    assert items["42"].video.endswith("42.mp4")
    assert "not 1-7" in items["43"].error


def test_dfew_uses_the_padded_224_derivative_only_without_an_original(tmp_path):
    _clip(tmp_path / "Clip" / "clip_224x224" / "00042.mp4")
    split = tmp_path / "EmoLabel_DataSplit" / "test(single_labeled)"
    split.mkdir(parents=True)
    (split / "set_1.csv").write_text("video_name,label\n42,1\n")
    assert DATASETS["dfew"](tmp_path)[0].video.endswith("00042.mp4")


def test_mafw_split_file(tmp_path):
    _clip(tmp_path / "data" / "clips" / "00025.mp4")
    split = tmp_path / "Train & Test Set" / "single" / "no_caption" / "set_1"
    split.mkdir(parents=True)
    (split / "test.txt").write_text("00025.mp4 helplessness\n00026.mp4 bored\n")
    items = _by_id(DATASETS["mafw"](tmp_path))
    assert items["00025"].label == "helplessness" and len(items["00025"].candidates) == 11
    assert "malformed label" in items["00026"].error


def test_meld_csv_crlf_and_split_prefixed_names(tmp_path):
    _clip(tmp_path / "output_repeated_splits_test" / "dia0_utt1.mp4")
    (tmp_path / "test_sent_emo.csv").write_bytes(
        b"Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\r\n"
        b'1,Oh my God!,Rachel,surprise,positive,0,1,3,19,"00:14:38,127","00:14:40,378"\r\n'
    )
    item = DATASETS["meld"](tmp_path)[0]
    assert item.id == "test_dia0_utt1" and item.label == "surprise" and item.valence == 1.0
    assert item.subtitle == "Oh my God!" and item.video


MOSI_HEADER = "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode"
MOSEI_HEADER = "video_id,clip_id,text,label,annotation,mode,label_T,label_A,label_V"


@pytest.mark.parametrize(
    ("name", "file", "header", "row", "expected"),
    [
        (
            "mosi",
            "label.csv",
            MOSI_HEADER,
            "k5Y_838nuGo,1,a lot of fun,2.4,,,,Positive,test",
            "k5Y_838nuGo_1",
        ),
        (
            "mosei",
            "label.csv",
            MOSEI_HEADER,
            "k5Y_838nuGo,1,a lot of fun,2.4,Positive,test,,,",
            "k5Y_838nuGo_1",
        ),
        (
            "sims",
            "label.csv",
            MOSI_HEADER,
            "video_0003,0006,a lot of fun,2.4,2.4,2.4,2.4,Positive,test",
            "video_0003_0006",
        ),
        (
            "simsv2",
            "meta.csv",
            MOSI_HEADER,
            "video_0003,6,a lot of fun,2.4,2.4,2.4,2.4,Positive,test",
            "video_0003_0006",
        ),
    ],
)
def test_mmsa_layout(tmp_path, name, file, header, row, expected):
    video_id, clip_id = expected.rsplit("_", 1)
    _clip(tmp_path / "Raw" / video_id / f"{clip_id if name.startswith('sims') else '1'}.mp4")
    (tmp_path / file).write_text(
        f"{header}\n{row}\n{row.replace('test', 'train').replace(',1,', ',2,')}\n"
    )
    items = DATASETS[name](tmp_path)
    assert [i.id for i in items] == [expected]
    assert items[0].valence == 2.4 and items[0].task == "sentiment" and items[0].source == name
    assert items[0].video and items[0].subtitle == "a lot of fun"


def test_a_dataset_builds_end_to_end(tmp_path):
    _clip(tmp_path / "video" / "samplenew_1.mp4")
    (tmp_path / "ovlabel.csv").write_text("name,openset\nsamplenew_1,['worried']\n")
    config = BuildConfig(perception=PerceptionConfig(num_frames=2, face_size=64))
    summary = build_samples(DATASETS["ovmerd"](tmp_path), tmp_path / "out", config)
    assert summary.written == 1
    row = json.loads((tmp_path / "out" / "samples.jsonl").read_text())
    assert row["source"] == "ovmerd" and row["openset"] == ["worried"] and all(row["face_present"])


def test_r1_omni_rows_json_and_jsonl(tmp_path):
    _clip(tmp_path / "DFEW" / "videos" / "1.mp4")
    _clip(tmp_path / "DFEW" / "videos" / "2.mp4")
    problem = "As an emotional recognition expert; throughout the video, which emotion conveyed by the characters is the most obvious to you?"
    rows = [
        {"video": "DFEW/videos/1.mp4", "problem": problem, "solution": "<answer> happy </answer>"},
        {
            "video": "DFEW/videos/2.mp4",
            "conversations": [
                {"from": "human", "value": problem},
                {"from": "gpt", "value": "<think>x</think>\n<answer>sad</answer>"},
            ],
        },
        {"video": "DFEW/videos/3.mp4", "problem": problem, "solution": "<answer>angry</answer>"},
        {"video": "DFEW/videos/1.mp4", "problem": problem, "solution": "happy"},
    ]
    (tmp_path / "train.json").write_text(json.dumps(rows))
    items = DATASETS["r1-omni"](tmp_path / "train.json")
    assert [(i.id, i.label) for i in items[:2]] == [
        ("DFEW/videos/1", "happy"),
        ("DFEW/videos/2", "sad"),
    ]
    assert items[0].video.endswith("1.mp4") and "no video file" in items[2].error
    assert "already on row 1" in items[3].error
    (tmp_path / "train.json").unlink()
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:1]) + "\n{bad\n")
    with pytest.raises(InputError, match=r"rows\.jsonl: line 2: invalid JSON"):
        DATASETS["r1-omni"](tmp_path)


# R1-Omni's README (HumanMLLM/R1-Omni, "Training"): the cold-start and RLVR example rows.
R1_QUESTION = "As an emotional recognition expert; throughout the video, which emotion conveyed by the characters is the most obvious to you?"
R1_COLD_START = {
    "video": "MER24/sample_00000967.mp4",
    "conversations": [
        {
            "from": "human",
            "value": f"<video>\n<audio>\n{R1_QUESTION} Output the thinking process in <think> </think> and final emotion in <answer> </answer> tags.",
        },
        {
            "from": "gpt",
            "value": "<think>The video depicts a bright and tranquil indoor setting, where a man in a white Polo shirt stands by the window, engaged in a phone call. His furrowed brow and open mouth suggest he is experiencing tension and anxiety. According to the audio content of the video, his speech is fast-paced, and his tone is filled with confusion and stress. A comprehensive analysis reveals that the man is facing a moderate level of anxiety, closely linked to the challenging phone conversation he is having. Consequently, the entire emotional analysis report emphasizes his anxiety and nervousness in handling challenging situations.</think>\n<answer>anxious</answer>",
        },
    ],
}
R1_RLVR = {
    "video": "DFEW/videos/1.mp4",
    "conversations": [
        {"from": "human", "value": f"<video>\n<audio>\n{R1_QUESTION}"},
        {"from": "gpt", "value": "sad"},
    ],
}
# open-r1 / R1-V rows, what R1-Omni's loader turns the RLVR rows into.
OPEN_R1 = {
    "video": "DFEW/videos/2.mp4",
    "problem": R1_QUESTION,
    "solution": "<answer> happy </answer>",
}


def test_r1_omni_rlvr_cold_start_and_open_r1_rows_build_and_train(tmp_path, capsys):
    """The README's RLVR row (bare label) and cold-start row (reasoning kept) and an open-r1
    row all build with `affect-llm build r1-omni`, and the built folder gives training rows."""
    from affect_llm.commands.build import main as build
    from affect_llm.training.data import training_rows

    data = tmp_path / "r1"
    for row in (R1_COLD_START, R1_RLVR, OPEN_R1):
        _clip(data / row["video"])
    (data / "train.json").write_text(json.dumps([R1_RLVR, R1_COLD_START, OPEN_R1], indent=4))
    items = _by_id(DATASETS["r1-omni"](data / "train.json"))
    rlvr, cold, open_r1 = (
        items[n] for n in ("DFEW/videos/1", "MER24/sample_00000967", "DFEW/videos/2")
    )
    assert (rlvr.label, rlvr.openset, rlvr.task, rlvr.reason) == ("sad", ["sad"], "onehot", None)
    assert (cold.label, cold.task) == ("anxious", "reason")
    assert cold.reason.startswith("The video depicts") and cold.reason.endswith("situations.")
    assert (open_r1.label, open_r1.task) == ("happy", "onehot")
    assert not any(item.error for item in items.values())

    out = tmp_path / "out"
    argv = ["r1-omni", str(data), "--out", str(out), "--frames", "2"]
    assert build([*argv, "--face-size", "64"]) == 0
    assert "built 3/3 samples" in capsys.readouterr().out
    rows = {r["id"]: r for r in training_rows(out, candidates=["happy", "sad", "anxious"])}
    assert rows["DFEW/videos/1"]["completion"][0]["content"] == "<answer>sad</answer>"
    assert rows["DFEW/videos/2"]["openset"] == ["happy"]
    cold_answer = rows["MER24/sample_00000967"]["completion"][0]["content"]
    assert cold_answer.startswith("<think>The video depicts") and cold_answer.endswith(
        "<answer>anxious</answer>"
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("<think>She frowns.</think>", "has tags but no <answer>"),
        ("", "no solution or gpt answer"),
        ("[sad]", "looks like a list"),
    ],
)
def test_r1_omni_rows_without_a_usable_answer_are_reported(tmp_path, answer, reason):
    _clip(tmp_path / "DFEW" / "videos" / "1.mp4")
    row = {
        **R1_RLVR,
        "conversations": [R1_RLVR["conversations"][0], {"from": "gpt", "value": answer}],
    }
    (tmp_path / "train.json").write_text(json.dumps([row]))
    (item,) = DATASETS["r1-omni"](tmp_path)
    assert reason in item.error and "row 1" in item.error and item.label is None


MERR = Path(__file__).parent / "mini_benchmarks" / "merr"


def test_merr_cues_reach_the_row_and_the_prompt():
    """AU_list, peak_index, peak_AU_list, visual_prior_list and audio_prior_list of the real MERR
    layout become the row's AU and voice text, rendered like extracted cues."""
    item = _by_id(DATASETS["merr"](MERR))["sample_00000047"]
    assert item.label == "happy" and item.subtitle.startswith("I'm so excited") and not item.error
    assert item.au_peak == ["AU12", "AU06"]
    clip_meta = {  # what perception made of the clip itself
        "missing": {},
        "frame_times": [0.0],
        "face_present": [True],
        "aus": [[0.0] * 17],
        "au_source": "landmarks",
        "au_description": "No facial action unit is clearly active.",
        "au_peak": [],
        "body": None,
        "prosody": "flat pitch",
        "audio_seconds": 1.0,
        "subtitle": None,
        "notes": [],
    }
    row = make_row(item, clip_meta, None)
    assert row["au_description"] == (
        "At the peak expression (frame 23) the face shows AU12 lip corner puller, AU06 cheek "
        "raiser. Action units found: AU06 cheek raiser, AU12 lip corner puller, AU25 lips part. "
        "Visual cues: cheeks raised, lip corners pulled up into a smile, lips slightly parted."
    )
    assert row["au_peak"] == ["AU12", "AU06"] and row["au_source"] == "landmarks"
    assert row["prosody"].startswith("The speaker's voice is bright")
    assert any("merr annotations" in note for note in row["notes"])
    lines = cue_lines(row)
    assert "Subtitle: I'm so excited to share this news with you!" in lines
    assert any(
        line.startswith("Facial action units: At the peak expression (frame 23)") for line in lines
    )
    assert (
        "Voice: The speaker's voice is bright and higher-pitched, with an upward intonation."
        in lines
    )


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("audio_prior_list", ["high pitch"], "'audio_prior_list': expected a text"),
        ("AU_list", ["AU06", "smile"], "'AU_list': 'smile' is not an AU code"),
        ("peak_index", "peak", "'peak_index': expected a frame number"),
        ("visual_prior_list", "smile", "'visual_prior_list': expected a list of texts"),
    ],
)
def test_a_merr_cue_of_the_wrong_type_is_that_samples_error(tmp_path, key, value, reason):
    data = json.loads((MERR / "MERR_fine_grained.json").read_text(encoding="utf-8"))
    data["sample_00000047"][key] = value
    (tmp_path / "MERR_fine_grained.json").write_text(json.dumps(data), encoding="utf-8")
    shutil.copytree(MERR / "video", tmp_path / "video", symlinks=False)
    items = _by_id(DATASETS["merr"](tmp_path))
    assert reason in items["sample_00000047"].error
    assert items["sample_00000047"].error.startswith("MERR_fine_grained.json: MERR key")
    assert not items["sample_00000121"].error and items["sample_00000121"].au_peak


def test_merr_coarse_or_fine_is_chosen_explicitly(tmp_path):
    _clip(tmp_path / "video" / "sample_00000007.mp4")
    fine = {
        "sample_00000007": {
            "AU_list": ["AU06", "AU12"],
            "visual_prior_list": ["smile"],
            "audio_prior_list": "high pitch",
            "peak_index": "3",
            "peak_AU_list": ["AU12"],
            "pseu_emotion": "happy",
            "text": "Great!",
            "smp_reason_caption": "She smiles; she is happy.",
        }
    }
    coarse = {"sample_00000007": {"pseu_emotion": "happy", "caption": "A woman smiles."}}
    (tmp_path / "MERR_fine_grained.json").write_text(json.dumps(fine))
    (tmp_path / "MERR_coarse_grained.json").write_text(json.dumps(coarse))
    with pytest.raises(InputError, match="choose one"):
        DATASETS["merr"](tmp_path)
    item = DATASETS["merr"](tmp_path, granularity="coarse")[0]
    assert item.reason == "A woman smiles." and item.label == "happy"
    item = DATASETS["merr"](tmp_path, granularity="fine")[0]
    assert item.reason.startswith("She smiles") and item.subtitle == "Great!"


def test_rows_with_more_fields_than_the_header_are_reported_by_line(tmp_path):
    (tmp_path / "ovlabel.csv").write_text(
        "name,openset\nsamplenew_1,['sad']\nsamplenew_2,['sad'],extra\n"
    )
    with pytest.raises(InputError, match=r"ovlabel\.csv: line 3: 3 fields, the header has 2"):
        DATASETS["ovmerd"](tmp_path)


# A whole benchmark family as a new module would hold it: adding it to registry.FAMILIES (one
# line) is all that `read_dataset`, `describe_layout`, prediction names and `affect-llm build` need.
TOY_FAMILY = '''
"""Toy clips: {split}_labels.csv (name,label) or toy-process/labels.csv, clips by name."""

from pathlib import Path

from affect_llm.data.datasets.reading import (
    attach_media, label_fields, labelled_item, media_index, read_csv
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.labels import parse_label

LAYOUTS = (
    LayoutRule("processed", ("toy-process/labels.csv",)),
    LayoutRule("original", ("{split}_labels.csv",)),
)


def _fields(row):
    return label_fields(parse_label(row["label"]))


def toy_items(root, split="test"):
    layout = detect("toy", LAYOUTS, root, split=split)
    _, rows = read_csv(layout.labels)
    media = media_index([Path(root)])
    items = [labelled_item(_fields, row, id=row["name"], source="toy", split=split) for _, row in rows]
    for item in items:
        if not item.error:
            attach_media(item, media, [item.id])
    return items


def toy_aliases(name):
    return (name.upper(),)


SPECS = (DatasetSpec("toy", toy_items, "Toy clips (labels.csv)", LAYOUTS, toy_aliases),)
'''


def test_a_new_family_module_plus_its_registry_line_is_all_it_takes(tmp_path, monkeypatch, capsys):
    import importlib.util

    from affect_llm.cli import main as cli_main
    from affect_llm.data.datasets import describe_layout, prediction_aliases, read_dataset, registry

    (tmp_path / "toy_family.py").write_text(TOY_FAMILY, encoding="utf-8")
    found = importlib.util.spec_from_file_location("toy_family", tmp_path / "toy_family.py")
    toy = importlib.util.module_from_spec(found)
    found.loader.exec_module(toy)
    assert "toy" not in DATASETS
    monkeypatch.setattr(registry, "FAMILIES", (*registry.FAMILIES, toy))  # the registry line

    root = tmp_path / "toy"
    _clip(root / "clips" / "happy_1.mp4")
    (root / "test_labels.csv").write_text("name,label\nhappy_1,happy\nodd,[happy]\n")
    assert "toy" in DATASETS
    assert describe_layout("toy", root) == (
        f"toy: original release layout (labels from {root / 'test_labels.csv'})"
    )
    good, odd = read_dataset("toy", root)
    assert (good.label, good.split, good.video.endswith("happy_1.mp4")) == ("happy", "test", True)
    assert "malformed label" in odd.error
    assert prediction_aliases("toy", "happy_1") == ("HAPPY_1", "happy_1.mp4", "HAPPY_1.mp4")
    (root / "toy-process").mkdir()
    (root / "toy-process" / "labels.csv").write_text("name,label\nhappy_1,happy\n")
    assert describe_layout("toy", root).startswith("toy: MERBench processed layout")
    with pytest.raises(InputError, match="holds both the processed"):
        read_dataset("toy", root)
    (root / "toy-process" / "labels.csv").unlink()

    out = tmp_path / "out"
    argv = ["build", "toy", str(root), "--out", str(out), "--frames", "2", "--face-size", "64"]
    assert cli_main(argv) == 0
    printed = capsys.readouterr().out
    assert "reading toy: original release layout" in printed and "built 1/2 samples" in printed
    assert json.loads((out / "samples.jsonl").read_text())["source"] == "toy"
