"""rtc pipe --audio-out DIR: each response that spoke becomes DIR/<response id>.wav."""

from __future__ import annotations

import json
import wave
from pathlib import Path

from cli_run import rtc


def test_audio_out_dir_gets_one_wav_per_response(tmp_path: Path, server_url: str) -> None:
    item = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "one two"}],
        },
    }
    lines = [item, {"type": "response.create"}, {"rtc": "wait", "for": "response.done"}]
    lines.append({"type": "response.create", "response": {"output_modalities": ["text"]}})
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    out = tmp_path / "out"
    result = rtc("pipe", "--url", server_url, "--audio-out", str(out), stdin=stdin)
    assert result.returncode == 0, result.stderr
    (spoken,) = [json.loads(x) for x in result.stdout.splitlines() if '"response.done"' in x][:1]
    response_id = spoken["response"]["id"]
    path = out / f"{response_id}.wav"
    assert f"rtc: wrote {path} (0.20 s, 24000 Hz)" in result.stderr
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == 4800
    assert sorted(p.name for p in out.iterdir()) == [f"{response_id}.wav"]  # text: no file
