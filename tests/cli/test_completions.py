"""Shell completions: the scripts in completions/ are what the CLI generates today (regenerate
with `rtc completions --write completions`), they complete in a real bash, and the zsh/fish
protocol and `rtc --install-completion` work through rtc's own entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"
FILES = {"bash": "rtc.bash", "zsh": "_rtc", "fish": "rtc.fish"}
BIN = Path(sys.executable).parent  # where the `rtc` entry point was installed


def rtc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "rtc"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def test_the_rtc_entry_point_is_installed() -> None:
    assert (BIN / "rtc").exists(), f"no rtc next to {sys.executable}: pip install -e ."


def test_the_committed_scripts_are_up_to_date(tmp_path: Path) -> None:
    result = rtc("completions", "--write", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"wrote {tmp_path / name}" for name in FILES.values()]
    for name in FILES.values():
        fresh = (tmp_path / name).read_text()
        assert (COMPLETIONS / name).read_text() == fresh, (
            f"completions/{name} is out of date: run `rtc completions --write completions`"
        )


@pytest.mark.parametrize("shell", sorted(FILES))
def test_completions_prints_each_script(shell: str) -> None:
    result = rtc("completions", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (COMPLETIONS / FILES[shell]).read_text()
    assert "_RTC_COMPLETE=complete_" in result.stdout


def test_completions_needs_a_shell_or_a_directory() -> None:
    for args in ((), ("bash", "--write", "x")):
        result = rtc("completions", *args)
        assert result.returncode == 2
        assert "give a shell (bash, zsh, fish) or --write DIR" in result.stderr
    assert rtc("completions", "tcsh").returncode == 2


def bash_complete(words: str, cword: int) -> list[str]:
    script = f"""
source {COMPLETIONS / "rtc.bash"}
COMP_WORDS=({words})
COMP_CWORD={cword}
_rtc_completion rtc
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_bash_script_completes_in_bash() -> None:
    assert bash_complete("rtc rep", 1) == ["repl", "replay"]
    assert bash_complete("rtc export f.jsonl --format ''", 4) == ["md", "wav"]
    assert "--record-audio" in bash_complete("rtc create --rec", 2)
    assert bash_complete("rtc completions ''", 2) == ["bash", "zsh", "fish"]


def test_the_zsh_and_fish_protocols_answer() -> None:
    zsh = rtc(env={"_RTC_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "rtc replay --"})
    assert zsh.returncode == 0 and '"--speed":' in zsh.stdout and '"--instant":' in zsh.stdout
    fish = rtc(
        env={
            "_RTC_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            "_TYPER_COMPLETE_ARGS": "rtc create --mod",
        }
    )
    assert fish.returncode == 0
    assert [line.split("\t")[0] for line in fish.stdout.splitlines()] == ["--modality", "--model"]


def test_install_completion_works_through_rtc_main(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = rtc("--install-completion", "bash", env=env)
    assert result.returncode == 0, result.stderr
    installed = tmp_path / ".bash_completions" / "rtc.sh"
    assert f"bash completion installed in {installed}" in result.stdout
    assert installed.read_text().strip() == (COMPLETIONS / "rtc.bash").read_text().strip()
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text()
    shown = rtc("--show-completion", "fish", env=env)
    assert shown.returncode == 0
    assert shown.stdout == (COMPLETIONS / "rtc.fish").read_text()


def test_the_zsh_script_completes_on_the_first_tab_when_autoloaded() -> None:
    """As ``_rtc`` in $fpath zsh autoloads the file on the first Tab: it must complete then
    (typer's own script only registers itself, so that Tab completed nothing); sourced, it
    registers. Checked by hand in zsh 5.9 through zpty; CI has no zsh."""
    script = (COMPLETIONS / "_rtc").read_text()
    assert script.startswith("#compdef rtc\n")
    assert script.endswith(
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
        '  _rtc_completion "$@"\n'
        "else\n"
        "  compdef _rtc_completion rtc\n"
        "fi\n"
    )
