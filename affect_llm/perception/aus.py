"""Action-unit intensity sequences: OpenFace 2.x and py-feat CSV readers, a landmark estimator, and
AU -> text (active AUs by threshold, peak frame, prototype emotions).

Every sequence is float32 T x 17 in the column order of `OPENFACE_INTENSITY_AUS`, on OpenFace's 0-5
intensity scale, which is what the model's processor takes as `aus=`.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field

import numpy as np

from affect_llm.action_units import (
    ACTIVE_INTENSITY_THRESHOLD,
    AU_NAMES,
    OPENFACE_INTENSITY_AUS,
    matching_prototypes,
)

AU_INDEX = {code: i for i, code in enumerate(OPENFACE_INTENSITY_AUS)}

# The AUs the landmark estimator measures (approximately); every other column stays 0.
LANDMARK_AUS: tuple[str, ...] = (
    "AU01",
    "AU02",
    "AU04",
    "AU05",
    "AU12",
    "AU15",
    "AU20",
    "AU25",
    "AU26",
    "AU45",
)


@dataclass
class AUSequence:
    """AU intensities (T x 17, OpenFace order, 0-5), their times in seconds, and provenance."""

    values: np.ndarray
    timestamps: np.ndarray
    source: str
    measured: tuple[str, ...] = field(default=OPENFACE_INTENSITY_AUS)

    def at(self, times: np.ndarray) -> AUSequence:
        """The rows nearest to each requested time (aligns a full-rate CSV with sampled frames)."""
        if len(self.values) == 0:
            return self
        index = np.abs(self.timestamps[None, :] - np.asarray(times)[:, None]).argmin(axis=1)
        return AUSequence(self.values[index], np.asarray(times, float), self.source, self.measured)


class AUFileError(ValueError):
    """An AU CSV that cannot be read as OpenFace or py-feat output."""


def _read_rows(path: str | os.PathLike) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, non-blank rows and their line numbers; AUFileError names file and line of a fault."""
    name = os.fspath(path)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [cell.strip() for cell in next(reader, [])]
            if not header:
                raise AUFileError(f"{name} is empty")
            for row in reader:
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) < len(header):
                    raise AUFileError(
                        f"{name}:{reader.line_num}: truncated row "
                        f"({len(row)} of {len(header)} fields)"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            data.decode("utf-8")
            line = 0
        except UnicodeDecodeError as error:  # decoded again whole: the offset is from the start
            line = data[: error.start].count(b"\n") + 1
        raise AUFileError(f"{name}:{line}: not UTF-8 text (Latin-1?); save it as UTF-8") from None
    except csv.Error as error:
        raise AUFileError(f"{name}: unreadable CSV ({error})") from None
    return header, rows, lines


def _float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan")


def read_openface_csv(path: str | os.PathLike, face_id: int | None = None) -> AUSequence:
    """OpenFace 2.x `FeatureExtraction -aus` output: AUxx_r per frame, failed frames dropped.

    With several faces (`face_id` column) the one tracked in most frames is kept unless given.
    """
    header, rows, lines = _read_rows(path)
    missing = [f"{code}_r" for code in OPENFACE_INTENSITY_AUS if f"{code}_r" not in header]
    if missing:
        raise AUFileError(f"{os.fspath(path)}:1: not OpenFace AU output: no {', '.join(missing)}")
    col = {name: i for i, name in enumerate(header)}
    if "face_id" in col:
        ids = []
        for row, line in zip(rows, lines):
            value = _float(row[col["face_id"]])
            if not np.isfinite(value):
                cell = row[col["face_id"]]
                raise AUFileError(f"{os.fspath(path)}:{line}: face_id {cell!r} is not a number")
            ids.append(int(value))
        wanted = face_id if face_id is not None else max(set(ids), key=ids.count, default=0)
        rows = [r for r, i in zip(rows, ids) if i == wanted]
    if "success" in col:
        rows = [r for r in rows if _float(r[col["success"]]) > 0]
    values = np.array(
        [[_float(r[col[f"{c}_r"]]) for c in OPENFACE_INTENSITY_AUS] for r in rows], dtype=np.float32
    ).reshape(-1, len(OPENFACE_INTENSITY_AUS))
    if "timestamp" in col:
        times = np.array([_float(r[col["timestamp"]]) for r in rows])
    else:
        times = np.arange(len(rows), dtype=float) / 30.0
    keep = np.isfinite(values).all(axis=1) & np.isfinite(times)
    return AUSequence(np.clip(values[keep], 0, 5), times[keep], "openface")


def _clock(cell: str) -> float:
    """'12.4', '00:12' or '0:00:12.4' -> seconds."""
    parts = cell.strip().split(":")
    try:
        return sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))
    except ValueError:
        return float("nan")


