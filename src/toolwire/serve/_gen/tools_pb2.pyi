# mypy: ignore-errors
# ruff: noqa
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListToolsRequest(_message.Message):
    __slots__ = ("dialect",)
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    dialect: str
    def __init__(self, dialect: _Optional[str] = ...) -> None: ...

class ToolInfo(_message.Message):
    __slots__ = (
        "name",
        "description",
        "input_schema_json",
        "output_schema_json",
        "read_only",
        "idempotent",
        "destructive",
        "open_world",
        "tags",
        "title",
        "task_support",
    )
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    DESTRUCTIVE_FIELD_NUMBER: _ClassVar[int]
    OPEN_WORLD_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TASK_SUPPORT_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    input_schema_json: str
    output_schema_json: str
    read_only: bool
    idempotent: bool
    destructive: bool
    open_world: bool
    tags: _containers.RepeatedScalarFieldContainer[str]
    title: str
    task_support: str
    def __init__(
        self,
        name: _Optional[str] = ...,
        description: _Optional[str] = ...,
        input_schema_json: _Optional[str] = ...,
        output_schema_json: _Optional[str] = ...,
        read_only: _Optional[bool] = ...,
        idempotent: _Optional[bool] = ...,
        destructive: _Optional[bool] = ...,
        open_world: _Optional[bool] = ...,
        tags: _Optional[_Iterable[str]] = ...,
        title: _Optional[str] = ...,
        task_support: _Optional[str] = ...,
    ) -> None: ...

class ListToolsResponse(_message.Message):
    __slots__ = ("tools", "export_json")
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    EXPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    tools: _containers.RepeatedCompositeFieldContainer[ToolInfo]
    export_json: str
    def __init__(
        self,
        tools: _Optional[_Iterable[_Union[ToolInfo, _Mapping]]] = ...,
        export_json: _Optional[str] = ...,
    ) -> None: ...

class CallToolRequest(_message.Message):
    __slots__ = ("name", "arguments_json", "call_id", "idempotency_key", "progress")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    arguments_json: str
    call_id: str
    idempotency_key: str
    progress: bool
    def __init__(
        self,
        name: _Optional[str] = ...,
        arguments_json: _Optional[str] = ...,
        call_id: _Optional[str] = ...,
        idempotency_key: _Optional[str] = ...,
        progress: _Optional[bool] = ...,
    ) -> None: ...

class ToolErrorInfo(_message.Message):
    __slots__ = ("kind", "message", "details_json", "retry_after")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    kind: str
    message: str
    details_json: str
    retry_after: float
    def __init__(
        self,
        kind: _Optional[str] = ...,
        message: _Optional[str] = ...,
        details_json: _Optional[str] = ...,
        retry_after: _Optional[float] = ...,
    ) -> None: ...

class CallToolResponse(_message.Message):
    __slots__ = (
        "call_id",
        "name",
        "ok",
        "value_json",
        "error",
        "attempts",
        "cached",
        "elapsed_s",
        "grpc_code",
        "progress",
    )
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    GRPC_CODE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    name: str
    ok: bool
    value_json: str
    error: ToolErrorInfo
    attempts: int
    cached: bool
    elapsed_s: float
    grpc_code: int
    progress: ProgressReport
    def __init__(
        self,
        call_id: _Optional[str] = ...,
        name: _Optional[str] = ...,
        ok: _Optional[bool] = ...,
        value_json: _Optional[str] = ...,
        error: _Optional[_Union[ToolErrorInfo, _Mapping]] = ...,
        attempts: _Optional[int] = ...,
        cached: _Optional[bool] = ...,
        elapsed_s: _Optional[float] = ...,
        grpc_code: _Optional[int] = ...,
        progress: _Optional[_Union[ProgressReport, _Mapping]] = ...,
    ) -> None: ...

class ProgressReport(_message.Message):
    __slots__ = ("done", "total", "message")
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    done: float
    total: float
    message: str
    def __init__(
        self,
        done: _Optional[float] = ...,
        total: _Optional[float] = ...,
        message: _Optional[str] = ...,
    ) -> None: ...

class StartTaskRequest(_message.Message):
    __slots__ = ("name", "arguments_json", "idempotency_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    arguments_json: str
    idempotency_key: str
    def __init__(
        self,
        name: _Optional[str] = ...,
        arguments_json: _Optional[str] = ...,
        idempotency_key: _Optional[str] = ...,
    ) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class WatchTaskRequest(_message.Message):
    __slots__ = ("task_id", "after")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    after: str
    def __init__(self, task_id: _Optional[str] = ..., after: _Optional[str] = ...) -> None: ...

class CancelTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("limit", "cursor")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_cursor")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskInfo]
    next_cursor: str
    def __init__(
        self,
        tasks: _Optional[_Iterable[_Union[TaskInfo, _Mapping]]] = ...,
        next_cursor: _Optional[str] = ...,
    ) -> None: ...

class TaskInfo(_message.Message):
    __slots__ = ("task_id", "tool", "status", "progress", "result", "created_at", "updated_at")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    tool: str
    status: str
    progress: ProgressReport
    result: CallToolResponse
    created_at: str
    updated_at: str
    def __init__(
        self,
        task_id: _Optional[str] = ...,
        tool: _Optional[str] = ...,
        status: _Optional[str] = ...,
        progress: _Optional[_Union[ProgressReport, _Mapping]] = ...,
        result: _Optional[_Union[CallToolResponse, _Mapping]] = ...,
        created_at: _Optional[str] = ...,
        updated_at: _Optional[str] = ...,
    ) -> None: ...

class TaskEvent(_message.Message):
    __slots__ = ("id", "kind", "task")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    task: TaskInfo
    def __init__(
        self,
        id: _Optional[str] = ...,
        kind: _Optional[str] = ...,
        task: _Optional[_Union[TaskInfo, _Mapping]] = ...,
    ) -> None: ...
