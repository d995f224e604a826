"""A minimal client on the official openai package, for the one-round-trip comparison.

    python benchmarks/peer_openai.py URL PROMPT

URL is the server's realtime URL (ws://HOST:PORT/v1/realtime); the SDK is given its base
(ws://HOST:PORT/v1). Sends the prompt as a user message, asks for a text response, prints each
event's JSON and stops at response.done.
"""

from __future__ import annotations

import sys

from openai import OpenAI


def main() -> None:
    url, prompt = sys.argv[1], sys.argv[2]
    base = url.split("?")[0].removesuffix("/realtime")
    client = OpenAI(api_key="x", websocket_base_url=base)
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": prompt}],
            }
        )
        conn.response.create(response={"output_modalities": ["text"]})
        for event in conn:
            sys.stdout.write(event.to_json(indent=None) + "\n")
            if event.type == "response.done":
                break
    sys.stdout.flush()


if __name__ == "__main__":
    main()
