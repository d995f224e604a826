"""Commands that work on their own or on files: ``serve``, ``replay``, ``export``,
``completions``, and the ``doctor`` probe."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from realtime_cli.cli.app import app
from realtime_cli.cli.params import Connection, connects, finite
from realtime_cli.errors import ExitCode, RtcError, UsageError


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on.", metavar="HOST")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", help="Port (0 picks a free one).", min=0, max=65535, metavar="PORT"),
    ] = 8765,
    token_delay_ms: Annotated[
        float,
        typer.Option(
            "--token-delay-ms",
            help="Delay between output tokens.",
            min=0,
            callback=finite,
            metavar="MS",
        ),
    ] = 20,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="Require this key (Bearer or api-key header).",
            show_default=False,
            metavar="KEY",
        ),
    ] = None,
) -> None:
    """Run the built-in local Realtime server (GA protocol, deterministic model).

    The first line on stdout is the URL to connect to. Stop with Ctrl-C.

    Example: rtc serve --port 0 --token-delay-ms 50
    """
    import asyncio

    from realtime_cli.server.app import serve_forever

    def announce(url: str) -> None:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(_until_signalled(serve_forever(host, port, token_delay_ms, api_key, announce)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise RtcError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` until it ends or SIGTERM arrives (a process manager stopping the server),
    which cancels it like Ctrl-C does, so clients get a clean close."""
    import asyncio
    import signal

    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


RecordingArg = Annotated[
    Path,
    typer.Argument(
        help="A recording (--record), or JSON Lines of server events.",
        metavar="FILE",
        show_default=False,
    ),
]


@app.command()
def replay(
    file: RecordingArg,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            help="Play N times as fast as recorded (pauses at most 2 s). [default: 1]",
            metavar="N",
            callback=finite,
        ),
    ] = None,
    instant: Annotated[bool, typer.Option("--instant", help="No pauses: all at once.")] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the server events as JSON lines (at once, unless --speed)."
        ),
    ] = False,
) -> None:
    """Show a recording as the live session showed it: event rows, errors, response panels.

    Also reads plain JSON Lines of server events (GA or beta names) and rows that wrap one
    under "event"; lines without a usable event are skipped with a notice on stderr.

    Example: rtc replay session.jsonl --speed 4
    """
    from realtime_cli.tools.replay import ReplayJob, run_replay

    if speed is not None and speed <= 0:
        raise UsageError(f"--speed must be more than 0, got {speed:g}")
    job = ReplayJob(file, speed=speed, instant=instant, json_output=json_output)
    raise typer.Exit(run_replay(job))


@app.command()
def export(
    file: RecordingArg,
    format_: Annotated[
        Literal["md", "wav"],
        typer.Option(
            "--format",
            "-f",
            help="md: a Markdown transcript; wav: a WAV file per response with output audio.",
            metavar="md|wav",
        ),
    ] = "md",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="md: the file to write [default: stdout]; wav: the directory [default: .].",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Turn a recording into a Markdown transcript or WAV files.

    Example: rtc export session.jsonl --format wav --out audio/
    """
    from realtime_cli.tools.export import run_export

    run_export(file, format_, out, sys.stdout, sys.stderr)


COMPLETION_FILES = {"bash": "rtc.bash", "zsh": "_rtc", "fish": "rtc.fish"}


_ZSH_REGISTER = "compdef _rtc_completion rtc"
# typer's zsh script only registers its function, so as an autoloaded ``_rtc`` in $fpath the
# first Tab completes nothing. This ending (click's) completes at once when autoloaded and still
# registers when the file is sourced.
_ZSH_AUTOLOAD = """\
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _rtc_completion "$@"
else
  compdef _rtc_completion rtc
fi"""


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, built by typer as ``rtc --show-completion`` does: it
    asks rtc itself for the candidates, so it never goes stale as options change."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="rtc", complete_var="_RTC_COMPLETE", shell=shell)
    if shell == "zsh" and script.endswith(_ZSH_REGISTER):
        script = script.removesuffix(_ZSH_REGISTER) + _ZSH_AUTOLOAD
    return script + "\n"


@app.command()
def completions(
    shell: Annotated[
        Literal["bash", "zsh", "fish"] | None,
        typer.Argument(help="Print the script for this shell.", show_default=False),
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            help="Write all three scripts into DIR (rtc.bash, _rtc, rtc.fish).",
            metavar="DIR",
        ),
    ] = None,
) -> None:
    """Shell completion scripts for bash, zsh and fish (see the README to install them).

    Example: rtc completions bash > ~/.local/share/bash-completion/completions/rtc
    """
    if (shell is None) == (write is None):
        raise UsageError("give a shell (bash, zsh, fish) or --write DIR")
    if shell is not None:
        sys.stdout.write(completion_script(shell))
        return
    assert write is not None
    for name, filename in COMPLETION_FILES.items():
        path = write / filename
        try:
            write.mkdir(parents=True, exist_ok=True)
            path.write_text(completion_script(name), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--write: cannot write {path}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {path}")


DOCTOR_EPILOG = """\
Exit codes: 0 every check passed (or could not be exercised); 1 a check failed or is not
supported; 2 usage error; 3 could not connect or authenticate.
"""


@app.command(epilog=DOCTOR_EPILOG)
@connects()
def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Give each check SECONDS.",
            metavar="SECONDS",
            min=0.1,
            callback=finite,
        ),
    ] = 15.0,
    *,
    connection: Connection,
) -> None:
    """Probe an endpoint: handshake, session.update, a text response, an out-of-band response,
    cancelling, error answers, event names. One row per check: pass, fail, not supported.

    Example: rtc doctor --profile work
    """
    import asyncio
    import json

    from realtime_cli.render import doctor_table, make_console, note
    from realtime_cli.tools.doctor import probe

    endpoint = connection.endpoint()
    err = make_console(sys.stderr, stderr=True)
    report = asyncio.run(
        probe(endpoint, step_timeout=timeout, announce=lambda line: err.print(note(line)))
    )
    for check in report.checks:  # whatever a server echoes, no secret of ours is shown
        check.detail = endpoint.scrub(check.detail)
    report.notes = [endpoint.scrub(line) for line in report.notes]
    if json_output:
        sys.stdout.write(endpoint.scrub(json.dumps(report.as_json(), indent=2)) + "\n")
        sys.stdout.flush()
    else:
        out = make_console()
        out.print(note(f"rtc doctor · {report.endpoint} · {report.model}", "bold"), soft_wrap=True)
        rows = [(c.name, c.status, c.detail) for c in report.checks]
        out.print(doctor_table(rows), soft_wrap=False)
        for line in report.notes:
            out.print(note(line), soft_wrap=True)
        failed = [c for c in report.checks if c.status not in ("pass", "not exercised")]
        verdict = f"{len(failed)} of {len(report.checks)} checks did not pass" if failed else ""
        verdict = "could not connect" if report.error is not None else verdict
        out.print(note(verdict or "every check passed", "bold red" if failed else "green"))
    if report.error is not None:  # could not connect: the report, then the error line, exit 3
        raise report.error
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.FAILED)
