"""Voice in the console (pipe input, local server): audio FILE, save, play, --audio-out DIR,
live playback through a fake device at the player's seam, and barge-in."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from console_harness import Console_, console, console_factory, flat  # noqa: F401 (fixtures)
from sounds import silence, tone, write

from realtime_cli.audio.playback import JitterBuffer, Player
from realtime_cli.console.voice import Voice
from realtime_cli.protocol.events import Client


class FakeDevice:
    """The sound card at the seam: the test pulls samples as a device would."""

    closed = False

    def close(self) -> None:
        self.closed = True


def sent(c: Console_, type_: str) -> list[dict[str, object]]:
    return [e.event for e in c.shell.log if e.direction == "→" and e.event.get("type") == type_]


def received(c: Console_, type_: str) -> list[dict[str, object]]:
    return [e.event for e in c.shell.log if e.direction == "←" and e.event.get("type") == type_]


async def test_audio_file_is_a_turn_and_its_answer_can_be_saved(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
    tmp_path: Path,
) -> None:
    c = console_factory(server_url)
    Voice(c.shell)
    await c.wait_for("type help")
    clip = write(tmp_path / "q.wav", tone(440, 500, 16_000) + silence(100, 16_000), 16_000)
    out = await c.line(f"audio {clip} --fast", expect="· completed")
    assert "sending" in out and "server VAD decides" in out
    assert "I heard" in out
    (done,) = received(c, "response.done")
    response_id = str(done["response"]["id"])  # type: ignore[index]
    saved = await c.line(f"save {response_id} {tmp_path / 'a.wav'}", expect="saved")
    assert "saved" in saved
    with wave.open(str(tmp_path / "a.wav")) as wav:
        assert wav.getframerate() == 24_000 and wav.getnframes() > 0
    missing = flat(await c.line(f"audio {tmp_path / 'nope.wav'}"))
    assert "No such file or directory" in missing and "Traceback" not in missing
    none = flat(await c.line(f"save resp_nope {tmp_path / 'b.wav'}"))
    assert "no audio kept for response 'resp_nope'" in none


async def test_audio_out_dir_writes_each_response(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
    tmp_path: Path,
) -> None:
    c = console_factory(server_url)
    Voice(c.shell, audio_out=tmp_path)
    await c.wait_for("type help")
    await c.line("hello there", expect="saved")
    files = sorted(e.path for e in os.scandir(tmp_path) if e.name.endswith(".wav"))
    assert len(files) == 1, files
    with wave.open(files[0]) as wav:
        assert wav.getnframes() == 2 * 2400  # two words, 100 ms each


def playing_voice(c: Console_) -> tuple[Voice, JitterBuffer]:
    voice = Voice(c.shell)
    buffer = JitterBuffer(prebuffer_ms=0)
    voice.player = Player(buffer, FakeDevice())
    return voice, buffer


async def test_speech_while_playing_stops_cancels_and_truncates_at_what_was_played(
    local_server: Callable[..., str],
    console_factory: Callable[..., Console_],  # noqa: F811
    tmp_path: Path,
) -> None:
    c = console_factory(local_server(token_delay_ms=100))
    _, buffer = playing_voice(c)
    await c.wait_for("type help")
    await c.line("create " + json.dumps(" ".join(["word"] * 100)))
    await c.until(lambda: buffer.received_ms >= 300)
    interrupted = buffer.response_id
    played = len(buffer.pull(24_000 * 250 // 1000)) // 2 * 1000 // 24_000  # the card took 250 ms
    assert played == 250
    speech = write(tmp_path / "s.wav", tone(440, 400) + silence(500), 24_000)
    await c.line(f"audio {speech} --fast", expect="barge-in")
    await c.until(lambda: bool(received(c, "conversation.item.truncated")))
    (truncate,) = sent(c, Client.conversation_item_truncate)
    assert truncate["audio_end_ms"] == 250
    (truncated,) = received(c, "conversation.item.truncated")
    assert truncated["audio_end_ms"] == 250
    # What was buffered is gone: the player now holds only the answer to the new turn, if any.
    assert buffer.response_id != interrupted
    assert "heard 0.25 s of" in c.buffer.getvalue()
    cancelled = [
        d
        for d in received(c, "response.done")
        if d["response"]["status"] == "cancelled"  # type: ignore[index]
    ]
    assert cancelled  # by the server (turn_detected) or by rtc: not left running


async def test_nothing_played_means_no_truncate(
    local_server: Callable[..., str],
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    c = console_factory(local_server(token_delay_ms=100))
    _, buffer = playing_voice(c)
    await c.wait_for("type help")
    await c.line("create " + json.dumps(" ".join(["word"] * 100)))
    await c.until(lambda: buffer.received_ms >= 200)
    await c.line("new message", expect="barge-in")
    await c.until(lambda: bool(sent(c, Client.response_cancel)))
    assert sent(c, Client.conversation_item_truncate) == []
    assert "heard 0.00 s of" in c.buffer.getvalue()


async def test_play_without_the_extra_is_one_line(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    import sys

    c = console_factory(server_url)
    Voice(c.shell)
    await c.wait_for("type help")
    await c.line("hello", expect="· completed")
    (done,) = received(c, "response.done")
    response_id = str(done["response"]["id"])  # type: ignore[index]
    sys.modules["miniaudio"] = None  # type: ignore[assignment]
    try:
        out = flat(await c.line(f"play {response_id}"))
    finally:
        del sys.modules["miniaudio"]
    assert "play: live playback needs the audio extra: pip install 'realtime-cli[audio]'" in out


class FakeInput:
    """The microphone at the Mic's seam: the test hands chunks to the callback a device calls."""

    def __init__(self) -> None:
        self.take: Callable[[bytes], None] | None = None
        self.closed = False

    def __call__(self, take: Callable[[bytes], None], device: str | None) -> FakeInput:
        self.take = take
        return self

    def speak(self, pcm16: bytes) -> None:
        assert self.take is not None
        for i in range(0, len(pcm16), 960):  # 20 ms chunks, as the device gives them
            self.take(pcm16[i : i + 960])

    def close(self) -> None:
        self.closed = True