# A present AU in a presence-only (0/1) py-feat file: FACS level A ("trace"), just above the 0.8
# active threshold, on OpenFace's 0-5 scale. Scaling 1 x 5 would claim the maximum intensity.
PRESENCE_INTENSITY = 1.0


def read_pyfeat_csv(path: str | os.PathLike, fps: float = 30.0) -> AUSequence:
    """py-feat `Detector.detect_video` output (a Fex CSV): AU probabilities 0-1, scaled x5 to 0-5.

    Times are `frame / fps` (pass the video's fps; 30 when unknown): py-feat's `approx_time` is
    whole seconds (`MM:SS`), so it only serves to catch a wrong fps. A file whose AU values are all
    0 or 1 (a presence classifier) becomes `PRESENCE_INTENSITY`, not 5, with source
    "py-feat presence". Per frame the face with the highest FaceScore is kept; AUs py-feat lacks
    (e.g. AU45) stay 0.
    """
    name = os.fspath(path)
    header, rows, lines = _read_rows(path)
    col = {column: i for i, column in enumerate(header)}
    measured = tuple(code for code in OPENFACE_INTENSITY_AUS if code in col)
    if not measured:
        raise AUFileError(f"{name} is not py-feat output: no AUxx columns")
    if not fps > 0:
        raise AUFileError(f"{name}: fps must be positive to time its frames, got {fps}")
    best: dict[int, tuple[float, list[str], int]] = {}
    for index, (row, line) in enumerate(zip(rows, lines)):
        frame = _float(row[col["frame"]]) if "frame" in col else float(index)
        if not np.isfinite(frame):
            raise AUFileError(f"{name}:{line}: frame {row[col['frame']]!r} is not a number")
        score = _float(row[col["FaceScore"]]) if "FaceScore" in col else 1.0
        if not np.isfinite(score):
            continue  # py-feat writes NaN rows for frames without a face
        if "approx_time" in col:
            clock = _clock(row[col["approx_time"]])
            # approx_time = whole seconds of frame / (py-feat's fps); half a second of slack for
            # a container whose fps PyAV and py-feat round differently.
            if np.isfinite(clock) and not clock - 0.5 <= frame / fps < clock + 1.5:
                raise AUFileError(
                    f"{name}:{line}: frame {int(frame)} at {fps:g} fps is {frame / fps:.2f} s but "
                    f"approx_time is {row[col['approx_time']].strip()}: give the video's fps"
                )
        if int(frame) not in best or score > best[int(frame)][0]:
            best[int(frame)] = (score, row, line)
    frames = sorted(best)
    values = np.zeros((len(frames), len(OPENFACE_INTENSITY_AUS)), dtype=np.float32)
    for i, frame in enumerate(frames):
        row = best[frame][1]
        for code in measured:
            values[i, AU_INDEX[code]] = _float(row[col[code]])
    times = np.array(frames, dtype=float) / fps
    keep = np.isfinite(values).all(axis=1)
    values, times = values[keep], times[keep]
    if len(values) and np.isin(values, (0.0, 1.0)).all():
        return AUSequence(values * PRESENCE_INTENSITY, times, "py-feat presence", measured)
    return AUSequence(np.clip(5.0 * values, 0, 5), times, "py-feat", measured)


