"""The README's Endpoints section says what rtc does: its config.toml example parses and selects
the URLs shown, and its `rtc config` / `rtc doctor` examples have today's rows."""

from __future__ import annotations

import re
from pathlib import Path

from realtime_cli.endpoint.profiles import parse
from realtime_cli.endpoint.select import ConnectionOptions, select
from realtime_cli.tools.doctor import STEPS

ROOT = Path(__file__).resolve().parents[2]


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Endpoints\n")
    return text[start : text.index("\n## ", start + 1)]


def block(language: str, after: str) -> str:
    text = section()
    start = text.index(after)
    match = re.search(rf"^```{language}\n(.*?)^```$", text[start:], flags=re.M | re.S)
    assert match, f"no {language} block after {after!r}"
    return match.group(1)


def test_the_config_example_parses_and_selects_what_rtc_config_shows() -> None:
    config = parse(block("toml", "### Profiles"), Path("/home/ada/.config/rtc/config.toml"))
    assert list(config.profiles) == ["work", "oai", "gateway"]
    assert config.default_profile == "work"
    shown = block("text", "### `rtc config`")
    environ = {"CONTOSO_AZURE_KEY": "8f2c0d7e55b14a9c9e0f3b1a7d64c2e1"}
    work = select(ConnectionOptions(), environ, config)
    assert f"url          {work.url}  ← profile work (default_profile)" in shown
    gateway = select(ConnectionOptions(profile="gateway"), {}, config)
    assert f"url          {gateway.url}  ← --profile gateway" in shown
    assert config.profiles["oai"].session == {
        "type": "realtime",
        "instructions": "Answer briefly.",
        "output_modalities": ["text"],
    }


def test_the_doctor_example_has_every_check() -> None:
    shown = block("text", "### `rtc doctor`")
    names = ["handshake", "session.created", *(name for name, _ in STEPS), "GA event types"]
    rows = [line for line in shown.splitlines() if line[:1].isalpha() and "   pass   " in line]
    assert [row.split("   ")[0] for row in rows] == names
