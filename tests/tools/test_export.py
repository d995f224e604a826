"""`rtc export`: a Markdown transcript of a recording, and a WAV file per response whose header
and samples match the audio the server sent (PCM16 24 kHz, and G.711 u-law / A-law at 8 kHz)."""

from __future__ import annotations

import base64
import json
import re
import wave
from pathlib import Path
from typing import Any

import pytest
from cli_run import ROOT, rtc
from proxy import relay

from realtime_cli.audio import codecs as audio

CORPUS = ROOT / "tests" / "data" / "realtime_corpus"
IDS = re.compile(r"\b(resp|item|conv|sess|call)_[A-Za-z0-9]{21}\b")


def masked(text: str) -> str:
    text = IDS.sub(r"\1_…", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"recorded \S+ ·", "recorded TIME ·", text)
    text = re.sub(r"\b\d+ ms\b", "N ms", text)
    return re.sub(r"over \d+\.\d+ s", "over N s", text)


TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]
CONVERSATION = [
    {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                                           "tools": TOOLS}},
    {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "What does get_weather say for Paris?"}]}},
    {"type": "response.create", "response": {"metadata": {"turn": "1"}}},
    {"rtc": "wait", "for": "response.done"},
    {"type": "conversation.item.create", "item": {"type": "function_call_output",
                                                  "call_id": "call_1", "output": "sunny, 21 C"}},
    {"type": "response.create"},
    {"rtc": "wait", "for": "response.done"},
    {"type": "response.create", "event_id": "again"},
    {"type": "response.create", "event_id": "too-soon"},
]  # fmt: skip

TRANSCRIPT = """\
# Transcript: chat.jsonl

- recorded TIME · ws://127.0.0.1:PORT/v1/realtime · gpt-realtime · rtc 0.1.0
- session: sess_… · gpt-realtime · modalities text

## Conversation

**User**

What does get_weather say for Paris?

**Assistant** · `resp_…` · completed

Function call `get_weather` · `call_…`

```json
{
  "city": "example"
}
```

- usage: 25 total · 23 in · 2 out
- estimated cost: $0.000124
- metadata: turn=1

**Function output** · `call_1`

```
sunny, 21 C
```

**Assistant** · `resp_…` · completed

sunny, 21 C

- usage: 30 total · 27 in · 3 out
- estimated cost: $0.000156

**Assistant** · `resp_…` · completed

sunny, 21 C

- usage: 33 total · 30 in · 3 out
- estimated cost: $0.000168

> **Error** `conversation_already_has_active_response`: Conversation already has an active \
response in progress: resp_…. Wait until the response is finished before creating a new one. \
(answers `too-soon`, response.create)

## Responses

| response | status | reason | tokens in/out | first delta | total | metadata |
|---|---|---|---|---|---|---|
| `resp_…` | completed |  | 23/2 | N ms | N ms | turn=1 |
| `resp_…` | completed |  | 27/3 | N ms | N ms |  |
| `resp_…` | completed |  | 30/3 | N ms | N ms |  |

## Totals

- events: 50 (43 server, 7 client) over N s
- responses: 3 (3 completed)
- tokens: 88 total · 80 in · 8 out
- estimated cost: $0.000448 (prices of 2026-12-02)
- errors: 1
"""