def read_au_csv(path: str | os.PathLike, fps: float = 30.0) -> AUSequence:
    """OpenFace or py-feat CSV, told apart by their columns."""
    header, _, _ = _read_rows(path)
    if any(name.endswith("_r") and name.startswith("AU") for name in header):
        return read_openface_csv(path)
    if not any(re.fullmatch(r"AU\d\d", name) for name in header):
        shown = ", ".join(header[:6]) + (", ..." if len(header) > 6 else "")
        raise AUFileError(
            f"{os.fspath(path)}:1: not OpenFace or py-feat AU output: no AUxx columns ({shown})"
        )
    return read_pyfeat_csv(path, fps=fps)


# ----- landmark estimator -------------------------------------------------------------------------

# mediapipe face-mesh indices (subject's right = image left).
_EYE_OUTER, _EYE_INNER = (33, 263), (133, 362)
_LID_UPPER, _LID_LOWER = (159, 386), (145, 374)
_BROW_INNER, _BROW_OUTER = (107, 336), (70, 300)
_MOUTH_CORNERS, _LIP_INNER, _CHIN, _NOSE_TIP = (61, 291), (13, 14), 152, 1

# Geometry of a relaxed frontal face (ratios to the outer-eye-corner distance, measured with the mesh
# on a near-neutral portrait) and the gain that maps a departure from it onto OpenFace's 0-5 scale
# (about 2 for a clearly visible movement). Approximate by nature: no person-specific baseline.
_NEUTRAL = {
    "brow_inner": 0.20,
    "brow_outer": 0.13,
    "eye_open": 0.28,
    "corner_lift": -0.01,
    "mouth_width": 0.58,
    "lips_gap": 0.0,
    "jaw": 0.74,
}
_GAIN = {
    "AU01": 40.0,
    "AU02": 40.0,
    "AU04": 40.0,
    "AU05": 25.0,
    "AU12": 60.0,
    "AU15": 60.0,
    "AU20": 25.0,
    "AU25": 30.0,
    "AU26": 20.0,
    "AU45": 15.0,
}


def landmark_geometry(points: np.ndarray) -> dict[str, np.ndarray]:
    """Scale- and roll-free facial distances from T x 478 x 3 mesh landmarks."""
    xy = points[..., :2].astype(np.float64)
    eye_r, eye_l = xy[:, _EYE_OUTER[0]], xy[:, _EYE_OUTER[1]]
    axis = eye_l - eye_r
    scale = np.linalg.norm(axis, axis=1)[:, None] + 1e-9
    cos, sin = (axis / scale).T
    centre = (eye_r + eye_l) / 2
    rel = xy - centre[:, None]
    # Rotate so the eye line is horizontal, then measure in units of the eye-corner distance.
    upright = np.stack(
        [
            rel[..., 0] * cos[:, None] + rel[..., 1] * sin[:, None],
            -rel[..., 0] * sin[:, None] + rel[..., 1] * cos[:, None],
        ],
        axis=-1,
    )
    p = upright / scale[:, :, None]
    y = p[..., 1]

    def pair(a: tuple[int, int], b: tuple[int, int]) -> np.ndarray:
        return ((y[:, b[0]] - y[:, a[0]]) + (y[:, b[1]] - y[:, a[1]])) / 2

    eye_width = np.linalg.norm(p[:, _EYE_INNER[0]] - p[:, _EYE_OUTER[0]], axis=1)
    lips_mid = (y[:, _LIP_INNER[0]] + y[:, _LIP_INNER[1]]) / 2
    return {
        "brow_inner": pair(_BROW_INNER, _EYE_INNER),
        "brow_outer": pair(_BROW_OUTER, _EYE_OUTER),
        "eye_open": pair(_LID_UPPER, _LID_LOWER) / (eye_width + 1e-9),
        "corner_lift": lips_mid - (y[:, _MOUTH_CORNERS[0]] + y[:, _MOUTH_CORNERS[1]]) / 2,
        "mouth_width": np.linalg.norm(p[:, _MOUTH_CORNERS[1]] - p[:, _MOUTH_CORNERS[0]], axis=1),
        "lips_gap": y[:, _LIP_INNER[1]] - y[:, _LIP_INNER[0]],
        "jaw": y[:, _CHIN] - y[:, _NOSE_TIP],
    }


