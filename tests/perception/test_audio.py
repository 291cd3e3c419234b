import numpy as np
import pytest
import soundfile
from media_fixtures import HAPPY, hopper_frames, tone, write_clip

from affect_llm.perception.audio import load_audio
from affect_llm.perception.prosody import describe_prosody, prosody
from affect_llm.perception.video import MediaError, probe


def test_soundtrack_is_mono_float32_at_16k_and_as_long_as_the_clip():
    audio = load_audio(HAPPY)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / 16000 - probe(HAPPY).duration) < 0.2
    assert 0.05 < np.abs(audio).max() <= 1.0


def test_stereo_44k_wav_is_downmixed_and_resampled(tmp_path):
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    soundfile.write(tmp_path / "a.wav", stereo.astype(np.float32), 44100)
    audio = load_audio(tmp_path / "a.wav")
    assert abs(len(audio) - 16000) < 100
    spectrum = np.abs(np.fft.rfft(audio[2000:14000]))
    assert abs(np.argmax(spectrum) * 16000 / 12000 - 440) < 3


def test_clip_without_audio_track_raises(tmp_path):
    clip = write_clip(tmp_path / "silent.mp4", hopper_frames(5))
    with pytest.raises(MediaError, match="no audio stream"):
        load_audio(clip)


def test_prosody_measures_pitch_and_rate():
    stats = prosody(tone(3.0, hz=180.0, syllables=4.0))
    assert stats.pitch_mean == pytest.approx(180.0, rel=0.05)
    assert 2.5 < stats.syllable_rate < 6.5
    assert 0.2 < stats.voiced_fraction < 0.9
    higher = prosody(tone(3.0, hz=280.0, syllables=4.0))
    assert higher.pitch_mean > stats.pitch_mean + 80
    assert "high-pitched" in describe_prosody(higher) and "Hz" in describe_prosody(stats)


def test_silence_is_described_as_no_speech():
    assert "no voiced speech" in describe_prosody(prosody(np.zeros(16000, dtype=np.float32)))


def test_stereo_downmix_is_ffmpegs_l_plus_r_over_sqrt2(tmp_path):
    t = np.arange(16000) / 16000
    left = 0.5 * np.sin(2 * np.pi * 300 * t)
    for right, expected in ((np.zeros_like(left), 0.5 / np.sqrt(2)), (left, 1.0 / np.sqrt(2))):
        soundfile.write(
            tmp_path / "s.wav", np.stack([left, right], axis=1).astype(np.float32), 16000
        )
        audio = load_audio(tmp_path / "s.wav")
        assert np.abs(audio[1000:15000]).max() == pytest.approx(expected, rel=2e-3)


def test_long_audio_is_decoded_into_one_buffer_of_its_own_size(tmp_path):
    clip = write_clip(tmp_path / "long.m4a", None, audio=tone(12.0))
    audio = load_audio(clip)
    assert abs(len(audio) - 12 * 16000) < 2048
    assert audio.base is None or audio.base.nbytes < 1.05 * audio.nbytes + 16000 * 4 * 1.1
    assert len(load_audio(clip, max_seconds=1.5)) == 24000
