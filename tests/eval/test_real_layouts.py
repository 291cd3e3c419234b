"""Real benchmark files in, right numbers out: both MER-UniBench layouts, AffectGPT's names,
closed-set word forms, and bad files reported in one line."""

from __future__ import annotations

import csv
import fractions
import json
from pathlib import Path

import numpy as np
import pytest
from eval_fixtures import MINI, ORIGINAL_HAS_TEST_LABELS, PROCESSED, copy_dataset, dataset_root

from affect_llm.cli import main as cli_main
from affect_llm.data.datasets import (
    DFEW_CLASSES,
    IEMOCAP_CLASSES,
    MAFW_CLASSES,
    MELD_CLASSES,
    MER_CLASSES,
    read_dataset,
    repair_text,
)
from affect_llm.errors import InputError
from affect_llm.evaluation.answers import CLASS_WORD_FORMS, CONCEPT_OF_FORM, closed_set_class
from affect_llm.evaluation.loading import ground_truth
from affect_llm.evaluation.registry import MER_UNIBENCH

# ------------------------------------------------------------------ wrong numbers today


def test_meld_clips_come_from_the_split_folder_and_text_is_repaired():
    test = {i.id: i for i in read_dataset("meld", MINI / "meld", split="test")}
    assert "output_repeated_splits_test" in test["test_dia0_utt0"].video
    assert test["test_dia0_utt0"].subtitle.startswith(
        "Why do all you\u2019re coffee"
    )  # U+0092 repaired
    assert all("\u0092" not in (i.subtitle or "") for i in test.values())
    dev = {i.id: i for i in read_dataset("meld", MINI / "meld", split="dev")}
    assert (
        "dev_splits_complete" in dev["val_dia0_utt0"].video
        and dev["val_dia0_utt0"].label == "sadness"
    )
    assert repair_text("That\u0092s it") == "That\u2019s it"


def test_an_ambiguous_clip_stem_is_an_item_error_never_a_pick(tmp_path):
    meld = copy_dataset("meld", tmp_path, "original")
    (meld / "output_repeated_splits_test" / "sub").mkdir()
    (meld / "output_repeated_splits_test" / "sub" / "dia0_utt0.mp4").write_bytes(b"x")
    items = {i.id: i for i in read_dataset("meld", meld)}
    assert "2 video files named dia0_utt0" in items["test_dia0_utt0"].error
    assert items["test_dia0_utt1"].error is None


CLOSED_SETS = {
    "dfew": DFEW_CLASSES,
    "mafw": MAFW_CLASSES,
    "meld": MELD_CLASSES,
    "iemocap": IEMOCAP_CLASSES,
    "mer": MER_CLASSES,
}
CASES = [
    (dataset, cls, form)
    for dataset, classes in CLOSED_SETS.items()
    for cls in classes
    for form in CLASS_WORD_FORMS[CONCEPT_OF_FORM[cls]]
]


@pytest.mark.parametrize(("dataset", "cls", "form"), CASES)
def test_every_word_form_of_a_class_maps_to_that_class(dataset, cls, form):
    assert closed_set_class([form], CLOSED_SETS[dataset]) == cls


def test_fear_and_contempt_forms_are_not_surprise_anxiety_or_anger():
    for form in ("fearful", "scared", "frightened"):
        assert closed_set_class([form], DFEW_CLASSES) == "fear"
        assert closed_set_class([form], MAFW_CLASSES) == "fear"
        assert closed_set_class([form], MELD_CLASSES) == "fear"
    assert closed_set_class(["contemptuous"], MAFW_CLASSES) == "contempt"


def test_mer2024_test1_comes_from_the_processed_npz_not_the_training_csv():
    items = read_dataset("mer2024", dataset_root("mer2024", "processed"))
    assert [i.id for i in items][:2] == ["sample_00004001", "sample_00004017"]
    with pytest.raises(InputError, match=r"label-disdim\.csv: holds the mer2024 training labels"):
        read_dataset("mer2024", MINI / "mer2024")
    train = read_dataset("mer2024", MINI / "mer2024", split="train")
    assert {i.id: i.label for i in train} == {
        "sample_00000001": "angry",
        "sample_00000007": "happy",
    }


