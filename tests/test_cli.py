"""The `affect-llm score` / `extract` contract: JSON on stdout, warnings on stderr, exit 2 on bad files."""

from __future__ import annotations

import ast
import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from affect_llm.cli import main


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_ov_matches_worked_example(tmp_path, capsys, metric_examples):
    example = metric_examples[0]
    gt = write_csv(
        tmp_path / "gt.csv", ["name", "openset"], [[k, v] for k, v in example["gt"].items()]
    )
    pred = write_csv(
        tmp_path / "p.csv", ["name", "openset"], [[k, v] for k, v in example["pred"].items()]
    )
    code, out, _ = run_cli(capsys, "score", "ov", "--gt", str(gt), "--pred", str(pred))
    assert code == 0
    result = json.loads(out)
    for level in ("level1", "level2"):
        for key in ("f1", "precision", "recall"):
            assert result[level][key] == pytest.approx(example[level][key], abs=1e-9)
    assert result["mean_f1"] == pytest.approx(
        (example["level1"]["f1"] + example["level2"]["f1"]) / 2
    )
    assert result["samples"] == len(example["gt"])


def test_score_hitrate_and_sentiment(tmp_path, capsys, metric_examples):
    example = next(e for e in metric_examples if e["kind"] == "hitrate")
    gt = write_csv(tmp_path / "gt.csv", ["name", "label"], list(example["gt"].items()))
    pred = write_csv(tmp_path / "p.csv", ["name", "openset"], list(example["pred"].items()))
    code, out, _ = run_cli(capsys, "score", "hitrate", "--gt", str(gt), "--pred", str(pred))
    assert code == 0
    assert json.loads(out) == {"hit_rate": pytest.approx(example["hit_rate"]), "samples": 6}

    gt = write_csv(
        tmp_path / "v.csv", ["name", "valence"], [["a", "1.2"], ["b", "-0.5"], ["c", "0"]]
    )
    pred = write_csv(
        tmp_path / "s.csv", ["name", "sentiment"], [["a", "positive"], ["b", "positive"]]
    )
    code, out, _ = run_cli(capsys, "score", "sentiment", "--gt", str(gt), "--pred", str(pred))
    assert code == 0
    result = json.loads(out)
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["samples"] == 2
    assert set(result) >= {"weighted_f1", "accuracy", "samples"}


def test_extra_predictions_are_ignored_and_missing_ones_reported(tmp_path, capsys):
    gt = write_csv(tmp_path / "gt.csv", ["name", "openset"], [["a", "[happy]"], ["b", "[sad]"]])
    pred = write_csv(tmp_path / "p.csv", ["name", "openset"], [["a", "[happy]"], ["zzz", "[sad]"]])
    code, out, err = run_cli(capsys, "score", "ov", "--gt", str(gt), "--pred", str(pred))
    assert code == 0
    assert json.loads(out)["level1"]["recall"] == pytest.approx(0.5)  # b scored as empty
    assert "1 of 2" in err and "b" in err and "zzz" not in err


@pytest.mark.parametrize(
    ("header", "metric", "column"),
    [
        (["name", "labels"], "ov", "openset"),
        (["id", "openset"], "ov", "name"),
        (["name", "openset"], "hitrate", "label"),
        (["name", "score"], "sentiment", "valence"),
    ],
)
def test_missing_column_exits_2_naming_file_and_column(tmp_path, capsys, header, metric, column):
    bad = write_csv(tmp_path / "bad.csv", header, [["a", "b"]])
    good = write_csv(
        tmp_path / "good.csv", ["name", "openset", "sentiment"], [["a", "[x]", "positive"]]
    )
    code, out, err = run_cli(capsys, "score", metric, "--gt", str(bad), "--pred", str(good))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(bad) in err and f"'{column}'" in err


