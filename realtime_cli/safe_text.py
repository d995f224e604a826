"""Server text is untrusted: what may reach a terminal from it.

A server (or a recording) can put escape sequences or bidi overrides in any string; printed raw
they would move the cursor, change colours or hide text. Everything human-facing passes through
``clean``; JSON output (``--json``, pipe mode) stays byte-exact, since it is data, not display.
"""

from __future__ import annotations

import re

# C0 and C1 controls but the newline, and the bidi overrides ("trojan source").
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Tabs as spaces, carriage returns dropped, other control characters (escape sequences,
    bidi overrides) shown as ``�``: server text must not drive the terminal."""
    text = text.replace("\t", "    ").replace("\r\n", "\n").replace("\r", "")
    return _CONTROL.sub("�", text)
