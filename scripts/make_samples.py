"""Make the bundled sample clips: a real face (matplotlib's public-domain Grace Hopper photo) with real
speech (espeak-ng), animated by small head motion and a jaw that opens with the speech envelope.

Needs espeak-ng and sox (apt-get install espeak-ng sox) only here; the clips are committed, so tests
and users never run this. Run: .venv/bin/python scripts/make_samples.py
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import matplotlib
import numpy as np
import soundfile

OUT = Path(__file__).resolve().parents[1] / "affect_llm" / "resources" / "samples"
PHOTO = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
SIZE, FPS, SR = 224, 10, 16000

# name, spoken text, espeak speed (wpm), pitch (0-99), openset, label, valence, reason
CLIPS = [
    (
        "hopper_happy",
        "Oh, this is wonderful news! I am so glad it finally works.",
        175,
        70,
        "['happy', 'excited']",
        "happy",
        0.8,
        "She smiles with raised cheeks while her voice is high and quick, so she sounds happy.",
    ),
    (
        "hopper_sad",
        "I am sorry. I really thought we would make it this time.",
        120,
        25,
        "['sad', 'disappointed']",
        "sad",
        -0.7,
        "Her speech is slow and low pitched and she says she is sorry, which suggests sadness.",
    ),
    (
        "hopper_angry",
        "No! This is completely unacceptable. Fix it right now!",
        190,
        45,
        "['angry']",
        "angry",
        -0.8,
        "She speaks loudly and fast, refusing firmly, which signals anger.",
    ),
    (
        "hopper_surprise",
        "What? You did all of this in one night?",
        160,
        85,
        "['surprise', 'curious']",
        "surprise",
        0.3,
        "Her voice rises sharply on a question about something unexpected, so she is surprised.",
    ),
]


def speech(text: str, speed: int, pitch: int, workdir: Path) -> np.ndarray:
    raw, wav = workdir / "raw.wav", workdir / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us+f3", "-s", str(speed), "-p", str(pitch), "-w", raw, text],
        check=True,
    )
    subprocess.run(
        ["sox", raw, "-r", str(SR), "-c", "1", "-b", "16", wav, "pad", "0.2", "0.3"], check=True
    )
    audio, sr = soundfile.read(wav, dtype="float32")
    assert sr == SR
    return audio


def face_crop(photo: np.ndarray) -> np.ndarray:
    """Head-and-shoulders square around the face (the detector found it at about x 166-366, y 128-328)."""
    cx, cy, half = 266, 245, 170
    return photo[cy - half : cy + half, cx - half : cx + half]


def envelope(audio: np.ndarray, num_frames: int) -> np.ndarray:
    hop = len(audio) / num_frames
    rms = np.array(
        [
            np.sqrt(np.mean(audio[int(i * hop) : int((i + 1) * hop)] ** 2) + 1e-12)
            for i in range(num_frames)
        ]
    )
    return np.clip(rms / (rms.max() + 1e-9), 0, 1)


def animate(base: np.ndarray, t: float, opening: float, mirror: bool) -> np.ndarray:
    """Small head sway and zoom, and the region below the mouth pulled down by `opening` (0-1)."""
    h, w = base.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mouth_x, mouth_y = 0.5 * w, 0.63 * h  # lower lip in the crop
    weight = np.exp(
        -(((xs - mouth_x) / (0.13 * w)) ** 2) - (((ys - mouth_y - 0.06 * h) / (0.09 * h)) ** 2)
    )
    map_y = ys - 0.035 * h * opening * weight * (ys > mouth_y)
    frame = cv2.remap(base, xs, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    angle = 2.0 * np.sin(2 * np.pi * 0.4 * t)
    scale = 1.0 + 0.03 * np.sin(2 * np.pi * 0.25 * t)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[0, 2] += 4 * np.sin(2 * np.pi * 0.3 * t)
    frame = cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    frame = cv2.resize(frame, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return frame[:, ::-1].copy() if mirror else frame


def write_clip(path: Path, frames: list[np.ndarray], audio: np.ndarray) -> None:
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = SIZE, SIZE, "yuv420p"
        video.codec_context.gop_size = FPS
        video.options = {"crf": "32", "preset": "slow"}
        sound = container.add_stream("aac", rate=SR, layout="mono")
        sound.bit_rate = 24000
        for frame in frames:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
        chunk = 1024
        for start in range(0, len(audio), chunk):
            piece = audio[None, start : start + chunk].astype(np.float32)
            packet = av.AudioFrame.from_ndarray(piece, format="flt", layout="mono")
            packet.sample_rate, packet.pts, packet.time_base = SR, start, Fraction(1, SR)
            container.mux(sound.encode(packet))
        container.mux(sound.encode())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    photo = cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
    base = face_crop(photo)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, text, speed, pitch, openset, label, valence, reason) in enumerate(CLIPS):
            audio = speech(text, speed, pitch, Path(tmp))
            num_frames = int(np.ceil(len(audio) / SR * FPS))
            opening = envelope(audio, num_frames)
            frames = [
                animate(base, i / FPS, opening[i], mirror=index % 2 == 1) for i in range(num_frames)
            ]
            write_clip(OUT / f"{name}.mp4", frames, audio)
            rows.append(
                {
                    "name": name,
                    "openset": openset,
                    "label": label,
                    "valence": valence,
                    "reason": reason,
                    "subtitle": text,
                }
            )
    with open(OUT / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(rows)} clips to {OUT} ({total / 1024:.0f} KiB in all)")


if __name__ == "__main__":
    main()
