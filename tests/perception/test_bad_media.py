"""Damaged or oversized inputs cost only what is damaged: the rest of the clip is kept and the
reason is recorded per sample (never a crash that loses the whole build)."""

import json

import numpy as np
import pytest
from media_fixtures import HAPPY, counter_frames, hopper_frames, tone, write_clip

from affect_llm.action_units import OPENFACE_INTENSITY_AUS
from affect_llm.commands import build as build_command
from affect_llm.perception.aus import AUFileError, read_au_csv
from affect_llm.perception.clip import ConfigError, PerceptionConfig, perceive_clip
from affect_llm.perception.prosody import prosody, prosody_features
from affect_llm.perception.video import MediaError, sample_frames

SMALL = PerceptionConfig(num_frames=2, face_size=64)


def test_audio_under_80_ms_keeps_the_clip_and_says_why(tmp_path):
    assert prosody(np.zeros(0, np.float32)).pitch_mean is None  # no crash at any length
    for samples in (1, 100, 800, 1279):
        assert prosody(tone(samples / 16000)).duration == pytest.approx(samples / 16000)
    clip = write_clip(tmp_path / "blip.mp4", counter_frames(4), audio=tone(0.05))
    result = perceive_clip(clip, SMALL)
    assert result.frames is not None and result.audio is None
    assert result.missing["audio"].startswith("audio too short (")


def test_a_video_stream_without_a_decoder_is_a_per_sample_reason(tmp_path):
    clip = write_clip(tmp_path / "a.mp4", counter_frames(4), audio=tone(0.5))
    unknown = tmp_path / "unknown.mp4"
    unknown.write_bytes(clip.read_bytes().replace(b"avc1", b"zzzz"))  # a codec FFmpeg lacks
    with pytest.raises(MediaError, match="codec FFmpeg cannot decode"):
        sample_frames(unknown, 2)
    result = perceive_clip(unknown, SMALL)
    assert "codec FFmpeg cannot decode" in result.missing["video"] and result.audio is not None


def _openface(rows: int = 3) -> list[str]:
    header = ["frame", " face_id", " timestamp", " confidence", " success"]
    header += [f" {au}_r" for au in OPENFACE_INTENSITY_AUS]
    lines = [",".join(header)]
    for frame in range(rows):
        lines.append(",".join(map(str, [frame + 1, 0, frame / 10, 0.98, 1] + [0.5] * 17)))
    return lines


def _bad_au_files():
    good = _openface()
    no_au45 = [",".join(c for c in line.split(",") if c != " AU45_r") for line in good[:1]]
    return {
        "transcript": ("name,sentence\nclip,I am fine.\n", "clip.csv:1: not OpenFace or py-feat"),
        "no_au45": (
            "\n".join(no_au45 + good[1:]) + "\n",
            "clip.csv:1: not OpenFace AU output: no AU45_r",
        ),
        "truncated": ("\n".join(good) + "\n4,0,0.3,0.9\n", "clip.csv:5: truncated row (4 of 22"),
        "empty_face_id": (
            "\n".join([*good, good[-1].replace("3,0,", "4,,", 1)]) + "\n",
            "clip.csv:5: face_id '' is not a number",
        ),
        "latin1": ("\n".join(good) + "\n# café\n", "clip.csv:5: not UTF-8"),
    }


@pytest.mark.parametrize("kind", sorted(_bad_au_files()))
def test_a_bad_au_csv_is_named_with_its_line(tmp_path, kind):
    text, expected = _bad_au_files()[kind]
    path = tmp_path / "clip.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(AUFileError, match="^" + str(tmp_path).replace("\\", "\\\\")) as error:
        read_au_csv(path)
    assert expected in str(error.value)


def test_a_bad_au_csv_falls_back_to_the_landmark_estimate(tmp_path, capsys):
    root = tmp_path / "clips"
    root.mkdir()
    (root / "happy.mp4").write_bytes(HAPPY.read_bytes())
    (root / "happy.csv").write_text("name,sentence\nhappy,What a day!\n")  # a transcript, not AUs
    out = tmp_path / "out"
    assert (
        build_command.main(
            ["folder", str(root), "--out", str(out), "--frames", "2", "--face-size", "96"]
        )
        == 0
    )
    [row] = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert row["au_source"] == "landmarks" and row["modalities"]["aus"]
    assert any("happy.csv:1: not OpenFace or py-feat AU output" in note for note in row["notes"])


@pytest.mark.parametrize("frames", ["0", "-3"])
def test_impossible_options_are_refused_before_any_clip(tmp_path, capsys, frames):
    code = build_command.main(
        ["folder", str(tmp_path), "--out", str(tmp_path / "o"), "--frames", frames]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"frames per clip must be at least 1 (got {frames})" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
    with pytest.raises(ConfigError):
        PerceptionConfig(max_pixels=0)


def test_large_frames_are_scaled_at_decoding_and_limits_are_per_sample(tmp_path):
    clip = write_clip(tmp_path / "wide.mp4", hopper_frames(4), audio=tone(1.0))
    frames = sample_frames(clip, 2, max_side=96).frames
    assert max(frames.shape[1:3]) == 96
    small = PerceptionConfig(num_frames=2, face_size=64, max_pixels=100 * 100)
    result = perceive_clip(clip, small)
    assert "megapixel limit (max_pixels)" in result.missing["video"] and result.audio is not None
    brief = PerceptionConfig(num_frames=2, face_size=64, max_seconds=0.3)
    with pytest.raises(MediaError, match=r"over the 0\.3 s limit"):  # neither pictures nor sound
        perceive_clip(clip, brief)


def test_prosody_features_are_the_same_in_chunks_as_at_once():
    signal = np.concatenate([tone(13.0, hz=150.0), tone(0.37, hz=260.0)])
    whole = prosody_features(signal)
    assert whole.shape == (1 + (len(signal) - 400) // 160, 8)
    # frames straddling chunk borders equal frames of the same samples computed alone
    for start in (0, 1023, 1024, len(whole) - 1):
        alone = prosody_features(signal[start * 160 : start * 160 + 400])
        np.testing.assert_allclose(whole[start], alone[0], rtol=1e-5, atol=1e-6)
