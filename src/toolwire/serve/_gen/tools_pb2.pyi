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
    __slots__ = ("name", "arguments_json", "call_id", "idempotency_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    arguments_json: str
    call_id: str
    idempotency_key: str
    def __init__(
        self,
        name: _Optional[str] = ...,
        arguments_json: _Optional[str] = ...,
        call_id: _Optional[str] = ...,
        idempotency_key: _Optional[str] = ...,
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
    call_id: str
    name: str
    ok: bool
    value_json: str
    error: ToolErrorInfo
    attempts: int
    cached: bool
    elapsed_s: float
    grpc_code: int
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
    ) -> None: ...