def test_placeholder_test_labels_are_refused(tmp_path):
    folder = tmp_path / "mer2023-dataset-process"
    folder.mkdir()
    np.savez(folder / "label-6way.npz", test1_corpus={"sample_1": {"emo": "neutral", "val": -10}})
    with pytest.raises(InputError, match="placeholder"):
        read_dataset("mer2023", folder)


# ----------------------------------------------------- the acceptance: perfect AffectGPT files


def _affectgpt_file(path: Path, metric: str, gt: dict, names: dict[str, str]) -> Path:
    """A perfect prediction file as AffectGPT writes it: npz filenames/fileitems (label lists) or
    name2reason (free text), under the names given."""
    if metric == "sentiment":
        text = {
            names[
                n
            ]: f"The sentiment is {'positive' if v > 0 else 'negative' if v < 0 else 'neutral'}."
            for n, v in gt.items()
        }
        np.savez_compressed(path, name2reason=text)  # as AffectGPT's inference scripts write it
    else:
        items = [v if isinstance(v, list) else [v] for v in gt.values()]
        np.savez(
            path,
            filenames=np.array([names[n] for n in gt]),
            fileitems=np.array([str(i) for i in items]),
        )
    return path


LAYOUT_CASES = [(n, "processed") for n in MER_UNIBENCH] + [
    (n, "original") for n in MER_UNIBENCH if n in ORIGINAL_HAS_TEST_LABELS
]


@pytest.mark.parametrize(("name", "layout"), LAYOUT_CASES)
def test_perfect_affectgpt_predictions_score_100_in_both_layouts(tmp_path, capsys, name, layout):
    from affect_llm.evaluation.mer_unibench import main

    spec = MER_UNIBENCH[name]
    root = dataset_root(name, layout)
    gt = ground_truth(read_dataset(spec.reader, root), spec.metric)
    assert len(gt) >= 4
    preds = _affectgpt_file(tmp_path / f"{name}.npz", spec.metric, gt, {n: n for n in gt})
    out = tmp_path / "out"
    assert (
        main(["--out", str(out), "--data", f"{name}={root}", "--predictions", f"{name}={preds}"])
        == 0
    )
    result = json.loads((out / "results.json").read_text())["checkpoints"][0]["datasets"][name]
    assert result["score"] == pytest.approx(1.0)
    assert result["missing_predictions"] == 0 and result["unmatched_predictions"] == 0
    assert result["layout"].startswith(
        f"{name}: {'MERBench processed' if layout == 'processed' else 'original release'}"
    )


def test_original_mer_releases_say_where_test_labels_are(tmp_path, capsys):
    from affect_llm.evaluation.mer_unibench import main

    for name in ("mer2023", "mer2024"):
        preds = tmp_path / "p.csv"
        preds.write_text("name,openset\nx,[happy]\n")
        code = main(
            [
                "--out",
                str(tmp_path / "o"),
                "--data",
                f"{name}={MINI / name}",
                "--predictions",
                f"{name}={preds}",
            ]
        )
        err = capsys.readouterr().err
        assert (
            code == 2
            and f"{name}-dataset-process/label-6way.npz" in err
            and len(err.strip().splitlines()) == 1
        )


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("meld", {"test_dia0_utt0": "dia0_utt0"}),
        ("mosi", {"k5Y_838nuGo_1": "k5Y_838nuGo/1"}),
        ("sims", {"video_0003_0006": "video_0003/0006"}),
    ],
)
def test_our_old_names_and_affectgpt_names_both_match(tmp_path, name, ours):
    from affect_llm.evaluation.mer_unibench import main

    spec = MER_UNIBENCH[name]
    root = dataset_root(name, "original")
    gt = ground_truth(read_dataset(spec.reader, root), spec.metric)
    names = {n: ours.get(n, n) for n in gt}
    preds = _affectgpt_file(tmp_path / "p.npz", spec.metric, gt, names)
    assert (
        main(
            [
                "--out",
                str(tmp_path / "o"),
                "--data",
                f"{name}={root}",
                "--predictions",
                f"{name}={preds}",
            ]
        )
        == 0
    )
    result = json.loads((tmp_path / "o" / "results.json").read_text())["checkpoints"][0][
        "datasets"
    ][name]
    assert result["score"] == pytest.approx(1.0) and result["missing_predictions"] == 0
    # one item predicted under two names is an error, not a silent pick
    both = {**names, "extra": next(iter(ours.values()))}
    gt_both = {**gt, "extra": next(iter(gt.values()))}
    _affectgpt_file(
        tmp_path / "p2.npz", spec.metric, gt_both, {**{n: n for n in gt}, "extra": both["extra"]}
    )
    assert (
        main(
            [
                "--out",
                str(tmp_path / "o2"),
                "--data",
                f"{name}={root}",
                "--predictions",
                f"{name}={tmp_path / 'p2.npz'}",
            ]
        )
        == 2
    )