def test_markdown_transcript_of_a_conversation(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    script = "\n".join(json.dumps(event) for event in CONVERSATION)
    piped = rtc("pipe", "--url", server_url, "--record", str(path), stdin=script)
    assert piped.returncode == 1, piped.stderr  # the too-soon response.create was refused
    result = rtc("export", str(path), "--format", "md")
    assert result.returncode == 0, result.stderr
    assert masked(result.stdout) == TRANSCRIPT
    out = tmp_path / "chat.md"
    written = rtc("export", str(path), "-o", str(out))
    assert written.returncode == 0 and written.stderr == f"wrote {out}\n"
    assert out.read_text() == result.stdout


def test_markdown_of_audio_and_of_the_beta_corpus(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "spoken.jsonl"
    assert rtc("create", "one two", "--url", server_url, "--record", str(path)).returncode == 0
    text = rtc("export", str(path)).stdout
    assert "**User**\n\none two\n" in text
    assert "one two\n\n*(audio 0.20 s, 9,600 bytes)*" in text
    assert "- output audio: 0.20 s (9,600 bytes)" in text
    beta = rtc("export", str(CORPUS / "beta_text_response_liusida.jsonl"))
    assert beta.returncode == 0 and '"word": "pending"' in beta.stdout
    assert "- metadata: request_id=a68f767f-0d18-4494-9012-f113cf16d43a" in beta.stdout
    assert "- tokens: 151 total · 72 in · 79 out" in beta.stdout


def sent_audio(frames: list[str]) -> dict[str, list[bytes]]:
    """What the server sent: the output audio deltas of each response, still encoded."""
    deltas: dict[str, list[bytes]] = {}
    for event in map(json.loads, frames):
        if event["type"] == "response.output_audio.delta":
            deltas.setdefault(event["response_id"], []).append(base64.b64decode(event["delta"]))
    return deltas


def read_wav(path: Path) -> tuple[tuple[int, int, int], bytes]:
    with wave.open(str(path), "rb") as wav:
        shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
        return shape, wav.readframes(wav.getnframes())


@pytest.mark.parametrize(
    ("fmt", "rate"), [("audio/pcm", 24000), ("audio/pcmu", 8000), ("audio/pcma", 8000)]
)
def test_wav_per_response_matches_the_audio_the_server_sent(
    server_url: str, tmp_path: Path, fmt: str, rate: int
) -> None:
    path = tmp_path / "audio.jsonl"
    output: dict[str, Any] = {"format": {"type": fmt}}
    script = "\n".join(
        json.dumps(event)
        for event in [
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"output": output}},
            },
            {"type": "response.create", "response": {"instructions": "one two three"}},
            {"rtc": "wait", "for": "response.done"},
            {"type": "response.create", "response": {"instructions": "four five"}},
        ]
    )
    with relay(server_url) as proxy:
        piped = rtc("pipe", "--url", proxy.url, "--record", str(path), stdin=script)
    assert piped.returncode == 0, piped.stderr
    sent = sent_audio(proxy.server_frames)
    assert len(sent) == 2
    out = tmp_path / "wavs"
    result = rtc("export", str(path), "--format", "wav", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line, (response_id, deltas) in zip(lines, sent.items(), strict=True):
        wav_path = out / f"{response_id}.wav"
        pcm = audio.decode(b"".join(deltas), fmt)
        seconds = len(pcm) / 2 / rate
        assert (
            line == f"wrote {wav_path}  {seconds:.2f} s · {rate} Hz · {fmt} · {len(deltas)} deltas"
        )
        shape, frames = read_wav(wav_path)
        assert shape == (1, 2, rate)  # mono, 16-bit, the format's rate
        assert frames == pcm  # every sample the server sent, decoded
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{r}.wav" for r in sent)


def test_wav_export_errors(server_url: str, tmp_path: Path) -> None:
    text_only = tmp_path / "text.jsonl"
    rtc("create", "hi", "--modality", "text", "--url", server_url, "--record", str(text_only))
    result = rtc("export", str(text_only), "-f", "wav", "-o", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == f"rtc: error: no output audio in {text_only}\n"
    dropped = tmp_path / "dropped.jsonl"
    rtc("create", "hi", "--url", server_url, "--record", str(dropped), "--record-audio", "no")
    result = rtc("export", str(dropped), "-f", "wav", "-o", str(tmp_path))
    assert result.returncode == 1
    assert "(it was recorded with --record-audio no)" in result.stderr
    result = rtc("export", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2 and "cannot read" in result.stderr