async def test_push_to_talk_streams_then_commits_and_asks(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    c = console_factory(server_url)
    voice = Voice(c.shell)
    voice.mic_opener = device = FakeInput()
    await c.wait_for("type help")
    await c.line("session --turn-detection none", expect="session updated")
    out = await c.line("mic on", expect="mic live")
    assert "Ctrl-T again to send" in out
    device.speak(tone(440, 300))
    assert (voice.status() or "").startswith("mic live -1")  # the level of the last chunk
    await c.until(lambda: len(sent(c, Client.input_audio_buffer_append)) == 15)
    await c.line("mic off", expect="· completed")
    assert device.closed and voice.status() is None
    assert "I heard 0.3 seconds of audio." in c.buffer.getvalue()
    assert len(sent(c, Client.input_audio_buffer_commit)) == 1


async def test_hands_free_lets_server_vad_take_turns(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    c = console_factory(server_url)
    voice = Voice(c.shell)
    voice.mic_opener = device = FakeInput()
    await c.wait_for("type help")
    out = await c.line("mic", expect="mic live")
    assert "server VAD takes the turns" in out
    device.speak(silence(200) + tone(440, 400) + silence(400))
    await c.wait_for("· completed")
    assert received(c, "input_audio_buffer.speech_started")
    assert sent(c, Client.input_audio_buffer_commit) == []  # the server committed
    await c.line("mic off", expect="mic off")


async def test_mic_without_the_extra_is_one_line(console: Console_) -> None:  # noqa: F811
    import sys

    sys.modules["miniaudio"] = None  # type: ignore[assignment]
    try:
        out = flat(await console.line("mic on"))
    finally:
        del sys.modules["miniaudio"]
    assert (
        out == "error: mic: the microphone needs the audio extra: pip install 'realtime-cli[audio]'"
    )


async def test_responses_shows_heard_versus_generated(
    local_server: Callable[..., str],
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    c = console_factory(local_server(token_delay_ms=100))
    _, buffer = playing_voice(c)
    await c.wait_for("type help")
    await c.line("create " + json.dumps(" ".join(["word"] * 100)))
    await c.until(lambda: buffer.received_ms >= 300)
    buffer.pull(2400)  # 100 ms reached the card
    await c.line("stop", expect="barge-in")
    out = flat(await c.line("responses", expect="played"))
    assert "generated N s · played N s" in out  # masked figures; the raw transcript has them
    assert "· played 0.10 s" in c.buffer.getvalue()


async def test_ctrl_c_stops_an_answer_that_is_done_but_still_playing(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    from console_harness import CTRL_C

    c = console_factory(server_url)
    _, buffer = playing_voice(c)
    await c.wait_for("type help")
    await c.line("one two three four", expect="· completed")
    buffer.pull(2400)  # 100 ms of the 400 ms reached the card
    c.type(CTRL_C)
    await c.wait_for("barge-in (Ctrl-C): heard 0.10 s of 0.40 s received")
    await c.until(lambda: bool(received(c, "conversation.item.truncated")))
    (truncate,) = sent(c, Client.conversation_item_truncate)
    assert truncate["audio_end_ms"] == 100
    assert sent(c, Client.response_cancel) == []  # it had finished: nothing to cancel


async def test_late_deltas_of_an_interrupted_answer_are_not_played(
    local_server: Callable[..., str],
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    c = console_factory(local_server(token_delay_ms=100))
    voice, buffer = playing_voice(c)
    await c.wait_for("type help")
    await c.line("create " + json.dumps(" ".join(["word"] * 100)))
    await c.until(lambda: buffer.received_ms >= 200)
    interrupted = buffer.response_id
    assert interrupted is not None and voice.barge_in("test")
    late = {
        "type": "response.output_audio.delta",
        "response_id": interrupted,
        "item_id": "item_late",
        "content_index": 0,
        "delta": base64.b64encode(tone(440, 100)).decode(),
    }
    voice._play(interrupted, late, "audio/pcm")  # a delta sent before the server saw the cancel
    assert buffer.response_id is None and buffer.pull(2400) == b""  # nothing of it plays again


async def test_responses_shows_what_played_after_the_panel(
    local_server: Callable[..., str],
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    """The panel prints at response.done, while the audio still plays: ``responses`` later says
    how much played by then (it stayed at the first buffer's worth)."""
    c = console_factory(local_server(token_delay_ms=0))
    _, buffer = playing_voice(c)
    await c.wait_for("type help")
    await c.line("create " + json.dumps("one two three"), expect="╰")
    assert buffer.played_ms == 0 and buffer.received_ms >= 300
    buffer.pull(buffer.received_samples)  # the card took all of it, after the panel
    await c.line("responses", expect="played")
    assert f"· played {buffer.played_ms / 1000:.2f} s" in c.buffer.getvalue()
    assert f"played {buffer.received_ms / 1000:.2f} s" in c.buffer.getvalue()


@pytest.mark.skipif(
    importlib.util.find_spec("miniaudio") is None, reason="the audio extra: pip install '.[audio]'"
)
async def test_the_console_plays_by_default_when_a_device_opens(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    c = console_factory(server_url)
    voice = Voice(c.shell, play=None, device="null")  # the console's default: play if it can
    await c.wait_for("type help")
    assert voice.player is None  # nothing opened before there is audio to play
    await c.line("create " + json.dumps("one two three"), expect="╰")
    assert voice.player is not None and voice.player.buffer.received_ms >= 300
    voice.player.close()


async def test_without_the_extra_the_default_is_quiet(
    server_url: str,
    console_factory: Callable[..., Console_],  # noqa: F811
) -> None:
    import sys

    c = console_factory(server_url)
    sys.modules["miniaudio"] = None  # type: ignore[assignment]
    try:
        voice = Voice(c.shell, play=None)
        await c.wait_for("type help")
        out = await c.line("create " + json.dumps("one two three"), expect="╰")
    finally:
        del sys.modules["miniaudio"]
    assert voice.player is None
    assert "audio extra" not in out and "one two three" in out
