"""Endpoints end to end: a real `rtc` process, the local server over real sockets, and a recording
relay in between to see exactly what rtc sends (path, query, headers, subprotocols)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from cli_run import ROOT, RTC, rtc
from proxy import Relay, relay

KEY = "sk-test-ENDPOINTS0123456789abcdWXYZ"
AZKEY = "azkey-0123456789abcdef0123456789AZK"


def base(proxy: Relay) -> str:
    """``http://127.0.0.1:PORT`` of a relay, as an Azure resource URL."""
    return "http://" + urlsplit(proxy.url).netloc


def write_config(text: str) -> Path:
    path = Path(os.environ["RTC_CONFIG_DIR"]) / "config.toml"
    path.write_text(text)
    return path


def test_azure_ga_form_with_api_key_reaches_the_local_server(
    local_server: Callable[..., str],
) -> None:
    server = local_server(api_key=AZKEY)
    upstream = server.replace("/v1/realtime", "/openai/v1/realtime?model=my-deploy")
    with relay(upstream) as proxy:
        result = rtc(
            "create", "hi", "--modality", "text", "--azure-endpoint", base(proxy), "--deployment", "my-deploy",
            env={"AZURE_OPENAI_API_KEY": AZKEY},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert proxy.request_paths == ["/openai/v1/realtime?model=my-deploy"]
    headers = proxy.request_headers[0]
    assert headers["api-key"] == AZKEY and "Authorization" not in headers
    assert "· completed" in result.stderr


def test_azure_preview_form_with_an_entra_token(local_server: Callable[..., str]) -> None:
    server = local_server(api_key="entra-token-0000000000000000TOKN")
    upstream = server.replace(
        "/v1/realtime", "/openai/realtime?api-version=2025-04-01-preview&deployment=d1"
    )
    with relay(upstream) as proxy:
        result = rtc(
            "create", "hi", "--json", "--deployment", "d1", "--api-version", "2025-04-01-preview",
            env={"AZURE_OPENAI_ENDPOINT": base(proxy), "AZURE_OPENAI_AD_TOKEN": "entra-token-0000000000000000TOKN"},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert proxy.request_paths == ["/openai/realtime?api-version=2025-04-01-preview&deployment=d1"]
    assert proxy.request_headers[0]["Authorization"] == "Bearer entra-token-0000000000000000TOKN"
    assert "api-key" not in proxy.request_headers[0]
    model = json.loads(result.stdout.splitlines()[0])["session"]["model"]
    assert model == "d1"  # the server read the deployment from the preview query


def test_azure_paths_directly_on_the_key_protected_local_server(
    local_server: Callable[..., str],
) -> None:
    resource = "http://" + urlsplit(local_server(api_key=AZKEY)).netloc
    for extra in ([], ["--api-version", "2024-10-01-preview"]):
        result = rtc("create", "hi", "--json", "--azure-endpoint", resource, "--deployment", "dep",
                     "--api-key", AZKEY, *extra)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.splitlines()[0])["session"]["model"] == "dep"


def test_openai_base_url_and_call_id_reach_the_wire(server_url: str) -> None:
    with relay(server_url) as proxy:
        env = {
            "OPENAI_BASE_URL": f"http://{urlsplit(proxy.url).netloc}/v1?tenant=t1",
            "OPENAI_API_KEY": KEY,
        }
        result = rtc("create", "hi", "--json", "--call-id", "rtc_u1_abc", "--model", "m2", env=env)
    assert result.returncode == 0, result.stderr
    assert proxy.request_paths == ["/v1/realtime?tenant=t1&model=m2&call_id=rtc_u1_abc"]
    assert proxy.request_headers[0]["Authorization"] == f"Bearer {KEY}"


def test_headers_and_subprotocols_reach_the_server(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "pipe", "--url", proxy.url, "-H", "X-Trace: abc 123", "--header", "OpenAI-Organization: org_1",
            "--subprotocol", "realtime", "--subprotocol", "x-custom",
            stdin='{"type": "response.create"}\n',
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    headers = proxy.request_headers[0]
    assert headers["X-Trace"] == "abc 123" and headers["OpenAI-Organization"] == "org_1"
    assert headers["Sec-WebSocket-Protocol"] == "realtime, x-custom"


def test_profile_with_headers_session_defaults_and_a_key_command(
    local_server: Callable[..., str], tmp_path: Path
) -> None:
    url = local_server(api_key=KEY)
    helper = tmp_path / "get-key"
    helper.write_text(f"#!{sys.executable}\nprint({KEY!r})\n")
    helper.chmod(0o700)
    with relay(url) as proxy:
        write_config(
            f'default_profile = "dev"\n[profiles.dev]\nurl = "{proxy.url}"\n'
            f'key_command = ["{helper}"]\nheaders = {{ "X-Team" = "rt" }}\n'
            '[profiles.dev.session]\ninstructions = "Be brief."\noutput_modalities = ["text"]\n'
        )
        result = rtc("create", "hello", "--json", "-H", "X-Team: cli")
    assert result.returncode == 0, result.stderr
    headers = proxy.request_headers[0]
    assert headers["Authorization"] == f"Bearer {KEY}" and headers["X-Team"] == "cli"
    sent = [json.loads(frame) for frame in proxy.client_frames]
    assert sent[0] == {
        "type": "session.update",
        "session": {"type": "realtime", "instructions": "Be brief.", "output_modalities": ["text"]},
        "event_id": "rtc_profile_session",
    }
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["type"] for e in events[:2]] == ["session.created", "session.updated"]
    done = [e for e in events if e["type"] == "response.done"][-1]
    assert done["response"]["output_modalities"] == ["text"]


def test_precedence_flag_over_env_over_profile(server_url: str) -> None:
    write_config('default_profile = "p"\n[profiles.p]\nkind = "local"\nmodel = "profile-model"\n')

    def model(*args: str, env: dict[str, str] | None = None) -> str:
        result = rtc("create", "hi", "--json", *args, env=env)
        assert result.returncode == 0, result.stderr
        return str(json.loads(result.stdout.splitlines()[0])["session"]["model"])

    assert model() == "profile-model"
    assert model(env={"RTC_MODEL": "env-model"}) == "env-model"
    assert model("--model", "flag-model", env={"RTC_MODEL": "env-model"}) == "flag-model"
    # An endpoint from the environment sets the default profile aside.
    assert model(env={"RTC_URL": server_url + "?model=url-model"}) == "url-model"


# -- failures: one line, the right exit code ------------------------------------------------------


def test_no_key_for_openai_and_azure_profiles_is_exit_3() -> None:
    write_config(
        '[profiles.oai]\nkind = "openai"\n'
        '[profiles.az]\nazure_endpoint = "https://res.openai.azure.com"\ndeployment = "d"\n'
    )
    result = rtc("create", "hi", "--profile", "oai")
    assert result.returncode == 3
    assert result.stderr == (
        "rtc: error: no API key for profile 'oai' (openai): give it key_env or key_command, "
        "export OPENAI_API_KEY, or pass --api-key\n"
    )
    result = rtc("pipe", "--profile", "az", stdin="")
    assert result.returncode == 3
    assert result.stderr.startswith("rtc: error: no key for Azure OpenAI at res.openai.azure.com: ")
    assert len(result.stderr.splitlines()) == 1


def test_unknown_profile_and_bad_toml_are_exit_2_with_file_and_line() -> None:
    path = write_config('[profiles.a]\nkind = "local"\n')
    result = rtc("create", "--profile", "b")
    assert (result.returncode, result.stderr) == (
        2, f"rtc: error: {path}: no profile 'b' (profiles: a)\n"
    )  # fmt: skip
    write_config('[profiles.a]\nkind = "local"\nmodel = "unterminated\n')
    result = rtc("create", "hi")
    assert result.returncode == 2
    assert result.stderr == f"rtc: error: {path}: line 3, column 22: illegal character '\\n'\n"
    result = rtc("doctor", "--profile", "a")
    assert result.returncode == 2 and "line 3" in result.stderr


def test_a_bad_header_is_exit_2() -> None:
    result = rtc(
        "create", "--url", "ws://127.0.0.1:9/v1/realtime", "-H", f"Authorization Bearer {KEY}"
    )
    assert result.returncode == 2
    assert result.stderr == "rtc: error: --header 'Authorization'…: expected 'Name: value'\n"


def test_http_404_at_the_handshake_is_exit_3_with_the_status(server_url: str) -> None:
    # Azure's preview path with model= instead of deployment= is a 404, there and locally.
    wrong = server_url.replace("/v1/realtime", "/openai/realtime?model=x")
    result = rtc("create", "hi", "--url", wrong)
    host = urlsplit(server_url).netloc
    assert result.returncode == 3
    assert result.stderr == f"rtc: error: {host}: HTTP 404 Not Found at the handshake: Not Found\n"


def test_refused_and_bad_key_through_a_profile_are_exit_3(local_server: Callable[..., str]) -> None:
    url = local_server(api_key="sk-the-right-key-0000000000")
    write_config(
        f'[profiles.wrong]\nurl = "{url}"\nkey_env = "WRONG_KEY"\n'
        '[profiles.gone]\nurl = "ws://127.0.0.1:9/v1/realtime"\n'
    )
    result = rtc("create", "hi", "--profile", "wrong", env={"WRONG_KEY": KEY})
    assert result.returncode == 3
    assert "invalid_api_key" in result.stderr and "(close 3000)" in result.stderr
    assert KEY not in result.stderr + result.stdout
    result = rtc("create", "hi", "--profile", "gone")
    assert (result.returncode, result.stderr) == (
        3,
        "rtc: error: 127.0.0.1:9: connection refused\n",
    )


def test_a_failing_key_command_is_exit_3_and_never_shows_its_output(tmp_path: Path) -> None:
    helper = tmp_path / "get-key"
    helper.write_text(f"#!{sys.executable}\nimport sys\nprint({KEY!r})\nsys.exit(5)\n")
    helper.chmod(0o700)
    write_config(f'[profiles.vault]\nkind = "openai"\nkey_command = ["{helper}", "show"]\n')
    result = rtc("create", "hi", "--profile", "vault")
    assert result.returncode == 3
    assert result.stderr == (
        f"rtc: error: profile 'vault': key_command {str(helper)!r} failed with exit status 5 "
        "(its output is not shown; run it yourself to see why)\n"
    )


def test_a_plain_text_key_in_a_readable_file_warns_once(server_url: str) -> None:
    path = write_config(f'[profiles.p]\nurl = "{server_url}"\napi_key = "{KEY}"\n')
    path.chmod(0o644)
    result = rtc("create", "hi", "--profile", "p")
    assert result.returncode == 0, result.stderr
    warning = f"rtc: warning: {path} holds an API key in plain text and is readable by others"
    assert result.stderr.count(warning) == 1
    assert KEY not in result.stderr + result.stdout
    path.chmod(0o600)
    assert "warning" not in rtc("create", "hi", "--profile", "p").stderr


# -- proxies from the environment -----------------------------------------------------------------


@contextlib.contextmanager
def connect_proxy() -> Iterator[tuple[str, list[str]]]:
    """A minimal HTTP CONNECT proxy in a thread: yields its URL and the CONNECT targets seen."""
    seen: list[str] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    url = ""
    stop: asyncio.Future[None] | None = None

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        target = request.split(b" ")[1].decode()
        seen.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    async def main() -> None:
        nonlocal url, stop
        stop = loop.create_future()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        ready.set()
        async with server:
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield url, seen
    finally:
        loop.call_soon_threadsafe(
            lambda: stop.set_result(None) if stop and not stop.done() else None
        )
        thread.join(10)
        loop.close()


def test_https_proxy_from_the_environment_is_used(server_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with connect_proxy() as (proxy_url, seen):
        env["HTTPS_PROXY"] = proxy_url
        result = subprocess.run(
            [*RTC, "create", "hi", "--url", server_url], capture_output=True, text=True,
            timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        config = subprocess.run(
            [*RTC, "config", "--url", server_url], capture_output=True, text=True,
            timeout=60, cwd=ROOT, env=env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert seen == [urlsplit(server_url).netloc]
    assert f"proxy        {proxy_url}  ← environment" in config.stdout


# -- rtc config, rtc profile ----------------------------------------------------------------------


def test_config_and_profile_show_redact_keys_to_their_last_four_characters(server_url: str) -> None:
    result = rtc(
        "config", "--url", server_url, "--api-key", KEY, "-H", "X-Api-Key: xk-000000000000001234"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "key          …WXYZ  ← --api-key" in lines
    assert "header       Authorization: Bearer …WXYZ" in lines
    assert "header       X-Api-Key: …1234" in lines
    assert KEY not in result.stdout
    path = write_config(
        f'[profiles.p]\nurl = "{server_url}"\napi_key = "{KEY}"\nkey_command_timeout = 5\n'
    )
    path.chmod(0o600)
    shown = rtc("profile", "show", "p")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        f"profile  p  ← {path} line 1",
        "kind     url",
        f"url      {server_url}",
        "api_key  …WXYZ  ← plain text",
    ]


def test_profile_add_writes_a_private_file_that_list_and_create_use(server_url: str) -> None:
    result = rtc(
        "profile", "add", "dev", "--url", server_url, "--key-env", "DEV_KEY", "-H", "X-Team: rt",
        "-s", "instructions=Be brief.", "-s", 'output_modalities:=["text"]', "--default",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    path = Path(os.environ["RTC_CONFIG_DIR"]) / "config.toml"
    assert result.stdout == f"added profile 'dev' to {path} (default)\n"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_text() == (
        'default_profile = "dev"\n\n[profiles.dev]\nkind = "url"\n'
        f'url = "{server_url}"\nkey_env = "DEV_KEY"\n\n'
        '[profiles.dev.headers]\nX-Team = "rt"\n\n'
        '[profiles.dev.session]\ninstructions = "Be brief."\noutput_modalities = ["text"]\n'
    )
    listing = rtc("profile", "list")
    assert listing.stdout.splitlines()[2].startswith("* dev ")
    again = rtc("profile", "add", "dev", "--kind", "local")
    assert again.returncode == 2 and "profile 'dev' exists (--force replaces it)" in again.stderr
    created = rtc("create", "hi", "--json", env={"DEV_KEY": KEY})
    assert created.returncode == 0, created.stderr
    done = [line for line in created.stdout.splitlines() if '"response.done"' in line]
    assert '"output_modalities":["text"]' in done[0]
    plain = rtc("profile", "add", "p2", "--url", server_url, "--api-key", KEY)
    assert plain.stderr == f"rtc: warning: the key is stored in plain text in {path} (mode 0600)\n"
    assert KEY not in plain.stdout + plain.stderr


def test_profile_add_force_keeps_the_users_comments_and_layout() -> None:
    path = Path(os.environ["RTC_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# my rtc settings: do not lose me\n"
        'default_profile = "work"\n\n'
        "[profiles.work]   # the office\n"
        'kind = "url"\n'
        'url = "ws://old.example/x"   # the old one\n'
        'model = "m1"  # still right\n\n'
        "# the local one, for trains\n"
        "[profiles.home]\n"
        'kind    =    "local"\n'
    )
    path.chmod(0o600)
    result = rtc(
        "profile", "add", "work", "--url", "ws://new.example/y", "--model", "m1", "--force"
    )
    assert result.returncode == 0, result.stderr
    assert path.read_text() == (
        "# my rtc settings: do not lose me\n"
        'default_profile = "work"\n\n'
        "[profiles.work]   # the office\n"
        'kind = "url"\n'
        'url = "ws://new.example/y"\n'
        'model = "m1"  # still right\n\n'
        "# the local one, for trains\n"
        "[profiles.home]\n"
        'kind    =    "local"\n'
    )
