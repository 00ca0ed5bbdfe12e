"""The task routes in the served ``/openapi.json`` (shapes as ``_tasks_rest`` answers them):
one ``POST /v1/tools/{tool}/tasks`` per tool that may run as a task (its request body is the
tool's input schema, as for its call), and the fixed ``/v1/tasks`` routes."""

from __future__ import annotations

import copy
from typing import Any

from toolwire.state._tasks import TASK_STATUSES

TASK = {
    "type": "object",
    "required": ["task_id", "tool", "status", "progress", "result", "created_at", "updated_at"],
    "properties": {
        "task_id": {"type": "string"},
        "tool": {"type": "string"},
        "status": {"type": "string", "enum": list(TASK_STATUSES)},
        "progress": {
            "type": ["object", "null"],
            "required": ["done", "total", "message"],
            "properties": {
                "done": {"type": "number"},
                "total": {"type": ["number", "null"]},
                "message": {"type": ["string", "null"]},
            },
        },
        "result": {"anyOf": [{"$ref": "#/components/schemas/ToolResult"}, {"type": "null"}]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
# what the stores give out: "<creation time>:<task id>" (see state/_tasks_*.py page())
CURSOR_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,16})?:[A-Za-z0-9_]{1,128}$"
_STARTED = {
    "type": "object",
    "required": ["task_id", "status"],
    "properties": {"task_id": {"type": "string"}, "status": {"type": "string"}},
}


def task_paths(
    tools: list[Any], *, errors: Any, idempotency: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The task paths; ``errors(statuses)`` builds error responses (``_openapi``'s)."""
    json = "application/json"
    task_id = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
    paths: dict[str, dict[str, Any]] = {}
    for tool in tools:
        spec = tool.spec
        if spec.task_support == "forbidden":
            continue
        paths[f"/v1/tools/{spec.name}/tasks"] = {
            "post": {
                "operationId": f"start_{spec.name}",
                "summary": f"Start {spec.title or spec.name} as a task",
                "parameters": [idempotency],
                "requestBody": {
                    "required": True,
                    "content": {json: {"schema": copy.deepcopy(dict(spec.input_schema))}},
                },
                "responses": {
                    "202": {
                        "description": "started (or the Idempotency-Key's task)",
                        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
                        "content": {json: {"schema": _STARTED}},
                    },
                    **errors((400, 401, 403, 409, 413, 415, 429, 503)),
                },
                "x-toolwire-tool": spec.name,
            }
        }
    task = {"$ref": "#/components/schemas/Task"}
    paths["/v1/tasks"] = {
        "get": {
            "operationId": "list_tasks",
            "summary": "The caller's tasks, newest first",
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    # the next_cursor of a page; anything else of this shape starts after it
                    "schema": {"type": "string", "pattern": CURSOR_PATTERN},
                },
            ],
            "responses": {
                "200": {
                    "description": "a page of tasks",
                    "content": {
                        json: {
                            "schema": {
                                "type": "object",
                                "required": ["tasks", "next_cursor"],
                                "properties": {
                                    "tasks": {"type": "array", "items": task},
                                    "next_cursor": {"type": ["string", "null"]},
                                },
                            }
                        }
                    },
                },
                **errors((400, 401, 503)),
            },
        }
    }
    one = {"description": "the task", "content": {json: {"schema": task}}}
    paths["/v1/tasks/{task_id}"] = {
        "get": {
            "operationId": "get_task",
            "parameters": [task_id],
            "responses": {"200": one, **errors((401, 404, 503))},
        },
        "delete": {
            "operationId": "cancel_task",
            "summary": "Cancel the task (a task that ended stays as it ended)",
            "parameters": [task_id],
            "responses": {"200": one, **errors((401, 404, 503))},
        },
    }
    paths["/v1/tasks/{task_id}/events"] = {
        "get": {
            "operationId": "task_events",
            "summary": "The task's progress and end as Server-Sent Events",
            "parameters": [task_id],
            "responses": {
                "200": {
                    "description": "progress events, then end",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **errors((401, 404, 503)),
            },
        }
    }
    return paths
