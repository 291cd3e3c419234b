import csv
import re
from pathlib import Path

import numpy as np
import pytest
from media_fixtures import hopper_frames

from affect_llm.action_units import OPENFACE_INTENSITY_AUS, OPENFACE_PRESENCE_AUS
from affect_llm.perception.aus import (
    AU_INDEX,
    LANDMARK_AUS,
    PRESENCE_INTENSITY,
    AUFileError,
    AUSequence,
    estimate_aus_from_landmarks,
    read_au_csv,
    read_openface_csv,
    read_pyfeat_csv,
    summarize_aus,
)
from affect_llm.perception.faces import face_landmarks, track_faces


def _openface_csv(path, rows):
    """OpenFace 2.x FeatureExtraction layout, including its ', ' separated header."""
    header = ["frame", "face_id", "timestamp", "confidence", "success", "gaze_0_x", "pose_Tx"]
    header += [f"{au}_r" for au in OPENFACE_INTENSITY_AUS] + [
        f"{au}_c" for au in OPENFACE_PRESENCE_AUS
    ]
    lines = [", ".join(header)]
    for frame, face_id, time, success, intensities in rows:
        values = [frame, face_id, f"{time:.3f}", "0.98", success, "0.1", "12.0"]
        values += [f"{v:.2f}" for v in intensities] + ["1"] * len(OPENFACE_PRESENCE_AUS)
        lines.append(", ".join(str(v) for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


def _intensities(**aus):
    row = [0.0] * len(OPENFACE_INTENSITY_AUS)
    for code, value in aus.items():
        row[AU_INDEX[code]] = value
    return row


def test_openface_csv_keeps_successful_frames_of_the_main_face(tmp_path):
    path = _openface_csv(
        tmp_path / "clip.csv",
        [
            (1, 0, 0.0, 1, _intensities(AU06=1.5, AU12=2.5)),
            (2, 0, 0.04, 0, _intensities(AU04=4.0)),  # tracking failed: dropped
            (3, 0, 0.08, 1, _intensities(AU01=1.0)),
            (1, 1, 0.0, 1, _intensities(AU15=3.0)),  # a second face seen once: ignored
        ],
    )
    seq = read_openface_csv(path)
    assert seq.values.shape == (2, 17) and seq.values.dtype == np.float32
    np.testing.assert_allclose(seq.timestamps, [0.0, 0.08])
    assert seq.values[0, AU_INDEX["AU12"]] == pytest.approx(2.5)
    assert seq.values[:, AU_INDEX["AU04"]].max() == 0 and seq.values[:, AU_INDEX["AU15"]].max() == 0
    aligned = seq.at(np.array([0.07, 0.01]))
    assert aligned.values[0, AU_INDEX["AU01"]] == pytest.approx(1.0)
    assert read_au_csv(path).source == "openface"


def test_pyfeat_csv_is_rescaled_and_keeps_the_best_face(tmp_path):
    path = tmp_path / "clip_pyfeat.csv"
    path.write_text(
        "frame,FaceScore,AU01,AU06,AU12,AU43,approx_time\n"
        "0,0.99,0.2,0.5,0.9,0.1,00:00.00\n"
        "0,0.40,0.9,0.9,0.9,0.9,00:00.00\n"
        "1,,,,,,00:00.50\n"
        "2,0.97,0.1,0.0,0.2,0.0,00:01.00\n"
    )
    seq = read_pyfeat_csv(path, fps=2)
    assert seq.source == "py-feat" and read_au_csv(path, fps=2).source == "py-feat"
    np.testing.assert_allclose(seq.timestamps, [0.0, 1.0])
    assert seq.values[0, AU_INDEX["AU12"]] == pytest.approx(4.5)  # 0.9 x 5, from the 0.99 face
    assert seq.values[0, AU_INDEX["AU01"]] == pytest.approx(1.0)
    assert "AU45" not in seq.measured and seq.values[:, AU_INDEX["AU45"]].max() == 0


PYFEAT_V2 = Path(__file__).parent / "data" / "pyfeat_v2_detect_video.csv"


def test_pyfeat_v2_video_output_is_timed_by_frame_and_fps():
    """Real Detectorv2 rows (frames 0, 2, 24, 26 of a 25 fps clip): approx_time says 00:00, 00:00,
    00:00, 00:01; the frames say 0, 0.08, 0.96 and 1.04 s."""
    seq = read_au_csv(PYFEAT_V2, fps=25)
    assert seq.source == "py-feat" and seq.values.shape == (4, 17)
    np.testing.assert_allclose(seq.timestamps, [0.0, 0.08, 0.96, 1.04])
    assert seq.values[0, AU_INDEX["AU12"]] == pytest.approx(5 * 0.9713679)
    assert seq.values[0, AU_INDEX["AU01"]] == pytest.approx(5 * 0.1583328)
    assert "AU45" not in seq.measured and "AU26" in seq.measured


def test_pyfeat_approx_time_catches_a_wrong_fps():
    with pytest.raises(AUFileError, match=r"pyfeat_v2_detect_video.csv:4: frame 24 at 12 fps"):
        read_pyfeat_csv(PYFEAT_V2, fps=12)


def test_binary_pyfeat_aus_are_presence_not_intensity_5(tmp_path):
    with open(PYFEAT_V2, newline="") as handle:
        rows = list(csv.reader(handle))
    aus = [i for i, name in enumerate(rows[0]) if re.fullmatch(r"AU\d\d", name)]
    for row in rows[1:]:  # what a presence classifier writes: 0 or 1 per AU
        for i in aus:
            row[i] = "1.0" if float(row[i]) > 0.5 else "0.0"
    path = tmp_path / "presence.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    seq = read_pyfeat_csv(path, fps=25)
    assert seq.source == "py-feat presence"
    assert seq.values.max() == PRESENCE_INTENSITY < 5
    assert seq.values[0, AU_INDEX["AU12"]] == PRESENCE_INTENSITY
    summary = summarize_aus(seq)
    assert "AU12" in summary.active_aus and "presence only" in summary.description
    assert "(1.0)" not in summary.description


def test_a_csv_without_au_columns_is_rejected(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,openset\nx,happy\n")
    with pytest.raises(AUFileError, match="no AUxx"):
        read_au_csv(path)


def test_summary_uses_threshold_peak_and_prototypes():
    values = np.zeros((3, 17), dtype=np.float32)
    values[0, AU_INDEX["AU25"]] = 0.8  # at the threshold: not active
    values[1, AU_INDEX["AU06"]], values[1, AU_INDEX["AU12"]] = 1.6, 2.4
    values[2, AU_INDEX["AU12"]] = 0.9
    summary = summarize_aus(AUSequence(values, np.array([0.0, 0.5, 1.0]), "openface"))
    assert summary.peak_index == 1 and summary.peak_time == 0.5
    assert summary.peak_aus == ["AU12", "AU06"]
    assert summary.prototypes == ["happy"]
    assert summary.active_aus == ["AU12"]  # above 0.8 in 2 of 3 frames
    assert "lip corner puller" in summary.description and "happy" in summary.description
    assert "AU25" not in summary.description


def test_landmark_estimate_is_bounded_and_responds_to_an_opening_mouth():
    track = track_faces(hopper_frames(1))
    points, found = face_landmarks(track.present_crops)
    assert found.all()
    seq = estimate_aus_from_landmarks(points, np.zeros(1))
    assert seq.source == "landmarks" and set(seq.measured) == set(LANDMARK_AUS)
    assert (seq.values >= 0).all() and (seq.values <= 5).all()
    unmeasured = [AU_INDEX[c] for c in OPENFACE_INTENSITY_AUS if c not in LANDMARK_AUS]
    assert (seq.values[:, unmeasured] == 0).all()
    opened = points.copy()
    eye_distance = np.linalg.norm(points[0, 263, :2] - points[0, 33, :2])
    lower = [14, 17, 152, 87, 178, 88, 95, 317, 402, 318, 324]  # lower lip and chin
    opened[0, lower, 1] += 0.15 * eye_distance
    more = estimate_aus_from_landmarks(opened, np.zeros(1))
    assert more.values[0, AU_INDEX["AU25"]] > seq.values[0, AU_INDEX["AU25"]] + 2
    assert more.values[0, AU_INDEX["AU26"]] > seq.values[0, AU_INDEX["AU26"]] + 1
    assert "approximate" in summarize_aus(more).description
