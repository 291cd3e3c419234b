"""Labels CSVs as users really have them: every row ends in samples.jsonl or errors.jsonl, and a
file that cannot be read at all gets one line naming file, line and likely cause (exit 2)."""

import json
import unicodedata

import pytest
from media_fixtures import tone, write_clip

from affect_llm.commands import build as build_command
from affect_llm.data.folder import folder_items
from affect_llm.data.labels import read_csv_table

NAMES = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """Four short audio-only clips a-d (fast to build)."""
    root = tmp_path_factory.mktemp("voices")
    for index, name in enumerate(NAMES):
        write_clip(root / f"{name}.m4a", None, audio=tone(0.4, hz=140.0 + 30 * index))
    return root


def _build(root, labels, out, capsys):
    code = build_command.main(["folder", str(root), "--labels", str(labels), "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _errors(out):
    return {
        e["id"]: e["reason"]
        for e in map(json.loads, (out / "errors.jsonl").read_text().splitlines())
    }


def test_an_unclosed_quote_loses_only_its_own_row(voices, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text("name,openset\na,\"['happy']\nb,['sad']\nc,['angry']\nd,['fear']\n")
    code, out, _ = _build(voices, labels, tmp_path / "out", capsys)
    assert code == 0 and "built 3/4 samples" in out and "1 failed" in out
    assert "line 2: unclosed quote" in _errors(tmp_path / "out")["a"]


def test_runaway_fields_and_wrong_field_counts_are_reported_by_line(voices, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    huge = "x" * (129 * 1024)
    labels.write_text(f"Name,OpenSet\na,['happy']\nb,{huge}\nc,['angry'],extra\nd,\"['fear']\n")
    code, out, _ = _build(voices, labels, tmp_path / "out", capsys)
    assert code == 0 and "built 1/4 samples" in out  # header `Name` is read as name
    errors = _errors(tmp_path / "out")
    assert "line 3: field larger than field limit" in errors["b"]
    assert errors["c"] == "line 4: 3 fields, header has 2"
    assert "line 5: unclosed or stray quote" in errors["d"]


def test_a_quoted_field_with_line_breaks_is_a_valid_row(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text('name,openset,reason\na,[happy],"smiles\nand laughs"\nb,[sad],low voice\n')
    table = read_csv_table(labels)
    assert [line for line, _ in table.rows] == [2, 4] and not table.bad
    assert table.rows[0][1][2] == "smiles\nand laughs"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "name,openset\n厌恶,['disgust']\n".encode("gbk"),
            "labels.csv:2: not UTF-8 (byte 0xd1); the file looks GBK",
        ),
        (
            "name,openset\ncafé,['happy']\n".encode("latin-1"),
            "labels.csv:2: not UTF-8 (byte 0xe9); the file looks Latin-1",
        ),
        (
            b"name;openset\na;['happy']\n",
            "labels.csv:1: the header has one column; the file seems to be separated by semicolons",
        ),
        (b"", "labels.csv: empty file"),
        (b"clip,openset\na,['happy']\n", "labels.csv:1: no 'name' column"),
    ],
)
def test_unreadable_labels_files_get_one_line_and_exit_2(
    voices, tmp_path, capsys, content, expected
):
    labels = tmp_path / "labels.csv"
    labels.write_bytes(content)
    code, _, err = _build(voices, labels, tmp_path / "out", capsys)
    assert code == 2 and expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0")


def test_the_same_stem_in_two_folders_is_never_resolved_silently(tmp_path):
    _touch(tmp_path, "s1/clip001.mp4", "s2/clip001.mp4", "s1/clip001.csv", "other.mp4")
    items = {item.id: item for item in folder_items(tmp_path, None)}
    assert set(items) == {"s1/clip001", "s2/clip001", "other"}  # relative paths as ids
    assert items["s1/clip001"].au_csv.endswith("s1/clip001.csv") and not items["s2/clip001"].au_csv
    labels = tmp_path / "labels.csv"
    labels.write_text("name,label\nclip001,happy\ns2/clip001,sad\n")
    items = {item.id: item for item in folder_items(tmp_path, labels)}
    assert "2 files match 'clip001' (s1/clip001, s2/clip001)" in items["clip001"].error
    assert items["s2/clip001"].video.endswith("s2/clip001.mp4") and not items["s2/clip001"].error


def test_two_videos_with_one_stem_are_refused(tmp_path):
    _touch(tmp_path, "clip.mp4", "clip.avi", "take.wav", "take.mp3")
    items = {item.id: item for item in folder_items(tmp_path, None)}
    assert (
        items["clip"].error
        == "2 video files for 'clip' (clip.avi, clip.mp4); remove or rename all but one"
    )
    assert items["take"].error.startswith("2 audio files for 'take'")


def test_names_match_files_across_unicode_normalisation(tmp_path):
    _touch(tmp_path, unicodedata.normalize("NFD", "café_été.mp4"))  # as macOS writes it
    labels = tmp_path / "labels.csv"
    labels.write_text(
        unicodedata.normalize("NFC", "name,label\ncafé_été,happy\n"), encoding="utf-8"
    )
    [item] = folder_items(tmp_path, labels)
    assert item.error is None and item.video.endswith(".mp4")