def estimate_aus_from_landmarks(points: np.ndarray, timestamps: np.ndarray) -> AUSequence:
    """Approximate intensities of `LANDMARK_AUS` from face-mesh geometry (no AU model involved).

    Each AU is a scaled departure of one distance from a relaxed face: brows up (AU01/02) or down
    (AU04), eyes wide (AU05) or shut (AU45), mouth corners up (AU12) or down (AU15), mouth wider
    (AU20), lips apart (AU25), jaw lowered (AU26). Use OpenFace or py-feat CSVs for real intensities.
    """
    g = landmark_geometry(points) if len(points) else {k: np.zeros(0) for k in _NEUTRAL}
    d = {k: g[k] - _NEUTRAL[k] for k in _NEUTRAL}
    raw = {
        "AU01": d["brow_inner"],
        "AU02": d["brow_outer"],
        "AU04": -d["brow_inner"],
        "AU05": d["eye_open"],
        "AU45": -d["eye_open"],
        "AU12": d["corner_lift"],
        "AU15": -d["corner_lift"],
        "AU20": d["mouth_width"],
        "AU25": d["lips_gap"],
        "AU26": d["jaw"],
    }
    values = np.zeros((len(points), len(OPENFACE_INTENSITY_AUS)), dtype=np.float32)
    for code, delta in raw.items():
        values[:, AU_INDEX[code]] = np.clip(_GAIN[code] * delta, 0.0, 5.0)
    return AUSequence(values, np.asarray(timestamps, float), "landmarks", LANDMARK_AUS)


# ----- AU -> text -------------------------------------------------------------------------------


@dataclass
class AUSummary:
    """What the AU sequence says: peak frame, AUs active there and over the clip, prototypes."""

    peak_index: int | None
    peak_time: float | None
    peak_aus: list[str]
    active_aus: list[str]
    prototypes: list[str]
    source: str
    description: str


def _named(codes: list[str], values: np.ndarray | None = None) -> str:
    parts = []
    for code in codes:
        text = f"{code} {AU_NAMES[code]}"
        if values is not None:
            text += f" ({values[AU_INDEX[code]]:.1f})"
        parts.append(text)
    return ", ".join(parts)


def summarize_aus(sequence: AUSequence, threshold: float = ACTIVE_INTENSITY_THRESHOLD) -> AUSummary:
    """Peak = frame of maximum summed intensity; active = intensity above `threshold` (0.8)."""
    notes = {
        "landmarks": " (estimated from face landmarks, approximate)",
        "py-feat presence": " (presence only, no intensities)",
    }
    note = notes.get(sequence.source, "")
    presence = sequence.source == "py-feat presence"
    if len(sequence.values) == 0:
        return AUSummary(None, None, [], [], [], sequence.source, "No face action units available.")
    values = sequence.values
    peak = int(values.sum(axis=1).argmax())
    order = np.argsort(-values[peak], kind="stable")
    peak_aus = [OPENFACE_INTENSITY_AUS[i] for i in order if values[peak, i] > threshold]
    share = (values > threshold).mean(axis=0)
    active = [
        OPENFACE_INTENSITY_AUS[i] for i in np.argsort(-share, kind="stable") if share[i] >= 0.5
    ]
    prototypes = matching_prototypes(peak_aus)
    time = float(sequence.timestamps[peak])
    if peak_aus:
        text = (
            f"At the peak expression ({time:.1f} s) the face shows "
            f"{_named(peak_aus, None if presence else values[peak])}"
        )
        text += f"{note}."
    else:
        text = f"No facial action unit is clearly active (intensity > {threshold}){note}."
    if active:
        text += f" Present through most of the clip: {_named(active)}."
    if prototypes:
        text += f" This combination is typical of {' or '.join(prototypes)}."
    return AUSummary(peak, time, peak_aus, active, prototypes, sequence.source, text)


def au_list_from_text(value: str) -> list[str]:
    """AU codes from MERR-style lists ("AU06, AU12" or ['AU06_r', ...])."""
    return [f"AU{int(m):02d}" for m in re.findall(r"AU\s*0*(\d{1,2})", str(value), re.IGNORECASE)]
