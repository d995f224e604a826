"""Endpoint selection, unit level (no network): the exact URL, query and headers rtc would send
for each kind of endpoint, and which setting wins (flag > environment > profile > default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from realtime_cli.endpoint.profiles import ConfigFile, parse
from realtime_cli.endpoint.select import ConnectionOptions, Selection, select
from realtime_cli.errors import ConnectError, ExitCode, UsageError

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
AZKEY = "0123456789abcdef0123456789abAZKY"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOi-entra-TOKN"
CONFIG = """\
default_profile = "home"

[profiles.home]
kind = "openai"
model = "gpt-realtime-mini"
key_env = "HOME_KEY"

[profiles.work]
kind = "azure"
azure_endpoint = "https://work.openai.azure.com"
deployment = "work-deploy"
key_env = "WORK_KEY"
headers = { "X-Team" = "realtime" }

[profiles.work.session]
instructions = "Be brief."
output_modalities = ["text"]

[profiles.proxy]
url = "wss://gateway.example/realtime?tenant=t1"
auth = "api-key"
api_key = "pk-0000000000000000PLAIN"
subprotocols = ["realtime"]
"""


def config(text: str = CONFIG) -> ConfigFile:
    return parse(text, Path("/cfg/config.toml"))


def pick(
    environ: dict[str, str] | None = None, cfg: ConfigFile | None = None, **opts: Any
) -> Selection:
    return select(ConnectionOptions(**opts), environ or {}, cfg)


def wire(
    selection: Selection, environ: dict[str, str] | None = None
) -> tuple[str | None, dict[str, str]]:
    endpoint = selection.endpoint()
    return endpoint.url, dict(endpoint.headers)


# -- OpenAI -------------------------------------------------------------------------------------


def test_openai_default_url_and_bearer_header() -> None:
    selection = pick({"OPENAI_API_KEY": KEY})
    assert selection.kind == "openai"
    assert wire(selection) == (
        "wss://api.openai.com/v1/realtime?model=gpt-realtime",
        {"Authorization": f"Bearer {KEY}"},
    )
    assert selection.endpoint().secrets == (KEY,)


def test_ephemeral_client_secret_is_sent_the_same_way() -> None:
    ek = "ek_68af296e8e408191a1120ab6383263c2"
    url, headers = wire(pick(api_key=ek, model="gpt-realtime-mini"))
    assert url == "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini"
    assert headers == {"Authorization": f"Bearer {ek}"}


def test_openai_base_url_maps_http_to_ws_and_keeps_its_query() -> None:
    environ = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "http://127.0.0.1:8765/v1?foo=bar"}
    url, _ = wire(pick(environ, model="m2"))
    assert url == "ws://127.0.0.1:8765/v1/realtime?foo=bar&model=m2"
    environ["OPENAI_BASE_URL"] = "https://llm-proxy.example/openai/v1/"
    assert wire(pick(environ))[0] == "wss://llm-proxy.example/openai/v1/realtime?model=gpt-realtime"


def test_openai_base_url_without_a_key_says_how_to_set_one() -> None:
    selection = pick({"OPENAI_BASE_URL": "https://llm-proxy.example/v1"})
    with pytest.raises(ConnectError) as info:
        selection.endpoint()
    assert info.value.exit_code == ExitCode.CONNECT
    assert "OPENAI_API_KEY" in info.value.message and "--api-key" in info.value.message
    assert "built-in local server" in info.value.message


def test_call_id_attaches_to_a_call_without_a_default_model() -> None:
    url, _ = wire(pick({"OPENAI_API_KEY": KEY}, call_id="rtc_u1_9c7f"))
    assert url == "wss://api.openai.com/v1/realtime?call_id=rtc_u1_9c7f"
    url, _ = wire(pick({"OPENAI_API_KEY": KEY}, call_id="rtc_u1_9c7f", model="gpt-realtime"))
    assert url == "wss://api.openai.com/v1/realtime?model=gpt-realtime&call_id=rtc_u1_9c7f"
    url, _ = wire(pick(url="ws://h:1/v1/realtime?model=m", call_id="c1"))
    assert url == "ws://h:1/v1/realtime?model=m&call_id=c1"


# -- Azure --------------------------------------------------------------------------------------


def test_azure_ga_form_with_api_key_header() -> None:
    selection = pick(
        {"AZURE_OPENAI_API_KEY": AZKEY},
        azure_endpoint="https://my-res.openai.azure.com/",
        deployment="my-deploy",
    )
    assert selection.kind == "azure"
    assert wire(selection) == (
        "wss://my-res.openai.azure.com/openai/v1/realtime?model=my-deploy",
        {"api-key": AZKEY},
    )


def test_azure_preview_form_with_an_entra_token() -> None:
    environ = {
        "AZURE_OPENAI_ENDPOINT": "https://my-res.openai.azure.com",
        "AZURE_OPENAI_AD_TOKEN": TOKEN,
    }
    selection = pick(environ, deployment="my-deploy", api_version="2025-04-01-preview")
    assert wire(selection) == (
        "wss://my-res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=my-deploy",
        {"Authorization": f"Bearer {TOKEN}"},
    )


def test_azure_api_key_wins_over_the_token_and_a_pasted_openai_path_is_fine() -> None:
    environ = {"AZURE_OPENAI_API_KEY": AZKEY, "AZURE_OPENAI_AD_TOKEN": TOKEN, "OPENAI_API_KEY": KEY}
    url, headers = wire(
        pick(environ, azure_endpoint="https://r.openai.azure.com/openai/", model="d")
    )
    assert url == "wss://r.openai.azure.com/openai/v1/realtime?model=d"
    assert headers == {"api-key": AZKEY}  # never the OpenAI key


def test_azure_flag_key_is_an_api_key_unless_the_profile_says_bearer() -> None:
    _, headers = wire(
        pick(azure_endpoint="https://r.openai.azure.com", deployment="d", api_key=AZKEY)
    )
    assert headers == {"api-key": AZKEY}
    cfg = config(CONFIG.replace('key_env = "WORK_KEY"', 'auth = "bearer"'))
    _, headers = wire(pick(cfg=cfg, profile="work", api_key=TOKEN))
    assert headers == {"Authorization": f"Bearer {TOKEN}", "X-Team": "realtime"}


def test_azure_needs_an_endpoint_a_deployment_and_a_key() -> None:
    with pytest.raises(UsageError, match="needs a deployment: --deployment NAME"):
        pick({"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"})
    with pytest.raises(ConnectError, match=r"AZURE_OPENAI_API_KEY .* AZURE_OPENAI_AD_TOKEN"):
        pick(azure_endpoint="https://r.openai.azure.com", deployment="d").endpoint()
    with pytest.raises(UsageError, match="--deployment is for Azure OpenAI"):
        pick({"OPENAI_API_KEY": KEY}, deployment="d")
    with pytest.raises(UsageError, match="not both"):
        pick(url="ws://h/x", azure_endpoint="https://r.openai.azure.com")


# -- any compatible server ------------------------------------------------------------------------


def test_url_headers_and_subprotocols_are_used_as_given() -> None:
    selection = pick(
        url="wss://gw.example/rt?x=1",
        api_key=KEY,
        headers=("X-Trace: abc", "X-Empty:", "authorization: Basic dXNlcjpwYXNzd29yZA=="),
        subprotocols=("realtime", f"openai-insecure-api-key.{KEY}"),
    )
    endpoint = selection.endpoint()
    assert endpoint.url == "wss://gw.example/rt?x=1"
    # An explicit Authorization header replaces the one built from the key.
    assert dict(endpoint.headers) == {
        "X-Trace": "abc",
        "X-Empty": "",
        "authorization": "Basic dXNlcjpwYXNzd29yZA==",
    }
    assert endpoint.subprotocols == ("realtime", f"openai-insecure-api-key.{KEY}")
    assert KEY in endpoint.secrets and "dXNlcjpwYXNzd29yZA==" in endpoint.secrets


@pytest.mark.parametrize(
    "bad", ["NoColon", ": value", "Bad Name: v", f"Authorization Bearer {KEY}"]
)
def test_a_bad_header_is_a_usage_error_that_does_not_echo_it(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        pick(url="ws://h/x", headers=(bad,))
    assert info.value.exit_code == ExitCode.USAGE
    assert "expected 'Name: value'" in info.value.message
    assert KEY not in info.value.message


def test_no_endpoint_and_no_key_is_the_local_server() -> None:
    selection = pick()
    assert selection.kind == "local" and selection.endpoint().url is None
    assert pick({"OPENAI_API_KEY": KEY}, local=True).endpoint().headers == {}


# -- profiles and precedence ----------------------------------------------------------------------


def test_default_profile_applies_when_nothing_else_names_an_endpoint() -> None:
    selection = pick({"HOME_KEY": KEY}, config())
    assert wire(selection) == (
        "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini",
        {"Authorization": f"Bearer {KEY}"},
    )
    assert selection.sources["kind"] == "profile home (default_profile)"
    assert selection.sources["key"] == "env HOME_KEY (key_env of profile 'home')"


def test_model_precedence_flag_then_environment_then_profile_then_default() -> None:
    environ = {"HOME_KEY": KEY, "RTC_MODEL": "env-model"}
    assert pick(environ, config(), model="flag-model").model == "flag-model"
    assert pick(environ, config()).model == "env-model"
    assert pick({"HOME_KEY": KEY}, config()).model == "gpt-realtime-mini"
    assert pick({"OPENAI_API_KEY": KEY}).model == "gpt-realtime"


def test_key_precedence_flag_then_environment_then_profile() -> None:
    environ = {
        "HOME_KEY": "sk-profile-0000000000000001",
        "OPENAI_API_KEY": "sk-env-00000000000000002",
    }
    flag = "sk-flag-000000000000000003"
    assert wire(pick(environ, config(), api_key=flag))[1] == {"Authorization": f"Bearer {flag}"}
    selection = pick(environ, config())
    assert wire(selection)[1] == {"Authorization": "Bearer sk-env-00000000000000002"}
    assert selection.sources["key"] == "env OPENAI_API_KEY"
    del environ["OPENAI_API_KEY"]
    assert wire(pick(environ, config()))[1] == {
        "Authorization": "Bearer sk-profile-0000000000000001"
    }


def test_an_environment_endpoint_sets_the_default_profile_aside_whole() -> None:
    # The default profile's key must not go to a server it does not describe.
    selection = pick({"HOME_KEY": KEY, "RTC_URL": "ws://127.0.0.1:9/v1/realtime"}, config())
    assert selection.kind == "url" and selection.profile is None
    assert wire(selection) == ("ws://127.0.0.1:9/v1/realtime", {})


def test_profile_flag_is_a_flag_and_beats_the_environment() -> None:
    environ = {
        "WORK_KEY": AZKEY,
        "OPENAI_API_KEY": KEY,
        "AZURE_OPENAI_ENDPOINT": "https://other.openai.azure.com",
        "RTC_PROFILE": "home",
    }
    selection = pick(environ, config(), profile="work")
    assert selection.kind == "azure" and selection.model == "work-deploy"
    assert wire(selection) == (
        "wss://work.openai.azure.com/openai/v1/realtime?model=work-deploy",
        {"api-key": AZKEY, "X-Team": "realtime"},
    )
    assert selection.session == {
        "type": "realtime",
        "instructions": "Be brief.",
        "output_modalities": ["text"],
    }
    assert selection.endpoint().session == selection.session
    # Specific flags still beat the profile's values, header by header.
    selection = pick(environ, config(), profile="work", deployment="d2", headers=("x-team: cli",))
    assert wire(selection) == (
        "wss://work.openai.azure.com/openai/v1/realtime?model=d2",
        {"api-key": AZKEY, "x-team": "cli"},
    )


def test_rtc_profile_chooses_a_profile_below_the_environment() -> None:
    selection = pick({"RTC_PROFILE": "proxy"}, config())
    assert selection.sources["profile"] == "proxy (RTC_PROFILE)"
    assert wire(selection) == (
        "wss://gateway.example/realtime?tenant=t1",
        {"api-key": "pk-0000000000000000PLAIN"},
    )
    assert selection.subprotocols == ("realtime",)


def test_no_key_for_an_openai_or_azure_profile_is_exit_3_with_advice() -> None:
    with pytest.raises(ConnectError) as info:
        pick({}, config(), profile="home").endpoint()
    assert info.value.message == (
        "profile 'home': key_env HOME_KEY is not set (export HOME_KEY=... or pass --api-key)"
    )
    bare = config(
        '[profiles.az]\nazure_endpoint = "https://r.openai.azure.com"\ndeployment = "d"\n'
    )
    with pytest.raises(ConnectError, match=r"no key for Azure OpenAI at r\.openai\.azure\.com"):
        pick({}, bare, profile="az").endpoint()
    keyless = config('[profiles.oai]\nkind = "openai"\n')
    with pytest.raises(
        ConnectError, match=r"no API key for profile 'oai' .*key_env or key_command"
    ):
        pick({}, keyless, profile="oai").endpoint()


def test_unknown_profile_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError) as info:
        pick({}, config(), profile="nope")
    assert info.value.message == "/cfg/config.toml: no profile 'nope' (profiles: home, work, proxy)"
    missing = ConfigFile(Path("/cfg/config.toml"), exists=False)
    with pytest.raises(UsageError, match=r"does not exist .*rtc profile add nope"):
        pick({"RTC_PROFILE": "nope"}, missing)


def test_invalid_session_settings_are_refused_before_connecting() -> None:
    cfg = config(
        CONFIG.replace('output_modalities = ["text"]', 'output_modalities = ["text", "audio"]')
    )
    with pytest.raises(UsageError) as info:
        pick({"WORK_KEY": AZKEY}, cfg, profile="work")
    assert info.value.message.startswith(
        "/cfg/config.toml: --profile work: invalid session settings:"
    )
    assert "session.output_modalities" in info.value.message
