"""config.toml: where it lives, what a mistake in it looks like, adding profiles, and keys from
environment variables and commands."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from realtime_cli.endpoint.keys import KeySource, run_key_command
from realtime_cli.endpoint.profile_write import add_profile
from realtime_cli.endpoint.profiles import config_dir, load, parse
from realtime_cli.errors import ConnectError, ExitCode, UsageError

KEY = "sk-cmd-0123456789abcdefghijKEYS"


def test_config_dir_rtc_config_dir_then_xdg_then_home() -> None:
    assert config_dir({"RTC_CONFIG_DIR": "/a", "XDG_CONFIG_HOME": "/x"}) == Path("/a")
    assert config_dir({"XDG_CONFIG_HOME": "/x"}) == Path("/x/rtc")
    assert config_dir({}) == Path.home() / ".config" / "rtc"


def test_missing_file_is_an_empty_configuration(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert not config.exists and config.profiles == {} and config.default_profile is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[profiles.a]\nkind = "openai"\nmodel = \n', "line 3, column 9: invalid value"),
        ("[profiles.a\n", "line 1, column 12: expected ']' at the end of a table declaration"),
        ('x = "1"\n', "line 1: unknown key 'x' (expected: default_profile, profiles, prices)"),
        (
            '[profiles.a]\nkind = "openai"\nmodle = "m"\n',
            "line 3: profile 'a': unknown key 'modle'",
        ),
        (
            '\n[profiles.a]\nkind = "azur"\n',
            "line 3: profile 'a': kind must be one of openai, azure",
        ),
        ('default_profile = "b"\n[profiles.a]\n', "line 1: default_profile 'b' is not a profile"),
        ('[profiles.a]\nkey_env = "sk-live-123"\n', "line 2: profile 'a': key_env must name an"),
        ("[profiles.a]\nkey_command = 3\n", "line 2: profile 'a': key_command must be a list"),
        ('[profiles.a]\nkind = "url"\n', "line 2: profile 'a': kind 'url' needs url"),
    ],
)
def test_a_mistake_is_one_line_with_the_file_and_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(text, Path("/cfg/config.toml"))
    assert info.value.exit_code == ExitCode.USAGE
    assert info.value.message.startswith(f"/cfg/config.toml: {message}"), info.value.message
    assert "\n" not in info.value.message
    assert "sk-live-123" not in info.value.message  # a key pasted into key_env is not echoed


def test_session_table_gets_its_type_and_a_json_string_can_say_null() -> None:
    config = parse(
        '[profiles.a]\nsession = \'{"audio": {"input": {"turn_detection": null}}}\'\n'
        "[profiles.b.session]\ninstructions = 'hi'\n",
        Path("c.toml"),
    )
    assert config.profiles["a"].session == {
        "type": "realtime",
        "audio": {"input": {"turn_detection": None}},
    }
    assert config.profiles["b"].session == {"type": "realtime", "instructions": "hi"}


def test_add_profile_appends_keeps_comments_and_writes_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# my settings\n[profiles.old]  # keep me\nkind = "local"\n')
    path.chmod(0o644)
    add_profile(tmp_path, "work", {"azure_endpoint": "https://w.openai.azure.com", "deployment": "d",
                                   "key_command": ["pass", "show", "w"], "headers": {"X-A": "1"}},
                make_default=True)  # fmt: skip
    text = path.read_text()
    assert text.startswith('# my settings\ndefault_profile = "work"\n\n[profiles.old]  # keep me\n')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = load(tmp_path)
    assert config.default_profile == "work"
    work = config.profiles["work"]
    assert (work.kind, work.deployment, work.key_command) == ("azure", "d", ("pass", "show", "w"))
    assert work.headers == {"X-A": "1"}


def test_add_profile_refuses_to_replace_without_force(tmp_path: Path) -> None:
    add_profile(tmp_path, "a", {"model": "m1", "session": {"instructions": "x"}})
    with pytest.raises(UsageError, match="profile 'a' exists"):
        add_profile(tmp_path, "a", {"model": "m2"})
    add_profile(tmp_path, "b", {"kind": "local"})
    add_profile(tmp_path, "a", {"model": "m2"}, replace=True)
    config = load(tmp_path)
    assert config.profiles["a"].model == "m2" and config.profiles["a"].session is None
    assert list(config.profiles) == ["a", "b"]  # replaced where it stood
    with pytest.raises(UsageError, match="kind must be one of"):
        add_profile(tmp_path, "c", {"kind": "ftp"})
    assert "c" not in load(tmp_path).profiles


# -- keys ---------------------------------------------------------------------------------------


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "key-helper"
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(0o700)
    return path


def test_key_command_as_a_list_runs_without_a_shell(tmp_path: Path) -> None:
    helper = script(tmp_path, f"print('\\n{KEY}\\nsecond line ignored')")
    assert run_key_command((str(helper),), 10, "work") == KEY
    # A string goes through the shell.
    assert run_key_command(f"'{helper}' | cat", 10, "work") == KEY


def test_a_failing_key_command_names_the_profile_and_status_never_its_output(
    tmp_path: Path,
) -> None:
    helper = script(
        tmp_path, f"import sys; print('{KEY}'); print('{KEY}', file=sys.stderr); sys.exit(7)"
    )
    with pytest.raises(ConnectError) as info:
        run_key_command((str(helper), "--vault", "x"), 10, "work")
    assert info.value.exit_code == ExitCode.CONNECT
    assert info.value.message == (
        f"profile 'work': key_command {str(helper)!r} failed with exit status 7 "
        "(its output is not shown; run it yourself to see why)"
    )
    with pytest.raises(ConnectError, match="printed nothing on stdout"):
        run_key_command((str(script(tmp_path, "pass")),), 10, "work")
    with pytest.raises(ConnectError, match="key_command 'no-such-command-rtc' cannot run"):
        run_key_command(("no-such-command-rtc",), 10, "work")
    slow = script(tmp_path, "import time; time.sleep(5)")
    with pytest.raises(ConnectError, match=r"timed out after 0\.2s"):
        run_key_command((str(slow),), 0.2, "work")


def test_a_plain_text_key_warns_when_others_can_read_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    source = KeySource("plain", "p", KEY, config_path=path)
    warnings: list[str] = []
    path.chmod(0o600)
    assert source.get({}, warnings.append) == KEY and warnings == []
    path.chmod(0o640)
    assert source.get({}, warnings.append) == KEY
    assert warnings == [
        f"rtc: warning: {path} holds an API key in plain text and is readable by others "
        f"(chmod 600 {path}, or use key_env/key_command)"
    ]
    assert KEY not in warnings[0]


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_add_profile_creates_a_private_directory(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "rtc"
    add_profile(directory, "a", {"kind": "local"})
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
