"""The bare websockets client rtc is compared with: the least a script could do.

    python benchmarks/peer_ws.py URL PROMPT [--text]

Connects (no compression, no size cap: as rtc does), sends conversation.item.create with PROMPT
and a text response.create, prints each server event as received (or, with --text, writes each
delta's text to stdout as it arrives, as a console would), and stops at response.done.
"""

from __future__ import annotations

import json
import sys

from websockets.sync.client import connect  # noqa: TID251


def main() -> None:
    url, prompt = sys.argv[1], sys.argv[2]
    text = "--text" in sys.argv[3:]
    out = sys.stdout
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}
    with connect(url, compression=None, max_size=None) as ws:
        ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        ws.send(
            json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})
        )
        for message in ws:
            event = json.loads(message)
            if not text:
                out.write(message if isinstance(message, str) else message.decode())
                out.write("\n")
            elif event["type"] == "response.output_text.delta":
                out.write(event["delta"])
                out.flush()
            if event["type"] == "response.done":
                break
    out.flush()


if __name__ == "__main__":
    main()