def test_processed_and_original_layouts_give_the_same_ground_truth():
    for name in ORIGINAL_HAS_TEST_LABELS - {"iemocap", "ovmerd", "meld"}:
        spec = MER_UNIBENCH[name]
        original = ground_truth(
            read_dataset(spec.reader, dataset_root(name, "original")), spec.metric
        )
        processed = ground_truth(
            read_dataset(spec.reader, dataset_root(name, "processed")), spec.metric
        )
        assert original.keys() == processed.keys(), name
        assert all(abs(original[k] - processed[k]) < 1e-6 for k in original), name
    for name in ("meld", "iemocap", "ovmerd"):
        spec = MER_UNIBENCH[name]
        original = ground_truth(
            read_dataset(spec.reader, dataset_root(name, "original")), spec.metric
        )
        processed = ground_truth(
            read_dataset(spec.reader, dataset_root(name, "processed")), spec.metric
        )
        assert original == processed, name


def test_ovmerd_empty_openset_reads_as_neutral_and_changes_no_score(tmp_path, capsys):
    items = {i.id: i for i in read_dataset("ovmerd", MINI / "ovmerd")}
    assert items["samplenew3_00000129"].openset == ["neutral"]
    rows = list(
        csv.reader((MINI / "ovmerd" / "ovlabel.csv").read_text(encoding="utf-8").splitlines())
    )
    pred = tmp_path / "pred.csv"
    pred.write_text("name,openset\n" + "".join(f"{n},\"['happy', 'sad']\"\n" for n, _ in rows[1:]))
    scores = []
    for value in ("", "['neutral']"):
        gt = tmp_path / "gt.csv"
        gt.write_text(
            "name,openset\n"
            + "".join(f'{n},"{value if n == "samplenew3_00000129" else o}"\n' for n, o in rows[1:])
        )
        assert cli_main(["score", "ov", "--gt", str(gt), "--pred", str(pred)]) == 0
        scores.append(json.loads(capsys.readouterr().out))
    assert scores[0] == scores[1]  # neutral maps to no wheel cluster: skipped either way


# ----------------------------------------------------------------------- original releases


