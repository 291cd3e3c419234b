"""MER-UniBench runner: a whole run on the mini datasets, exact scoring, scoring-only, resume, help."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from eval_fixtures import EVAL, FAST, MINI, REPO, copy_dataset, dataset_root

from affect_llm.cli import main as cli_main
from affect_llm.evaluation.registry import MER_UNIBENCH, PUBLISHED_MER_UNIBENCH

CONFIG = str(EVAL / "mer_unibench.yaml")
# Samples with a usable label per mini dataset (IEMOCAP drops "fru"; MMSA keeps mode=test rows;
# OV-MERD+ reads its empty openset as neutral).
EXPECTED_SAMPLES = {
    "mer2023": 4,
    "mer2024": 4,
    "meld": 4,
    "iemocap": 4,
    "mosi": 4,
    "mosei": 4,
    "sims": 4,
    "simsv2": 4,
    "ovmerd": 5,
}


def cli_score(capsys, metric: str, gt: Path | str, pred: Path | str) -> dict:
    """What `affect-llm score METRIC --gt GT --pred PRED` prints."""
    capsys.readouterr()
    assert cli_main(["score", metric, "--gt", str(gt), "--pred", str(pred)]) == 0
    return json.loads(capsys.readouterr().out)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_runner(*args: str) -> int:
    from affect_llm.evaluation.mer_unibench import main

    return main(list(args))


@pytest.mark.slow
def test_whole_run_writes_results_table_and_chart(mer_run):
    results = json.loads((mer_run / "results.json").read_text())
    assert results["mode"] == "generate"
    assert results["generation"]["do_sample"] is False and results["generation"]["seed"] == 0
    assert results["selected"] is None and "never picked on the test sets" in results["selection"]
    (checkpoint,) = results["checkpoints"]
    assert list(checkpoint["datasets"]) == list(MER_UNIBENCH)
    for name, result in checkpoint["datasets"].items():
        assert result["metric"] == MER_UNIBENCH[name].metric
        assert result["samples"] == EXPECTED_SAMPLES[name], name
        assert 0.0 <= result["score"] <= 1.0
        responses = (mer_run / "tiny" / name / "responses.jsonl").read_text().splitlines()
        assert len(responses) == len({json.loads(line)["name"] for line in responses})
        assert {json.loads(line)["name"] for line in responses} >= set(
            row["name"] for row in read_csv(mer_run / "tiny" / name / "gt.csv")
        )
    mean = sum(r["score"] for r in checkpoint["datasets"].values()) / 9
    assert checkpoint["mean"] == pytest.approx(mean)

    table = (mer_run / "results.md").read_text()
    # the mini benchmark is a subset of every split: the published rows are in their own table
    ours_part, published = table.split("## Published (official test sets)")
    assert "(published)" not in ours_part
    assert (
        "| AffectGPT (A,V,T) (published) | 78.54 (n 411/411) | 78.80 (n 1169/1169) | "
        "55.65 (n 2610/2610) | 60.54 (n 1241/1241) | 81.30 (n 686/686) | 80.90 (n 4659/4659) | "
        "88.49 (n 457/457) | 86.18 (n 1034/1034) | 62.52 (n 532/532) | 74.77 (all nine) |"
        in published
    )
    assert (
        "| Emotion-LLaMA (published) | — | — | — | — | — | — | — | — | 52.97 (n 532/532) | "
        "64.17 (all nine) |" in published
    )
    ours = next(line for line in table.splitlines() if line.startswith("| tiny |"))
    assert ours.split("|")[-2].strip() == f"{100 * mean:.2f} (over a subset)"
    meld = checkpoint["datasets"]["meld"]["samples"]
    assert f"(n {meld}/2610, subset)" in ours

    import matplotlib.image

    image = matplotlib.image.imread(mer_run / "results.png")
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 300


@pytest.mark.slow
def test_reported_scores_are_exactly_affect_llm_score(mer_run, capsys):
    results = json.loads((mer_run / "results.json").read_text())
    for name, result in results["checkpoints"][0]["datasets"].items():
        folder = mer_run / "tiny" / name
        assert (
            cli_score(capsys, result["metric"], folder / "gt.csv", folder / "predictions.csv")
            == result["scores"]
        )
    # The OV-MERD+ ground truth written by the runner scores like the dataset's own ovlabel.csv.
    ov = results["checkpoints"][0]["datasets"]["ovmerd"]
    assert (
        cli_score(
            capsys,
            "ov",
            MINI / "ovmerd" / "ovlabel.csv",
            mer_run / "tiny" / "ovmerd" / "predictions.csv",
        )
        == ov["scores"]
    )


@pytest.mark.slow
def test_rerun_reuses_every_answer(mer_run, capsys):
    before = (mer_run / "tiny" / "mosi" / "responses.jsonl").read_bytes()
    assert run_runner("--config", CONFIG, "--out", str(mer_run), "--datasets", "mosi", *FAST) == 0
    assert (mer_run / "tiny" / "mosi" / "responses.jsonl").read_bytes() == before
    # other decoding settings must not be mixed into the same answers file
    code = run_runner(
        "--config",
        CONFIG,
        "--out",
        str(mer_run),
        "--datasets",
        "mosi",
        *FAST,
        "--max-new-tokens",
        "5",
    )
    assert code == 2 and "max_new_tokens" in capsys.readouterr().err


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_scoring_only_on_affectgpt_files_matches_affect_llm_score(tmp_path, capsys):
    preds = tmp_path / "preds"
    preds.mkdir()
    # AffectGPT's label-extraction npz: filenames + fileitems (label list strings)
    mer_names = ["sample_00001998", "sample_00003564", "sample_00003845", "sample_00000733"]
    mer_items = ["['joyful', 'excited']", "['angry']", "['happy', 'annoyed']", "['calm']"]
    np.savez(
        preds / "mer2023-openset.npz", filenames=np.array(mer_names), fileitems=np.array(mer_items)
    )
    # AffectGPT's inference npz: name2reason (free text), labels read by the deterministic extractor;
    # MELD under the release's names (dia0_utt0), which are accepted for AffectGPT's test_dia0_utt0
    meld_text = {
        "dia0_utt0": "The character's emotional state is surprised, excited.",
        "dia0_utt1": "She raises her voice; she is not happy but furious.",
        "dia0_utt2": "<answer>sad, lonely</answer>",
        "dia1_utt1": "Neutral.",
    }
    np.savez(preds / "meld.npz", name2reason=meld_text)
    # CSV layouts: name,openset and name,sentiment
    ov = _write_csv(
        preds / "ovmerd.csv",
        ["name", "openset"],
        [
            ["samplenew3_00000010", "['happy', 'excited']"],
            ["samplenew3_00000052", "[sad]"],
            ["samplenew3_00000077", "['worried']"],
        ],
    )
    mosi = _write_csv(
        preds / "mosi.csv",
        ["name", "sentiment"],
        [
            ["k5Y_838nuGo_1", "positive"],
            ["k5Y_838nuGo_2", "positive"],
            ["k5Y_838nuGo_3", "negative"],
        ],
    )
    out = tmp_path / "out"
    code = run_runner(
        "--config",
        CONFIG,
        "--out",
        str(out),
        "--datasets",
        "mer2023",
        "meld",
        "mosi",
        "ovmerd",
        "--predictions",
        f"mer2023={preds / 'mer2023-openset.npz'}",
        f"meld={preds / 'meld.npz'}",
        f"ovmerd={ov}",
        f"mosi={mosi}",
        "--name",
        "affectgpt-files",
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "scoring-only"
    scored = results["checkpoints"][0]["datasets"]
    folder = out / "affectgpt-files"

    mer_csv = _write_csv(
        tmp_path / "mer2023.csv", ["name", "openset"], [list(p) for p in zip(mer_names, mer_items)]
    )
    assert (
        cli_score(capsys, "hitrate", folder / "mer2023" / "gt.csv", mer_csv)
        == scored["mer2023"]["scores"]
    )
    assert 0 < scored["mer2023"]["score"] < 1

    responses = _write_csv(
        tmp_path / "meld_responses.csv",
        ["name", "response"],
        [[f"test_{n}", t] for n, t in meld_text.items()],
    )
    capsys.readouterr()
    assert cli_main(["extract", str(responses)]) == 0
    (tmp_path / "meld_openset.csv").write_text(capsys.readouterr().out)
    assert (
        cli_score(capsys, "hitrate", folder / "meld" / "gt.csv", tmp_path / "meld_openset.csv")
        == scored["meld"]["scores"]
    )
    assert 0 < scored["meld"]["score"] < 1 and scored["meld"]["missing_predictions"] == 0

    assert (
        cli_score(capsys, "ov", MINI / "ovmerd" / "ovlabel.csv", ov) == scored["ovmerd"]["scores"]
    )
    assert scored["ovmerd"]["missing_predictions"] == 2

    gt_mosi = _write_csv(
        tmp_path / "mosi_gt.csv",
        ["name", "valence"],
        [
            ["k5Y_838nuGo_1", "-1.6"],
            ["k5Y_838nuGo_2", "1.2"],
            ["k5Y_838nuGo_3", "0.8"],
            ["k5Y_838nuGo_4", "1.0"],
        ],
    )
    assert cli_score(capsys, "sentiment", gt_mosi, mosi) == scored["mosi"]["scores"]
    assert scored["mosi"]["scores"]["samples"] == 4

    table = (out / "results.md").read_text()
    assert "affectgpt-files" in table and "not comparable" in table
    assert (out / "results.png").stat().st_size > 1000


def test_llm_extractor_reads_labels_with_a_local_causal_lm(tmp_path, tiny_llm_dir):
    preds = tmp_path / "meld.npz"
    np.savez(preds, name2reason={"test_dia0_utt0": "happy", "test_dia0_utt1": "angry"})
    out = tmp_path / "out"
    code = run_runner(
        "--config",
        CONFIG,
        "--out",
        str(out),
        "--datasets",
        "meld",
        "--predictions",
        f"meld={preds}",
        "--extractor",
        "llm",
        "--extractor-model",
        str(tiny_llm_dir),
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["extractor"] == {"kind": "llm", "model": str(tiny_llm_dir), "decoding": "greedy"}
    rows = read_csv(out / "predictions" / "meld" / "predictions.csv")
    assert [r["name"] for r in rows] == ["test_dia0_utt0", "test_dia0_utt1"]


def test_scoring_only_errors_name_the_problem(tmp_path, capsys):
    bad = _write_csv(tmp_path / "bad.csv", ["name", "guess"], [["x", "happy"]])
    code = run_runner(
        "--config",
        CONFIG,
        "--out",
        str(tmp_path / "o"),
        "--datasets",
        "meld",
        "--predictions",
        f"meld={bad}",
    )
    assert code == 2 and "bad.csv" in capsys.readouterr().err
    code = run_runner("--config", CONFIG, "--out", str(tmp_path / "o"), "--datasets", "meld")
    assert code == 2 and "no predictions for meld" in capsys.readouterr().err
    code = run_runner(
        "--out",
        str(tmp_path / "o"),
        "--data",
        f"meld={tmp_path / 'nowhere'}",
        "--predictions",
        f"meld={bad}",
    )
    assert code == 2 and "nowhere" in capsys.readouterr().err


def test_help_documents_every_option_and_names_all_nine_datasets():
    from affect_llm.evaluation.options import MerUniBenchOptions
    from affect_llm.options import build_parser

    result = subprocess.run(
        [sys.executable, str(EVAL / "mer_unibench.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for spec in MER_UNIBENCH.values():
        assert spec.name in result.stdout and spec.title in result.stdout
    for action in build_parser(MerUniBenchOptions, "prog", None)._actions:
        for option in action.option_strings:
            assert option in result.stdout
        assert (action.help and action.help != "==SUPPRESS==") or action.dest == "help"
    assert set(PUBLISHED_MER_UNIBENCH["AffectGPT (A,V,T)"]) == {*MER_UNIBENCH, "mean"}


def _ovmerd_many(root: Path, count: int) -> Path:
    """An OV-MERD+ folder with `count` samples (the four bundled clips reused)."""
    dataset = copy_dataset("ovmerd", root)
    rows = read_csv(dataset / "ovlabel.csv")
    names = []
    for i in range(count):
        row = rows[i % len(rows)]
        name = f"samplenew3_{9000 + i:08d}"
        os.symlink(dataset / "video" / f"{row['name']}.mp4", dataset / "video" / f"{name}.mp4")
        names.append([name, row["openset"]])
    _write_csv(dataset / "ovlabel.csv", ["name", "openset"], names)
    return dataset


@pytest.mark.slow
def test_killed_run_resumes_without_regenerating_finished_samples(tmp_path):
    total = 8
    dataset = _ovmerd_many(tmp_path, total)
    out = tmp_path / "out"
    args = [
        "--data",
        f"ovmerd={dataset}",
        "--out",
        str(out),
        *FAST,
        "--batch-size",
        "1",
        "--max-new-tokens",
        "24",
    ]
    responses = out / "tiny" / "ovmerd" / "responses.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(EVAL / "mer_unibench.py"), *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if responses.exists() and responses.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    before = responses.read_bytes()
    finished = [json.loads(line) for line in before.decode().splitlines() if line.endswith("}")]
    assert 2 <= len(finished) < total
    assert not (out / "results.json").exists()

    assert run_runner(*args) == 0
    after = responses.read_text().splitlines()
    assert len(after) == total and len({json.loads(line)["name"] for line in after}) == total
    kept = before[: before.rfind(b"\n") + 1].decode().splitlines()
    assert after[: len(kept)] == kept  # finished answers untouched
    first_run = {row["run"] for row in finished}
    assert len(first_run) == 1
    resumed = [json.loads(line) for line in after[len(kept) :]]
    assert len(resumed) == total - len(kept)
    assert all(row["run"] not in first_run for row in resumed)  # only the rest was generated
    assert (
        json.loads((out / "results.json").read_text())["checkpoints"][0]["datasets"]["ovmerd"][
            "samples"
        ]
        == total
    )


@pytest.mark.slow
def test_bad_clip_is_reported_and_the_run_continues(tmp_path):
    dataset = copy_dataset("ovmerd", tmp_path)
    with open(dataset / "ovlabel.csv", "a") as handle:
        handle.write("samplenew3_00009999,[sad]\n")  # no clip for this one
    (dataset / "video" / "samplenew3_00000010.mp4").unlink()
    (dataset / "video" / "samplenew3_00000010.mp4").write_bytes(b"not a video")
    out = tmp_path / "out"
    assert run_runner("--data", f"ovmerd={dataset}", "--out", str(out), *FAST) == 0
    rows = {
        json.loads(line)["name"]: json.loads(line)
        for line in (out / "tiny" / "ovmerd" / "responses.jsonl").read_text().splitlines()
    }
    assert (
        "no video or audio file named samplenew3_00009999" in rows["samplenew3_00009999"]["error"]
    )
    assert rows["samplenew3_00000010"]["error"]
    assert "error" not in rows["samplenew3_00000052"]
    result = json.loads((out / "results.json").read_text())["checkpoints"][0]["datasets"]["ovmerd"]
    assert result["failed_samples"] == 2 and result["samples"] == 6


@pytest.mark.slow
def test_every_checkpoint_is_reported_and_selection_uses_only_validation(tmp_path):
    config = tmp_path / "bench.yaml"
    config.write_text(
        f"datasets:\n  mer2023: {{root: {dataset_root('mer2023')}}}\n"
        f"validation:\n  mer2024: {{root: {dataset_root('mer2024')}}}\n"
    )
    out = tmp_path / "out"
    assert (
        run_runner("--config", str(config), "--out", str(out), *FAST[2:], "--model", "tiny", "tiny")
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert [c["name"] for c in results["checkpoints"]] == ["tiny", "tiny-2"]
    assert all("validation" in c and "mer2023" in c["datasets"] for c in results["checkpoints"])
    assert results["selected"] in ("tiny", "tiny-2")
    assert "validation split (mer2024)" in results["selection"]
    assert "(selected)" in (out / "results.md").read_text()


def test_affect_llm_eval_subcommand_runs_the_same_runner(tmp_path, capsys):
    pred = _write_csv(
        tmp_path / "ov.csv", ["name", "openset"], [["samplenew3_00000010", "[happy]"]]
    )
    out = tmp_path / "out"
    code = cli_main(
        [
            "eval",
            "mer-unibench",
            "--config",
            CONFIG,
            "--out",
            str(out),
            "--datasets",
            "ovmerd",
            "--predictions",
            f"ovmerd={pred}",
        ]
    )
    assert code == 0
    scored = json.loads((out / "results.json").read_text())["checkpoints"][0]["datasets"]["ovmerd"]
    assert cli_score(capsys, "ov", MINI / "ovmerd" / "ovlabel.csv", pred) == scored["scores"]
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli_main(["eval", "dfew-mafw", "--help"])
    assert "affect-llm eval dfew-mafw" in capsys.readouterr().out


@pytest.mark.slow
def test_saved_model_directory_with_face_crops_and_whisper_audio(tmp_path):
    from affect_llm.modeling.tiny import tiny_model_and_processor

    model, processor = tiny_model_and_processor(face="clip", audio="whisper")
    model.save_pretrained(tmp_path / "ckpt")
    processor.save_pretrained(tmp_path / "ckpt")
    out = tmp_path / "out"
    code = run_runner(
        "--data",
        f"mer2024={dataset_root('mer2024')}",
        "--out",
        str(out),
        "--model",
        str(tmp_path / "ckpt"),
        *FAST[2:],
        "--batch-size",
        "2",
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    (checkpoint,) = results["checkpoints"]
    assert checkpoint["model"] == str(tmp_path / "ckpt")
    assert checkpoint["datasets"]["mer2024"]["failed_samples"] == 0
    lines = (out / "ckpt" / "mer2024" / "responses.jsonl").read_text().splitlines()
    assert len(lines) == 4
