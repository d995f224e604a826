"""Commands that compare and load-test: ``rerun``, ``diff``, ``bench``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from realtime_cli.cli.app import app
from realtime_cli.cli.params import Connection, connects, finite
from realtime_cli.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from realtime_cli.tools.diff import Report

RERUN_EPILOG = """\
Exit codes: 0 every event was answered; 1 an answer did not come in time or the server sent an
error; 2 usage error; 3 could not connect; 4 connection lost.
"""


@app.command(epilog=RERUN_EPILOG)
@connects(record=True)
def rerun(
    recording: Annotated[
        Path,
        typer.Argument(help="A recording (--record).", metavar="RECORDING", show_default=False),
    ],
    fast: Annotated[
        bool,
        typer.Option(
            "--as-fast-as-possible", help="No recorded pauses: each event once answers are in."
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Give each wait for answers SECONDS.",
            metavar="SECONDS",
            min=0.1,
            callback=finite,
        ),
    ] = 60.0,
    *,
    connection: Connection,
) -> None:
    """Send a recording's client events again, to any endpoint, paced as recorded.

    Each event is sent when the recorded session sent it relative to the answers it was waiting
    for (pipe mode's end-of-work rule); --record NEW keeps the new session for rtc diff.

    Example: rtc rerun before.jsonl --model gpt-realtime-mini --record after.jsonl
    """
    import asyncio

    from realtime_cli.pipe.ledger import Ledger
    from realtime_cli.tools.rerun import RerunJob, run_rerun

    endpoint = connection.endpoint()
    with connection.recording() as recorder:
        job = RerunJob(recording, endpoint, Ledger, fast=fast, timeout=timeout, record=recorder)
        raise typer.Exit(asyncio.run(run_rerun(job)))


DIFF_EPILOG = """\
Exit codes: 0 the recordings match (within the tolerances); 1 they differ; 2 usage error.
"""


@app.command(epilog=DIFF_EPILOG)
def diff(
    a: Annotated[Path, typer.Argument(help="The recording before.", metavar="A")],
    b: Annotated[Path, typer.Argument(help="The recording after.", metavar="B")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="Leave out an aspect: status, text, calls, usage, cost, events (repeatable).",
            metavar="ASPECT",
        ),
    ] = None,
    max_latency_regression: Annotated[
        str | None,
        typer.Option(
            "--max-latency-regression",
            help="Count B's first delta or done as a difference past this much slower than A's, "
            "e.g. 20%. [default: timings are shown, never counted]",
            metavar="PERCENT",
        ),
    ] = None,
) -> None:
    """Compare two recordings response by response: status, text (word diff), function calls,
    usage and cost, event types; timings side by side.

    Example: rtc diff before.jsonl after.jsonl --ignore text --max-latency-regression 20%
    """
    import json

    from realtime_cli.tools.diff import ASPECTS, compare, parse_percent

    ignored = tuple(ignore or ())
    for aspect in ignored:
        if aspect not in ASPECTS:
            raise UsageError(f"--ignore: unknown aspect {aspect!r} (use {', '.join(ASPECTS)})")
    limit = None
    if max_latency_regression is not None:
        try:
            limit = parse_percent(max_latency_regression)
        except ValueError:
            raise UsageError(
                f"--max-latency-regression: want a percentage like 20%, got "
                f"{max_latency_regression!r}"
            ) from None
    report = compare(a, b, ignored, limit)
    if json_output:
        sys.stdout.write(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        _print_report(report)
    raise typer.Exit(ExitCode.OK if report.match else ExitCode.FAILED)


def _print_report(report: Report) -> None:
    from realtime_cli.protocol.summary import ms
    from realtime_cli.render import make_console, note, side_by_side

    out = make_console()
    for pair in report.pairs:
        ma, mb = pair.meters
        a, b = pair.a, pair.b

        def cell(value: object) -> str:
            return "-" if value is None else str(value)

        rows = [
            (
                "status",
                cell(a and a.status),
                cell(b and b.status),
                any("status" in d[:7] for d in pair.differences),
            ),
            (
                "tokens in/out",
                cell(ma and f"{ma.tokens.input}/{ma.tokens.output}"),
                cell(mb and f"{mb.tokens.input}/{mb.tokens.output}"),
                any(d.startswith("usage") for d in pair.differences),
            ),
            (
                "cost",
                cell(ma and ma.cost_text()),
                cell(mb and mb.cost_text()),
                any(d.startswith("cost") for d in pair.differences),
            ),
            (
                "first delta",
                ms(ma.first_delta if ma else None),
                ms(mb.first_delta if mb else None),
                any(d.startswith("latency: first") for d in pair.differences),
            ),
            (
                "done",
                ms(ma.done if ma else None),
                ms(mb.done if mb else None),
                any(d.startswith("latency: done") for d in pair.differences),
            ),
        ]
        title = f"response {pair.index}: " + ("same" if not pair.differences else "differs")
        out.print(side_by_side(title, cell(a and a.id), cell(b and b.id), rows))
        for difference in pair.differences:
            out.print(note(f"  {difference}", "yellow"), soft_wrap=True)
    if not report.pairs:
        out.print(note("no responses in either recording"))
    differing = sum(1 for p in report.pairs if p.differences)
    verdict = "match" if report.match else f"differ in {differing} of {len(report.pairs)} responses"
    ignored = f" (ignoring {', '.join(report.ignored)})" if report.ignored else ""
    out.print(
        note(
            f"{report.a} and {report.b}: {verdict}{ignored}",
            "green" if report.match else "bold yellow",
        ),
        soft_wrap=True,
    )


BENCH_EPILOG = """\
Exit codes: 0 every turn completed; 1 some did not (errors, refused or lost connections);
2 usage error (settings refused before anything connects); 130 interrupted (figures printed).
"""


@app.command(epilog=BENCH_EPILOG)
@connects()
def bench(
    sessions: Annotated[int, typer.Option("--sessions", help="Sessions in all.", metavar="N")] = 10,
    responses: Annotated[
        int, typer.Option("--responses", help="Turns per session.", metavar="M")
    ] = 1,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Sessions open at once.", metavar="C")
    ] = 10,
    duration: Annotated[
        float,
        typer.Option(
            "--duration",
            help="Stop starting turns after SECONDS (running ones get 5 s more).",
            metavar="SECONDS",
            callback=finite,
        ),
    ] = 300.0,
    ramp: Annotated[
        float,
        typer.Option(
            "--ramp",
            help="Open the first C sessions over SECONDS instead of at once.",
            metavar="SECONDS",
            callback=finite,
        ),
    ] = 0.0,
    prompt: Annotated[
        str, typer.Option("--prompt", help="The user message of each turn.", metavar="TEXT")
    ] = "Say hello",
    audio: Annotated[
        bool, typer.Option("--audio", help="Ask for audio and text out (default: text only).")
    ] = False,
    token_delay_ms: Annotated[
        float,
        typer.Option(
            "--token-delay-ms",
            help="The built-in server's delay between tokens (when it is the endpoint).",
            min=0,
            callback=finite,
        ),
    ] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    record_dir: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Record every session into DIR (session-00001.jsonl, ...).",
            metavar="DIR",
        ),
    ] = None,
    *,
    connection: Connection,
) -> None:
    """Load-test an endpoint: many real sessions doing the same turn; latency percentiles,
    tokens/s, responses by status, errors by code, refused and lost connections, and rtc's own
    CPU per response. With no endpoint, the built-in server runs as a separate process.

    Example: rtc bench --sessions 200 --concurrency 200 --responses 3
    """
    import asyncio
    import contextlib
    import dataclasses
    import json

    from realtime_cli.render import live_line, make_console, note
    from realtime_cli.tools.bench import BenchJob, local_server_process, progress_line, run_bench

    endpoint = connection.endpoint()
    job = BenchJob(
        endpoint,
        sessions=sessions,
        responses=responses,
        concurrency=concurrency,
        duration=duration,
        ramp=ramp,
        prompt=prompt,
        modalities=("audio",) if audio else ("text",),
        record_dir=record_dir,
    )
    job.check()
    err = make_console(sys.stderr, stderr=True)

    async def main() -> dict[str, object]:
        async with contextlib.AsyncExitStack() as stack:
            if endpoint.url is None:
                url = await stack.enter_async_context(local_server_process(token_delay_ms))
                job.endpoint = dataclasses.replace(endpoint, url=f"{url}?model={endpoint.model}")
                err.print(note(f"rtc: bench: the built-in local server at {url}"))
            show = stack.enter_context(live_line(err))
            stats = await run_bench(job, lambda s: show(progress_line(s, job)))
            return stats.as_json()

    figures = asyncio.run(main())
    if json_output:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    else:
        _print_bench(figures)
    counted = figures["responses"]
    assert isinstance(counted, dict)
    failed = any(figures[k] for k in ("errors", "connections_refused", "connections_lost"))
    failed = failed or bool(set(counted["by_status"]) - {"completed"})
    code = ExitCode.FAILED if failed else ExitCode.OK
    raise typer.Exit(ExitCode.INTERRUPTED if figures["stopped_early"] == "interrupted" else code)


def _print_bench(figures: dict[str, object]) -> None:
    from realtime_cli.render import figures_table, make_console, note

    out = make_console()
    rows = []
    for name, key, unit in (
        ("first delta", "first_delta_ms", " ms"),
        ("done", "done_ms", " ms"),
        ("output tokens/s", "output_tokens_per_s", ""),
    ):
        values = figures[key]
        assert isinstance(values, dict)
        cells = [values[k] for k in ("p50", "p95", "p99", "max")]
        rows.append(
            [name, *("-" if c is None else f"{c:g}{unit}" for c in cells), str(values["count"])]
        )
    out.print(figures_table("rtc bench", ["", "p50", "p95", "p99", "max", "n"], rows))

    def counts(value: object) -> str:
        assert isinstance(value, dict)
        return ", ".join(f"{n} {k}" for k, n in value.items()) or "none"

    responses = figures["responses"]
    sessions = figures["sessions"]
    assert isinstance(responses, dict) and isinstance(sessions, dict)
    lines = [
        f"sessions: {sessions['finished']} finished of {sessions['started']} started"
        f" · {figures['elapsed_s']} s · {figures['responses_per_s']} responses/s",
        f"responses: {responses['total']} ({counts(responses['by_status'])})"
        f" · {figures['server_events']} server events ({figures['server_events_per_s']}/s)",
        f"errors: {counts(figures['errors'])}",
        f"connections refused: {counts(figures['connections_refused'])}"
        f" · lost: {counts(figures['connections_lost'])}",
        f"client CPU: {figures['client_cpu_s']} s ({figures['client_cpu_percent']}% of one core)"
        f" · {figures['client_cpu_ms_per_response']} ms per response",
    ]
    if figures["stopped_early"]:
        why = "time was up" if figures["stopped_early"] == "time" else "interrupted"
        lines.append(f"stopped early: {why}; these are the figures so far")
    for line in lines:
        out.print(note(line), soft_wrap=True)
