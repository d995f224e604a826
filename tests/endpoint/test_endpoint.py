"""Endpoint selection (flag > environment > default) and redaction."""

from __future__ import annotations

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.endpoint.select import select_endpoint
from realtime_cli.protocol.redact import redact, redact_url

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


def test_no_url_no_key_means_the_local_server() -> None:
    endpoint = select_endpoint(url=None, api_key=None, model=None, local=False, environ={})
    assert endpoint.local and endpoint.model == "gpt-realtime"
    assert endpoint.display == "built-in local server"


def test_key_from_environment_selects_openai_ga_without_beta_header() -> None:
    endpoint = select_endpoint(
        url=None, api_key=None, model=None, local=False,
        environ={"OPENAI_API_KEY": KEY, "RTC_MODEL": "gpt-realtime-mini"},
    )  # fmt: skip
    assert endpoint.url == "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini"
    assert dict(endpoint.headers) == {"Authorization": f"Bearer {KEY}"}
    assert KEY not in endpoint.display


def test_flags_beat_environment_and_url_is_used_exactly() -> None:
    environ = {"OPENAI_API_KEY": "sk-env", "RTC_URL": "ws://env/v1/realtime", "RTC_MODEL": "m1"}
    endpoint = select_endpoint(
        url="ws://flag:1/x?y=z&model=q", api_key=KEY, model="m2", local=False, environ=environ
    )
    assert endpoint.url == "ws://flag:1/x?y=z&model=q"
    assert endpoint.headers["Authorization"] == f"Bearer {KEY}"
    assert endpoint.model == "m2"
    env_only = select_endpoint(url=None, api_key=None, model=None, local=False, environ=environ)
    assert env_only.url == "ws://env/v1/realtime" and env_only.model == "m1"


def test_local_flag_forces_the_local_server() -> None:
    endpoint = select_endpoint(
        url="ws://x", api_key=KEY, model=None, local=True, environ={"OPENAI_API_KEY": KEY}
    )
    assert endpoint.local and not endpoint.headers


def test_redaction_shows_at_most_the_last_four_characters() -> None:
    assert redact(KEY) == "…0123"
    assert redact("short") == "****"
    url = redact_url(f"wss://res.openai.azure.com/openai/realtime?api-key={KEY}&deployment=d")
    assert KEY not in url and "deployment=d" in url and "0123" in url
    assert redact_url("wss://user:pass@host/x") == "wss://****@host/x"
    endpoint = Endpoint("ws://h/x", secrets=(KEY,))
    assert endpoint.scrub(f"bad key {KEY}!") == "bad key …0123!"


def test_redacted_urls_stay_readable_and_hide_sas_signatures() -> None:
    url = f"wss://r.openai.azure.com/openai/realtime?api-key={KEY}&deployment=my%20d&sig=SIGNATURE0123456789"
    assert redact_url(url) == (
        "wss://r.openai.azure.com/openai/realtime?api-key=…0123&deployment=my%20d&sig=…6789"
    )