def test_dfew_unpadded_names_zip_folder_name_and_mmsa_variants(tmp_path):
    dfew = copy_dataset("dfew", tmp_path, "original")
    (dfew / "EmoLabel_DataSplit" / "test(single-labeled)").rename(
        dfew / "EmoLabel_DataSplit" / "test(single_labeled)"
    )
    items = read_dataset("dfew", dfew, fold=1)
    assert [(i.id, i.label) for i in items] == [("1", "happy"), ("2", "sad"), ("3", "angry")]
    assert all(Path(i.video).name == f"{i.id}.mp4" for i in items)
    # a headerless CH-SIMS label.csv is read with the MMSA column order
    sims = copy_dataset("sims", tmp_path, "original")
    lines = (sims / "label.csv").read_text().splitlines()
    (sims / "label.csv").write_text("\n".join(lines[1:]) + "\n")
    assert read_dataset("sims", sims)[0].id == "video_0003_0006"
    (sims / "label.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"label.csv: expected a header video_id"):
        read_dataset("sims", sims)


def test_bad_layouts_are_one_line_with_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli_main(["build", "meld", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "test_sent_emo.csv" in err and "empty folder" in err
    both = copy_dataset("meld", tmp_path, "original")
    (both / "meld-process").mkdir()
    (both / "meld-process" / "label.npz").write_bytes(
        (MINI / "merbench" / "meld-process" / "label.npz").read_bytes()
    )
    with pytest.raises(InputError, match="both the processed"):
        read_dataset("meld", both)


# ------------------------------------------------------------------ security and robustness


def test_npz_with_a_non_data_pickle_is_refused_for_predictions_and_labels(tmp_path):
    from affect_llm.evaluation.predictions import read_predictions

    np.savez(tmp_path / "p.npz", name2reason={"x": fractions.Fraction(1, 2)})
    with pytest.raises(
        InputError, match=r"p\.npz: key 'name2reason' holds a pickled fractions\.Fraction"
    ):
        read_predictions(tmp_path / "p.npz")
    folder = tmp_path / "cmumosi-process"
    folder.mkdir()
    np.savez(folder / "label.npz", test_corpus={"a_1": {"emo": 0, "val": fractions.Fraction(1, 2)}})
    with pytest.raises(InputError, match=r"fractions\.Fraction"):
        read_dataset("mosi", folder)


@pytest.mark.parametrize(
    ("gt", "pred", "message"),
    [
        (
            "name,valence\na,1.0\nb,-1.0\n",
            "name,sentiment\na,positive\nb,negative\na,negative\n",
            "duplicate name(s): 'a' (lines 2 and 4)",
        ),
        (
            "name,valence\na,nan\nb,-1.0\n",
            "name,sentiment\na,positive\n",
            "'nan' for 'a'; expected a finite number",
        ),
        ("name,valence\na,inf\n", "name,sentiment\na,positive\n", "'inf' for 'a'"),
        ("name,valence\n", "name,sentiment\na,positive\n", "has a header but no rows"),
        ("name,valence\na,1.0\n", 'name,sentiment\na,"positive\nb,negative\n', "line 2: "),
    ],
)
def test_score_rejects_bad_files_with_exit_2(tmp_path, capsys, gt, pred, message):
    (tmp_path / "gt.csv").write_text(gt)
    (tmp_path / "pred.csv").write_text(pred)
    code = cli_main(
        [
            "score",
            "sentiment",
            "--gt",
            str(tmp_path / "gt.csv"),
            "--pred",
            str(tmp_path / "pred.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_invalid_json_in_a_responses_file_names_file_and_line(tmp_path):
    from affect_llm.evaluation.predictions import read_predictions

    path = tmp_path / "responses.jsonl"
    path.write_text('{"name": "a", "response": "happy"}\n{"name": "b", "resp\n')
    with pytest.raises(InputError, match=r"responses\.jsonl: line 2: invalid JSON"):
        read_predictions(path)


def test_processed_folder_names_are_the_merbench_ones():
    assert set(PROCESSED) == set(MER_UNIBENCH)
    for name, folder in PROCESSED.items():
        assert (MINI / "merbench" / folder).is_dir(), name


def test_dfew_mafw_scoring_only_with_prediction_files(tmp_path, capsys):
    from affect_llm.evaluation.closed_set import main

    dfew = tmp_path / "dfew.csv"  # R1-Omni-style answers; padded names are accepted for "1"
    dfew.write_text(
        "name,response\n"
        '00001,"<think>smiling</think>\n<answer>happy</answer>"\n'
        "2,<answer>sad</answer>\n3,<answer>fearful</answer>\n"
        "4,<answer>surprised</answer>\n5,<answer>disgusted</answer>\n6,<answer>scared</answer>\n"
    )
    mafw = tmp_path / "mafw.npz"  # AffectGPT's label-extraction layout
    names = ["00025", "00031", "00040", "00052", "00061", "00077"]
    labels = [
        "['happy']",
        "['angry']",
        "['disappointed']",
        "['surprised']",
        "['sad']",
        "['anxious']",
    ]
    np.savez(mafw, filenames=np.array(names), fileitems=np.array(labels))
    out = tmp_path / "out"
    config = str(Path(__file__).resolve().parents[2] / "eval" / "dfew_mafw.yaml")
    args = ["--config", config, "--out", str(out), "--predictions", f"dfew={dfew}", f"mafw={mafw}"]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "scoring-only"
    scored = results["checkpoints"][0]["datasets"]
    assert scored["dfew"]["folds"]["1"]["war"] == pytest.approx(2 / 3)  # fearful is not angry
    assert scored["dfew"]["folds"]["2"]["war"] == 1.0  # scared is fear
    assert scored["mafw"]["mean"]["war"] == 1.0
    bad = tmp_path / "bad.csv"
    bad.write_text("name,response\nnot_a_clip,happy\n")
    capsys.readouterr()
    assert (
        main(
            [
                "--config",
                config,
                "--out",
                str(tmp_path / "o"),
                "--datasets",
                "dfew",
                "--predictions",
                f"dfew={bad}",
            ]
        )
        == 2
    )
    assert "none of its names is a DFEW test clip" in capsys.readouterr().err


@pytest.mark.parametrize("runner", ["MerUniBenchOptions", "ClosedSetOptions", "EmerOptions"])
def test_runner_options_read_typed_values_and_refuse_a_bad_flag_in_one_line(runner, capsys):
    from dataclasses import fields

    from affect_llm.evaluation import options as runner_options
    from affect_llm.options import parse_options

    options = getattr(runner_options, runner)
    argv = ["--out", "x", "--max_new_tokens", "16", "--temperature", "0.7"]
    parsed = parse_options(options, argv, "prog", None)
    assert (parsed.out, parsed.max_new_tokens, parsed.temperature) == ("x", 16, 0.7)
    assert all(f.metadata.get("help") for f in fields(options))  # --help explains every option
    for bad, named in (("--max_new_tokens=many", "many"), ("--max_tokens=16", "max_tokens")):
        with pytest.raises(SystemExit) as exit_:
            parse_options(options, ["--out", "x", bad], "prog", None)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count("\n") == 1 and named in err, err


def test_emer_v1_and_v2_reference_files(tmp_path):
    from affect_llm.evaluation.emer import read_reference

    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "gt-eng.csv").write_text(
        "names,emotions,subtitles,reasons\n"
        'sample_00000213,"happy, excited","Great news!","She smiles broadly (AU12) and her voice rises; she is happy and excited."\n'
    )
    items, references, labels = read_reference(str(v1))
    assert (
        labels == {"sample_00000213": ["happy", "excited"]} and items[0].subtitle == "Great news!"
    )
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "final-EMER-reason.csv").write_text(
        "name,chinese,english\n"
        "sample_00000270,她很难过,Her lip corners drop and she speaks slowly on a brown sofa; she feels sad and disappointed.\n"
    )
    items, references, labels = read_reference(str(v2))
    assert references["sample_00000270"].startswith("Her lip corners drop")
    assert labels["sample_00000270"] == ["sad", "disappointed"]  # emotion words only
    (v2 / "other.csv").write_text("name,reason\n")
    (v2 / "final-EMER-reason.csv").unlink()
    (v2 / "more.csv").write_text("name,reason\n")
    with pytest.raises(InputError, match=r"expected gt-eng\.csv"):
        read_reference(str(v2))


def test_processed_clip_folders_follow_merbench_priority(tmp_path):
    iemocap = copy_dataset("iemocap", tmp_path, "processed")
    (iemocap / "subvideo").mkdir()
    (iemocap / "subvideo" / "Ses05F_impro01_F000.mp4").write_bytes(b"x")  # all speakers' cut
    (iemocap / "subaudio").mkdir()
    (iemocap / "subaudio" / "Ses05F_impro01_F000.wav").write_bytes(b"x")
    item = next(i for i in read_dataset("iemocap", iemocap) if i.id == "Ses05F_impro01_F000")
    assert "subvideo-tgt" in item.video and item.audio.endswith("subaudio/Ses05F_impro01_F000.wav")
    assert item.error is None


def test_a_corrupt_line_in_a_resumed_responses_file_names_file_and_line(tmp_path):
    from affect_llm.evaluation.generation import read_done

    path = tmp_path / "responses.jsonl"
    path.write_text('{"name": "a", "response": "happy"}\nnot json\n{"name": "c", "response": ""}\n')
    with pytest.raises(InputError, match=r"responses\.jsonl: line 2: invalid JSON"):
        read_done(path)


def test_the_whole_merbench_dataset_folder_works_as_root_for_every_dataset():
    for name, spec in MER_UNIBENCH.items():
        items = read_dataset(spec.reader, MINI / "merbench")
        assert ground_truth(items, spec.metric) == ground_truth(
            read_dataset(spec.reader, dataset_root(name, "processed")), spec.metric
        ), name
