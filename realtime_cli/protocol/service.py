"""Facts of the live Realtime service that both sides of rtc need: the client to connect, the
local server to answer the way the service does (protocol.md §1, URLs and authentication)."""

from __future__ import annotations

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
DEFAULT_MODEL = "gpt-realtime"
# The subprotocol that carries a key (browsers cannot set headers): KEY_PROTOCOL + the key.
KEY_PROTOCOL = "openai-insecure-api-key."