def test_unreadable_file_exits_2(tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", ["name", "openset"], [["a", "[x]"]])
    code, _, err = run_cli(
        capsys, "score", "ov", "--gt", str(good), "--pred", str(tmp_path / "nope.csv")
    )
    assert code == 2 and "nope.csv" in err
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    code, _, err = run_cli(capsys, "score", "ov", "--gt", str(binary), "--pred", str(good))
    assert code == 2 and "binary.csv" in err


def test_extract_prints_name_openset_csv(tmp_path, capsys):
    responses = write_csv(
        tmp_path / "r.csv",
        ["name", "response"],
        [["a", "The character's emotional state is happy, excited."], ["b", "She is not angry."]],
    )
    code, out, _ = run_cli(capsys, "extract", str(responses))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows == [{"name": "a", "openset": "[happy, excited]"}, {"name": "b", "openset": "[]"}]


def test_console_script_round_trip(tmp_path, examples_dir):
    """The installed `affect-llm` command: extract, then score what it extracted."""
    exe = shutil.which("affect-llm", path=str(Path(sys.executable).parent)) or "affect-llm"
    extracted = subprocess.run(
        [exe, "extract", str(examples_dir / "ovmerd_responses.csv")],
        capture_output=True,
        text=True,
        check=True,
    )
    pred = tmp_path / "pred.csv"
    pred.write_text(extracted.stdout)
    scored = subprocess.run(
        [exe, "score", "ov", "--gt", str(examples_dir / "ovmerd_gt.csv"), "--pred", str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(scored.stdout)
    assert 0.5 < result["level1"]["f1"] <= 1.0
    assert result["samples"] == 12
    bad = subprocess.run(
        [exe, "score", "ov", "--gt", str(pred), "--pred", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "missing.csv" in bad.stderr


HEAVY = ("torch", "transformers", "trl", "datasets", "accelerate", "gradio", "cv2", "mediapipe")


def heavy_modules_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter has imported after running `code`."""
    check = (
        f"{code}\nimport sys\nprint('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    return [m for m in done.stdout.split("HEAVY:")[-1].strip().split(",") if m]


def test_package_and_cli_import_light(tmp_path):
    """`import affect_llm`, the whole parser (every --help) and `score` never load torch."""
    assert heavy_modules_after("import affect_llm") == []
    assert heavy_modules_after("import affect_llm.cli as c; c.build_parser()") == []
    gt = write_csv(tmp_path / "gt.csv", ["name", "openset"], [["a", "[happy]"]])
    argv = ["score", "ov", "--gt", str(gt), "--pred", str(gt)]
    scored = f"import affect_llm.cli as c; c.main({argv!r})"
    assert heavy_modules_after(scored) == []


def one_line_error(code: int, out: str, err: str) -> str:
    """Bad input: exit 2, nothing on stdout, one line on stderr, no traceback; returns the line."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (None, "{path}: cannot read (No such file or directory)"),
        (
            "name;openset\na;[happy]\n",
            "{path}:1: the header has one column; the file seems to be separated by semicolons",
        ),
        (
            "name\tlabel\na\thappy\n",
            "{path}:1: the header has one column; the file seems to be separated by tabs",
        ),
        (
            "name,emotion\na,happy\n",
            "{path}:1: the header needs openset, label or valence besides name (found: name, emotion)",
        ),
    ],
)
def test_build_folder_label_mistakes_are_one_line(tmp_path, capsys, labels, expected):
    (tmp_path / "clips").mkdir()
    path = tmp_path / "labels.csv"
    if labels is not None:
        path.write_text(labels, encoding="utf-8")
    clips, out_dir = str(tmp_path / "clips"), str(tmp_path / "o")
    code, out, err = run_cli(
        capsys, "build", "folder", clips, "--labels", str(path), "--out", out_dir
    )
    line = one_line_error(code, out, err)
    assert expected.format(path=path) in line and str(path) in line


def test_build_missing_folder_is_one_line(tmp_path, capsys):
    nope, out_dir = str(tmp_path / "nope"), str(tmp_path / "o")
    code, out, err = run_cli(capsys, "build", "folder", nope, "--out", out_dir)
    assert "nope: no such folder" in one_line_error(code, out, err)


@pytest.mark.parametrize("command", ["chat", "demo"])
def test_chat_and_demo_name_a_folder_without_config_json(tmp_path, capsys, command):
    code, out, err = run_cli(capsys, command, "--model", str(tmp_path))
    line = one_line_error(code, out, err)
    assert f"--model {tmp_path}: folder has no config.json" in line


def test_chat_missing_video_is_one_line(tmp_path, capsys):
    code, out, err = run_cli(capsys, "chat", "--video", str(tmp_path / "clip.mp4"))
    assert "clip.mp4: no such file" in one_line_error(code, out, err)


def test_eval_names_a_folder_without_config_json(tmp_path, capsys):
    ovmerd = Path(__file__).parent / "data" / "mini_benchmarks" / "ovmerd"
    code, out, err = run_cli(
        capsys,
        "eval",
        "mer-unibench",
        "--model",
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
        "--data",
        f"ovmerd={ovmerd}",
    )
    assert f"--model {tmp_path}: folder has no config.json" in one_line_error(code, out, err)


def test_debug_shows_the_traceback(tmp_path, capsys):
    with pytest.raises(Exception, match="no such folder"):
        main(["--debug", "build", "folder", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])


def test_only_the_command_line_imports_the_commands():
    """Layers: the library never imports affect_llm.commands (the CLI sits on top of it)."""
    package = Path(__file__).resolve().parents[1] / "affect_llm"
    offenders = []
    for path in package.rglob("*.py"):
        relative = path.relative_to(package).as_posix()
        if relative == "cli.py" or relative.startswith("commands/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(
                n == "affect_llm.commands" or n.startswith("affect_llm.commands.") for n in names
            ):
                offenders.append(relative)
    assert offenders == []


def test_native_log_noise_is_filtered_from_stderr_and_the_rest_passes():
    code = (
        "import os\n"
        "from affect_llm.native_logs import filtered_stderr\n"
        "with filtered_stderr():\n"
        "    os.write(2, b'W0000 00:00:1795965574.595781   20540 inference_feedback_manager.cc:114] x\\n')\n"
        "    os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "    os.write(2, b'build:  50%|#####     | 2/4\\rbuild: 100%|##########| 4/4\\n')\n"
        "    os.write(2, b'error: clips/labels.csv: missing column name\\n')\n"
        "os.write(2, b'after\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert done.stderr == (
        b"build:  50%|#####     | 2/4\rbuild: 100%|##########| 4/4\n"
        b"error: clips/labels.csv: missing column name\nafter\n"
    )
