"""Tool handlers run as real processes: what they are given and what comes back."""

from __future__ import annotations

import sys

from realtime_cli.session.handlers import parse_handler, run_handler


async def test_a_handler_gets_its_call_but_never_the_endpoints_key() -> None:
    script = (
        "import json, os, sys; args = json.load(sys.stdin); "
        "print(os.environ['RTC_TOOL_NAME'], os.environ['RTC_CALL_ID'], args['city'], "
        "os.environ.get('OPENAI_API_KEY', 'no key'), os.environ.get('MY_TOKEN'))"
    )
    handler = parse_handler(f'get_weather={sys.executable} -c "{script}"')
    result = await run_handler(
        handler,
        tool="get_weather",
        call_id="call_1",
        arguments='{"city": "Paris"}',
        env={
            "OPENAI_API_KEY": "sk-secret-0123456789abcdef",
            "MY_TOKEN": "mine",
            "PATH": "/usr/bin",
        },
    )
    assert result.ok
    assert result.output.strip() == "get_weather call_1 Paris no key mine"
