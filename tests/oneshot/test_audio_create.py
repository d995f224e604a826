"""`rtc create --audio-in/--audio-out` end to end: real processes against the local server."""

from __future__ import annotations

import importlib.util
import json
import wave
from pathlib import Path

import pytest
from cli_run import rtc
from sounds import silence, speak, tone, write
from test_create import imported

from realtime_cli.audio import codecs


def no_extra(tmp_path: Path) -> dict[str, str]:
    """An environment in which the audio extra cannot be imported (a fresh install without it)."""
    blocked = tmp_path / "blocked"
    blocked.mkdir(exist_ok=True)
    for name in ("miniaudio", "webrtcvad"):
        (blocked / f"{name}.py").write_text("raise ImportError('not installed')\n")
    return {"PYTHONPATH": str(blocked)}


def wav_info(path: Path) -> tuple[int, float]:
    with wave.open(str(path)) as wav:
        return wav.getframerate(), wav.getnframes() / wav.getframerate()


def test_speech_in_reply_out_with_and_without_the_extra(tmp_path: Path, server_url: str) -> None:
    speech = speak(tmp_path / "speech.wav", "Hello there, this is a test.")
    for env in (None, no_extra(tmp_path)):
        reply = tmp_path / "reply.wav"
        result = rtc(
            "create", "--audio-in", str(speech), "--audio-out", str(reply), "--fast",
            "--url", server_url, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "I heard" in result.stdout and "seconds of audio" in result.stdout
        assert f"rtc: wrote {reply}" in result.stderr
        rate, seconds = wav_info(reply)
        assert rate == 24_000 and seconds > 0.3


def test_paced_audio_whose_answer_ends_while_silence_is_still_sent(
    tmp_path: Path, server_url: str
) -> None:
    clip = write(tmp_path / "t.wav", tone(440, 300) + silence(100), 24_000)
    result = rtc("create", "--audio-in", str(clip), "--url", server_url, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("I heard 0.5 seconds of audio.\n")  # tone + 200 ms silence


def test_json_shows_the_appends_turn_and_response(tmp_path: Path, server_url: str) -> None:
    clip = write(tmp_path / "t.wav", tone(440, 600, 16_000) + silence(100, 16_000), 16_000)
    result = rtc("create", "--audio-in", str(clip), "--fast", "--json", "--url", server_url)
    assert result.returncode == 0, result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert "input_audio_buffer.committed" in types and types[-2:] == [
        "response.done",
        "rate_limits.updated",
    ]


def test_non_wav_without_the_extra_names_it_and_sends_nothing(
    tmp_path: Path, server_url: str
) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3" + bytes(100))
    result = rtc("create", "--audio-in", str(song), "--url", server_url, env=no_extra(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"rtc: error: {song}: reading a file that is not WAV needs the audio extra: "
        "pip install 'realtime-cli[audio]'\n"
    )


def test_g711_output_duration_is_right_in_the_panel(server_url: str) -> None:
    fmt = '{"type": "audio/pcmu"}'
    result = rtc(
        "create", "one two three", "-s", f"audio.output.format:={fmt}", "--url", server_url
    )
    assert result.returncode == 0, result.stderr
    assert "[audio 2,400 bytes, 0.30 s]" in result.stderr  # the panel: piped, on stderr


def test_create_without_audio_options_loads_no_audio_code(server_url: str) -> None:
    loaded = imported("create", "--url", server_url, "hi")
    assert "websockets" in loaded
    assert not {"miniaudio", "realtime_cli.audio.files", "realtime_cli.audio.backend"} & loaded
    assert "miniaudio" not in imported("--help")
    assert codecs.PCM  # the codecs are light: panels use them for durations


@pytest.mark.skipif(
    importlib.util.find_spec("miniaudio") is None, reason="the audio extra: pip install '.[audio]'"
)
def test_play_on_the_null_device(server_url: str) -> None:
    played = rtc(
        "create", "one two three", "--play", "--url", server_url, env={"RTC_AUDIO_DEVICE": "null"}
    )
    assert played.returncode == 0, played.stderr
    # The panel's voice meter (piped, the panel is on stderr): all of it was played.
    assert "played 0.30 s" in played.stderr
    flagged = rtc(
        "create", "one two three", "--play", "--audio-device", "null", "--url", server_url
    )
    assert flagged.returncode == 0, flagged.stderr
    assert "played 0.30 s" in flagged.stderr


def test_play_without_the_extra(tmp_path: Path, server_url: str) -> None:
    missing = rtc("create", "one two", "--play", "--url", server_url, env=no_extra(tmp_path))
    assert missing.returncode == 0, missing.stderr
    assert (
        "rtc: --play: live playback needs the audio extra: pip install 'realtime-cli[audio]'"
        in missing.stderr
    )
    assert "one two" in missing.stdout  # everything else works
