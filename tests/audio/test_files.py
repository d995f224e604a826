"""Reading audio files whole into a Realtime input format, and writing WAV."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from sounds import rms_db, silence, tone, write

from realtime_cli.audio import codecs, files
from realtime_cli.audio.resample import downmix, resample_stdlib
from realtime_cli.errors import ExitCode


@pytest.mark.parametrize(
    ("rate", "channels", "width"),
    [(24_000, 1, 2), (8_000, 1, 2), (16_000, 2, 2), (44_100, 2, 3), (48_000, 1, 4), (22_050, 1, 1)],
)
def test_wav_of_any_rate_width_and_channels_becomes_24k_mono(
    tmp_path: Path, rate: int, channels: int, width: int
) -> None:
    path = write(tmp_path / "t.wav", tone(440, 500, rate), rate, channels=channels, width=width)
    clip = files.read_clip(path)
    assert clip.rate == rate and clip.ms == pytest.approx(500, abs=1)
    pcm = clip.encoded(codecs.PCM)
    assert len(pcm) // 2 == pytest.approx(12_000, abs=2)  # 0.5 s at 24 kHz
    assert rms_db(pcm) == pytest.approx(rms_db(tone(440, 500)), abs=1.0)  # same loudness


def test_g711_input_is_8k_encoded(tmp_path: Path) -> None:
    path = write(tmp_path / "t.wav", tone(440, 300), 24_000)
    ulaw = files.read_clip(path).encoded(codecs.PCMU)
    assert len(ulaw) == 2400  # 0.3 s at 8 kHz, one byte a sample
    back = codecs.ulaw_decode(ulaw)
    assert rms_db(back) == pytest.approx(rms_db(tone(440, 300)), abs=1.0)


def test_stdlib_resampler_keeps_length_and_downmix_averages() -> None:
    assert len(resample_stdlib(tone(440, 1000, 44_100), 44_100, 24_000)) == 48_000
    assert len(resample_stdlib(tone(440, 1000), 24_000, 8_000)) == 16_000
    assert len(resample_stdlib(tone(440, 1000, 8_000), 8_000, 24_000)) == 48_000
    stereo = bytes([0x10, 0x00, 0x30, 0x00])  # left 16, right 48
    assert downmix(stereo, 2) == bytes([0x20, 0x00])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no audio"),  # an empty file
        (b"RIFF\x00\x00\x00\x00WAVEjunk", ""),  # a header and nothing else
    ],
)
def test_unreadable_files_are_usage_errors_naming_the_file(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(files.AudioFileError) as caught:
        files.read_clip(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert reason in caught.value.message and "\n" not in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE


def test_missing_silent_truncated_and_directory(tmp_path: Path) -> None:
    def error(path: Path) -> str:
        with pytest.raises(files.AudioFileError) as caught:
            files.read_clip(path)
        return caught.value.message

    assert error(tmp_path / "nope.wav") == f"{tmp_path / 'nope.wav'}: No such file or directory"
    assert error(tmp_path) == f"{tmp_path}: is a directory"
    quiet = write(tmp_path / "quiet.wav", silence(500), 24_000)
    assert error(quiet).endswith("is silent (no sample above -60 dBFS)")
    whole = write(tmp_path / "whole.wav", tone(440, 500), 24_000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:-1000])
    assert "truncated: the header says 12000 frames, the file holds 11500" in error(cut)
    empty = write(tmp_path / "empty.wav", b"", 24_000)
    assert error(empty).endswith("holds no audio")


def test_write_wav_round_trips(tmp_path: Path) -> None:
    pcm = tone(300, 200, 8_000)
    files.write_wav(tmp_path / "o.wav", pcm, 8_000)
    with wave.open(str(tmp_path / "o.wav")) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8_000, 1, 2)
        assert wav.readframes(wav.getnframes()) == pcm
