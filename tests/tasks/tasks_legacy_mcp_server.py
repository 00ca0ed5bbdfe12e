"""A minimal MCP server on stdio speaking only the 2025-11-25 handshake, written from the spec
(no SDK): it refuses ``server/discover`` and lists tools declaring ``execution.taskSupport``,
as a 2025-11-25 server with tasks does. Enough for ``toolwire.remote.mcp.load`` to import."""

from __future__ import annotations

import json
import sys

TOOLS = [
    {
        "name": "report",
        "description": "A long report",
        "inputSchema": {"type": "object", "properties": {}},
        "execution": {"taskSupport": "optional"},
    },
    {
        "name": "etl",
        "description": "Runs only as a task",
        "inputSchema": {"type": "object", "properties": {}},
        "execution": {"taskSupport": "required"},
    },
    {"name": "plain", "description": "No tasks", "inputSchema": {"type": "object"}},
]


def answer(message_id: object, result: object = None, error: object = None) -> None:
    body: dict[str, object] = {"jsonrpc": "2.0", "id": message_id}
    body["error" if error is not None else "result"] = error if error is not None else result
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        method, message_id = message.get("method"), message.get("id")
        if message_id is None:
            continue  # notifications
        if method == "initialize":
            answer(
                message_id,
                {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {
                        "tools": {},
                        "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}},
                    },
                    "serverInfo": {"name": "legacy-tasks", "version": "1"},
                },
            )
        elif method == "tools/list":
            answer(message_id, {"tools": TOOLS})
        elif method == "ping":
            answer(message_id, {})
        else:
            answer(message_id, error={"code": -32601, "message": "Method not found"})


if __name__ == "__main__":
    main()
