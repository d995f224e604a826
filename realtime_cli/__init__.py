"""rtc: a terminal console for realtime model APIs that speak the OpenAI Realtime protocol."""

__version__ = "0.1.0"
