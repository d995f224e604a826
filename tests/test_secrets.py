"""A known key, given every way rtc accepts one, never shows up in anything rtc prints or writes:
stdout, stderr, recordings, the config and state directories."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RTC = [sys.executable, "-m", "realtime_cli"]
KEY = "sk-proj-LEAKCHECK-0123456789abcdefghijklmn"
TURN = (
    '{"type": "conversation.item.create", "item": {"type": "message", "role": "user", '
    '"content": [{"type": "input_text", "text": "hello"}]}}\n'
    '{"type": "response.create", "response": {"output_modalities": ["text"]}}\n'
)


def test_the_key_never_leaks(local_server: Callable[..., str], tmp_path: Path) -> None:
    url = local_server(api_key=KEY, token_delay_ms=2)
    bin_dir = tmp_path / "bin"  # outside the directories rtc may write to
    bin_dir.mkdir()
    helper = bin_dir / "get-key"
    helper.write_text(f"#!{sys.executable}\nprint({KEY!r})\n")
    helper.chmod(0o700)
    config_dir = Path(os.environ["RTC_CONFIG_DIR"])
    (config_dir / "config.toml").write_text(
        f'default_profile = "cmd"\n'
        f'[profiles.cmd]\nurl = "{url}"\nkey_command = ["{helper}"]\n'
        f'[profiles.env]\nurl = "{url}"\nkey_env = "LEAK_KEY"\n'
        f'[profiles.az]\nazure_endpoint = "{url.replace("ws://", "http://").split("/v1")[0]}"\n'
        f'deployment = "dep"\nkey_command = ["{helper}"]\n'
    )
    recording = tmp_path / "out" / "session.jsonl"
    recording.parent.mkdir()
    flag = ["--url", url, "--api-key", KEY]
    env_key = {"OPENAI_API_KEY": KEY, "RTC_URL": url}
    runs: list[tuple[list[str], dict[str, str], str | None]] = [
        (["create", "hello", *flag], {}, None),
        (["create", "hello", *flag, "--events"], {}, None),
        (["create", "hello", *flag, "--json"], {}, None),
        (["create", "hello", "--events", "--record", str(recording)], env_key, None),
        (["create", "hello", "--json"], {}, None),  # default profile: key_command
        (["create", "hello", "--profile", "env", "--events"], {"LEAK_KEY": KEY}, None),
        (["create", "hello", "--profile", "az", "--json"], {}, None),
        (["pipe", *flag], {}, TURN),
        (["pipe", "--pretty"], env_key, TURN),
        (["pipe", "--profile", "cmd", "--json"], {}, TURN),
        (["doctor", *flag], {}, None),
        (["doctor", "--json"], {}, None),
        (["doctor", "--profile", "az"], {}, None),
        (["config"], {}, None),
        (["config", "--json", *flag], {}, None),
        (["config", "--profile", "env"], {"LEAK_KEY": KEY}, None),
        (["config", "--json"], env_key, None),
        (["profile", "show", "cmd"], {}, None),
        (["profile", "list"], {}, None),
        # A wrong key: the server's error names it masked, rtc adds nothing of it.
        (["create", "hello", "--url", url, "--api-key", KEY[::-1]], {}, None),
    ]
    for args, extra, stdin in runs:
        result = subprocess.run(
            [*RTC, *args], capture_output=True, text=True, timeout=120, cwd=ROOT,
            input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            env={**os.environ, **extra},
        )  # fmt: skip
        expected = 3 if KEY[::-1] in args else 0
        assert result.returncode == expected, (args, result.stderr)
        for secret in (KEY, KEY[::-1]):
            assert secret not in result.stdout, args
            assert secret not in result.stderr, args
        if args[0] in ("config", "profile"):
            assert KEY[-4:] in result.stdout or "key_command" in result.stdout, args
    assert recording.stat().st_size > 0
    written = [
        path
        for directory in (config_dir, Path(os.environ["XDG_STATE_HOME"]), recording.parent)
        for path in directory.rglob("*")
        if path.is_file()
    ]
    assert recording in written
    for path in written:
        content = path.read_bytes()
        assert KEY.encode() not in content, path
        assert KEY[::-1].encode() not in content, path


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_key_in_the_url_query_is_redacted_in_config(how: str) -> None:
    url = f"wss://res.openai.azure.com/openai/realtime?api-key={KEY}&deployment=d"
    args = [*RTC, "config", *(["--url", url] if how == "flag" else [])]
    env = {**os.environ, **({"RTC_URL": url} if how == "env" else {})}
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    assert "api-key=%E2%80%A6klmn" in result.stdout or "api-key=…klmn" in result.stdout
