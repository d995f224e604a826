"""Known MCP tool secrets: tests check that none of them is ever shown or written."""

from __future__ import annotations

MCP_TOKEN = "mcp-TOKEN-0123456789abcdefPQRS"
MCP_HEADER = "hdr-SECRET-0123456789abcdefTUVW"
MCP_PLAIN = "eu-west-REGION-VALUE"  # a header whose name says nothing: redacted all the same
MCP_TOOL = {
    "type": "mcp",
    "server_label": "docs",
    "server_url": "https://mcp.example.com/sse",
    "authorization": MCP_TOKEN,
    "headers": {"X-Api-Key": MCP_HEADER, "X-Region": MCP_PLAIN},
}
MCP_SECRETS = (MCP_TOKEN, MCP_HEADER, MCP_PLAIN)
