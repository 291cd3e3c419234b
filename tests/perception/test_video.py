import numpy as np
import pytest
from media_fixtures import HAPPY, counter_frames, tone, write_clip

from affect_llm.perception.video import MediaError, probe, sample_frames


def test_seek_sampling_matches_full_decoding_and_decodes_fewer_frames(tmp_path):
    clip = write_clip(tmp_path / "count.mp4", counter_frames(60), fps=10, gop=10)
    seek = sample_frames(clip, 4, mode="seek")
    full = sample_frames(clip, 4, mode="sequential")
    assert seek.frames.shape == (4, 64, 64, 3) and seek.frames.dtype == np.uint8
    np.testing.assert_allclose(seek.timestamps, full.timestamps)
    np.testing.assert_array_equal(seek.frames, full.frames)
    # Targets are segment centres of a 6 s clip: 0.75, 2.25, 3.75, 5.25 s -> frames 8, 23, 38, 53.
    np.testing.assert_allclose(seek.timestamps, [0.8, 2.3, 3.8, 5.3], atol=1e-6)
    brightness = seek.frames[:, 32, 32, 0].astype(int)
    np.testing.assert_allclose(brightness, [32, 92, 152, 212], atol=6)
    assert full.decoded_frames == 60
    assert seek.decoded_frames < 30


def test_rotation_metadata_is_applied(tmp_path):
    frames = np.zeros((10, 48, 96, 3), dtype=np.uint8)
    frames[:, :, :48] = 255  # left half white in the stored (landscape) picture
    clip = write_clip(tmp_path / "rot.mp4", frames, rotation=90)
    assert probe(clip).rotation == 90
    out = sample_frames(clip, 2).frames
    assert out.shape == (2, 96, 48, 3)  # upright portrait
    # 90 degrees counter-clockwise: the stored left half ends up at the bottom.
    assert out[0, -10:, :, 0].mean() > 200 and out[0, :10, :, 0].mean() < 50


def test_variable_frame_rate_is_sampled_by_time(tmp_path):
    # 30 frames, first 20 at 50 ms spacing then 10 at 300 ms: index != time / constant step.
    pts = [i * 50 for i in range(20)] + [1000 + i * 300 for i in range(10)]
    clip = write_clip(tmp_path / "vfr.mp4", counter_frames(30), pts_ms=pts)
    out = sample_frames(clip, 3)
    index = np.round(out.frames[:, 32, 32, 0] / 4).astype(int)
    for t, i in zip(out.timestamps, index):
        assert abs(pts[i] / 1000 - t) < 1e-3  # the frame shown is the one with that timestamp
    assert index[-1] >= 25 and out.timestamps[-1] > 3.0


@pytest.mark.parametrize("kind", ["zero", "truncated", "audio_only", "missing"])
def test_unusable_video_raises_a_clear_error(tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    if kind == "zero":
        path.write_bytes(b"")
        match = "empty file"
    elif kind == "truncated":
        path.write_bytes(HAPPY.read_bytes()[: HAPPY.stat().st_size // 2])
        match = "cannot open|no decodable|decoding failed"
    elif kind == "audio_only":
        write_clip(path, None, audio=tone(1.0))
        match = "no video stream"
    else:
        match = "not found"
    with pytest.raises(MediaError, match=match):
        sample_frames(path, 4)


def test_truncated_faststart_clip_keeps_the_frames_before_the_cut(tmp_path):
    import av
    from media_fixtures import hopper_frames

    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width = stream.height = 224
        stream.pix_fmt, stream.codec_context.gop_size = "yuv420p", 5
        for image in hopper_frames(40):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for mode in ("seek", "sequential"):
        out = sample_frames(cut, 8, mode)
        assert out.truncated and 1 <= len(out.frames) < 8
        assert (np.diff(out.timestamps) > 0).all()  # no padding with repeated frames
    from affect_llm.perception import perceive_clip

    assert "truncated" in perceive_clip(cut).notes[0]
