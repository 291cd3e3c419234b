"""Video decoding with PyAV: N uniformly spaced frames without decoding the whole clip.

Seeking to the keyframe before each target and decoding forward to it costs about one GOP per sampled
frame instead of every frame; variable frame rate is handled by working in timestamps, and rotation
metadata (the display matrix phones write) is applied so frames come out upright.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np


class MediaError(RuntimeError):
    """A media file that cannot be used (empty, unreadable, truncated, without the wanted stream)."""


@dataclass
class VideoInfo:
    """What a container holds, read from its headers without decoding."""

    has_video: bool
    has_audio: bool
    duration: float | None = None
    fps: float | None = None
    num_frames: int | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0


@dataclass
class SampledFrames:
    """Frames as uint8 RGB T x H x W x 3 with their timestamps (s) and how many frames were decoded.

    T is smaller than asked when the stream ends early (a truncated file): `truncated` is then True.
    """

    frames: np.ndarray
    timestamps: np.ndarray
    decoded_frames: int = 0
    info: VideoInfo = field(default_factory=lambda: VideoInfo(False, False))
    truncated: bool = False


_HEADERS_ONLY = {"skip_frame": "all"}  # for probing; decoding later uses its own codec context


def open_media(path: str | os.PathLike):
    """A PyAV container of a video or audio file; a missing, empty or unreadable file is a
    MediaError naming it (the headers only are probed, so a huge frame costs nothing here)."""
    import av

    path = os.fspath(path)
    if not os.path.exists(path):
        raise MediaError(f"file not found: {path}")
    if os.path.getsize(path) == 0:
        raise MediaError(f"empty file (0 bytes): {os.path.basename(path)}")
    try:
        try:
            # Probe from the headers only: FFmpeg would otherwise decode a frame of every stream
            # to fill in its parameters, 100 MB for one 8192x8192 frame before any size check.
            return av.open(path, metadata_errors="ignore", stream_options=[_HEADERS_ONLY] * 64)
        except ValueError:  # formats whose streams appear only while probing (MPEG-PS)
            return av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise MediaError(
            f"cannot open {os.path.basename(path)} (truncated, corrupt or not media): {detail}"
        ) from error


def probe(path: str | os.PathLike) -> VideoInfo:
    """Streams, duration, frame rate and size of a media file (rotation read from its first frame)."""
    import av

    with open_media(path) as container:
        info = _probe_container(container)
        if info.has_video:
            try:
                first = next(container.decode(container.streams.video[0]), None)
            except av.FFmpegError:
                first = None
            info.rotation = int(first.rotation) if first is not None else 0
        return info


def _probe_container(container) -> VideoInfo:
    audio = len(container.streams.audio) > 0
    if not container.streams.video:
        duration = container.duration / 1e6 if container.duration else None
        return VideoInfo(has_video=False, has_audio=audio, duration=duration)
    stream = container.streams.video[0]
    if stream.codec_context is None:  # FFmpeg knows no decoder for this stream's codec
        raise MediaError(
            f"video stream of {os.path.basename(container.name)} has a codec FFmpeg cannot decode"
        )
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1e6
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else None
    frames = stream.frames or (round(duration * fps) if duration and fps else None)
    ctx = stream.codec_context
    return VideoInfo(True, audio, duration, fps, frames, ctx.width, ctx.height)


def uniform_timestamps(duration: float, num_frames: int) -> np.ndarray:
    """Centres of `num_frames` equal segments of the clip, so no frame sits on a cut at either end."""
    return (np.arange(num_frames) + 0.5) * (duration / num_frames)


def _to_rgb(frame, max_side: int | None = None) -> np.ndarray:
    """RGB array of a frame, upright, its longer side scaled down to `max_side` if larger."""
    size = {}
    if max_side and max(frame.width, frame.height) > max_side:
        scale = max_side / max(frame.width, frame.height)
        size = {
            "width": max(2, round(frame.width * scale)),
            "height": max(2, round(frame.height * scale)),
        }
    image = frame.to_ndarray(format="rgb24", **size)
    # The display matrix says how many degrees counter-clockwise to turn the picture for display.
    turns = int(round((frame.rotation or 0) / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def _frame_time(frame, stream) -> float | None:
    if frame.pts is None:
        return None
    return float(frame.pts * (frame.time_base or stream.time_base))


def sample_frames(
    path: str | os.PathLike,
    num_frames: int = 8,
    mode: str = "seek",
    max_side: int | None = None,
    max_pixels: int | None = None,
    max_seconds: float | None = None,
) -> SampledFrames:
    """Decode `num_frames` frames at uniformly spaced timestamps.

    mode="seek" seeks to the keyframe before each target and decodes forward (only as far as needed);
    mode="sequential" decodes every frame once and keeps the same ones (the slow baseline).
    Frames are scaled down to `max_side` as they are converted; a stream over `max_pixels` per
    frame or `max_seconds` long is refused from its header, before anything is decoded.
    Raises MediaError when the file has no decodable video or is over a limit.
    """
    import av

    if mode not in ("seek", "sequential"):
        raise ValueError(f"mode must be 'seek' or 'sequential', not {mode!r}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, not {num_frames}")
    with open_media(path) as container:
        info = _probe_container(container)
        if not info.has_video:
            raise MediaError(f"no video stream in {os.path.basename(os.fspath(path))}")
        _check_limits(info, max_pixels, max_seconds)
        stream = container.streams.video[0]
        # Slice threading: frame threading makes every seek flush a pipeline of frames in flight,
        # which costs more than it gains on the 8-16 short decodes of sampled mode.
        stream.thread_type = "SLICE"
        try:
            if mode == "sequential" or not info.duration:
                picked, times, decoded = _decode_sequential(container, stream, info, num_frames)
            else:
                picked, times, decoded = _decode_seeking(container, stream, info, num_frames)
        except av.FFmpegError as error:
            raise MediaError(f"video decoding failed: {error}") from error
    if not picked:
        raise MediaError(f"no decodable video frames in {os.path.basename(os.fspath(path))}")
    info.rotation = int(picked[0].rotation or 0)
    frames = np.stack([_to_rgb(f, max_side) for f in picked])
    truncated = len(picked) < num_frames
    return SampledFrames(frames, np.asarray(times, dtype=np.float64), decoded, info, truncated)


def _check_limits(info: VideoInfo, max_pixels: int | None, max_seconds: float | None) -> None:
    pixels = (info.width or 0) * (info.height or 0)
    if max_pixels and pixels > max_pixels:
        raise MediaError(
            f"{info.width}x{info.height} video is over the {max_pixels / 1e6:.1f} megapixel "
            "limit (max_pixels)"
        )
    if max_seconds and info.duration and info.duration > max_seconds:
        raise MediaError(
            f"{info.duration:.1f} s long, over the {max_seconds:g} s limit (max_seconds)"
        )


def _keyframe_times(stream) -> np.ndarray | None:
    """Keyframe timestamps from the container index (mp4/mkv have one), or None without an index."""
    try:
        entries = stream.index_entries
        times = [e.timestamp for e in entries if e.is_keyframe]
    except (AttributeError, TypeError):
        return None
    return np.sort(np.asarray(times, dtype=np.float64) * float(stream.time_base)) if times else None


def _decode_seeking(container, stream, info: VideoInfo, num_frames: int):
    import av

    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    targets = start + uniform_timestamps(info.duration, num_frames)
    keyframes = _keyframe_times(stream)
    picked, times, decoded = [], [], 0
    current, current_time, iterator = None, None, None
    for target in targets:
        if current_time is not None and current_time + 1e-6 >= target:
            picked.append(current)
            times.append(current_time - start)
            continue
        if iterator is None or _needs_seek(keyframes, current_time, target):
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            iterator = container.decode(stream)
        found = None
        try:
            for frame in iterator:
                decoded += 1
                current, current_time = frame, _frame_time(frame, stream)
                if current_time is None or current_time + 1e-6 >= target:
                    found = frame
                    break
        except av.FFmpegError:
            iterator = None  # damaged data: what decoded before it is kept, the rest is dropped
        if found is None:
            break  # the stream ends (truncated or damaged) before this target: stop here
        picked.append(found)
        times.append((current_time if current_time is not None else target) - start)
    return picked, times, decoded


def _needs_seek(keyframes: np.ndarray | None, position: float | None, target: float) -> bool:
    """Seek only when a keyframe lies between the decoder position and the target.

    Otherwise decoding forward reaches the target with fewer frames than seeking back to a keyframe.
    """
    if position is None:
        return True
    if keyframes is None:
        return True
    last_key = np.searchsorted(keyframes, target + 1e-6) - 1
    return last_key >= 0 and keyframes[last_key] > position + 1e-6


def _decode_sequential(container, stream, info: VideoInfo, num_frames: int):
    """Decode every frame once, keeping for each target the first frame at or after it."""
    import av

    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    duration = info.duration or 0.0
    targets = start + uniform_timestamps(duration, num_frames) if duration else None
    picked, times, decoded, kept = [], [], 0, []
    try:
        for frame in container.decode(stream):
            decoded += 1
            t = _frame_time(frame, stream)
            if targets is None:
                kept.append((frame, t))  # unknown duration: keep all, choose at the end
                continue
            while len(picked) < len(targets) and (t is None or t + 1e-6 >= targets[len(picked)]):
                picked.append(frame)
                times.append((t if t is not None else targets[len(picked) - 1]) - start)
    except av.FFmpegError:
        pass  # keep what decoded before the damage
    if targets is None and kept:
        stamps = np.array([t or 0.0 for _, t in kept])
        for target in uniform_timestamps(stamps[-1] - stamps[0] + 1e-3, num_frames):
            index = min(int(np.searchsorted(stamps - stamps[0], target - 1e-6)), len(kept) - 1)
            picked.append(kept[index][0])
            times.append(float(stamps[index] - stamps[0]))
    return picked, times, decoded
