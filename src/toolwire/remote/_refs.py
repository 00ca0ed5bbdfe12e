"""``$ref`` resolution for OpenAPI documents: local pointers, external files and URLs, cycles.

External documents are fetched up front (:meth:`Refs.prefetch`, async: URLs go through the
guarded HTTP client), then schemas are inlined synchronously. A reference that points back
into the schema being inlined (a tree, a linked list) cannot be inlined: it becomes an entry
of ``$defs`` and a local ``{"$ref": "#/$defs/Name"}``, so the tool schema stays finite and
self-contained.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from toolwire._json import loads

Loader = Callable[[str], Awaitable[Any]]
"""``async loader(uri) -> parsed document``, for ``http(s)://`` and ``file://`` URIs."""

MAX_DEPTH = 64
"""How many ``$ref`` hops one chain or one inlined schema may take."""
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
"""The largest OpenAPI or ``$ref`` document read (over HTTP the 10 MB response cap is first)."""
MAX_NESTING = 200
"""How deeply containers may nest in a document, and in a schema once its refs are inlined."""
MAX_ALIAS_NODES = 100_000
"""How many nodes YAML aliases may add to a document once expanded (the "billion laughs")."""
_HTTP = ("http", "https")


class RefError(ValueError):
    """A ``$ref`` that cannot be resolved (missing document, bad pointer, too deep), or a
    document that cannot be read safely (too large, too deep, an alias bomb)."""


def parse_document(text: str | bytes, where: str) -> Any:
    """JSON, or YAML when PyYAML is installed (OpenAPI documents come in both).

    Bounded: at most :data:`MAX_DOCUMENT_BYTES`, containers nested at most
    :data:`MAX_NESTING` deep, YAML aliases expanding to at most :data:`MAX_ALIAS_NODES`
    nodes; anything beyond raises :class:`RefError` naming the document and the limit.
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        raise RefError(
            f"{where} is {len(text)} bytes; documents of more than {MAX_DOCUMENT_BYTES} bytes "
            "are not read"
        )
    raw = text.decode("utf-8") if isinstance(text, bytes) else text
    stripped = raw.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = loads(raw)
        except ValueError as exc:
            raise RefError(f"{where} is not valid JSON: {exc}") from exc
    else:
        document = _yaml_load(raw, where)
    _check_nesting(document, where)
    return document


def _yaml_load(raw: str, where: str) -> Any:
    try:
        yaml: Any = importlib.import_module("yaml")  # untyped, optional
    except ImportError as exc:  # pragma: no cover - PyYAML ships with the dev tools
        raise RefError(f"{where} looks like YAML; install PyYAML to read it") from exc
    loader = _bounded_loader(yaml)(raw)
    try:
        return loader.get_single_data()
    except _Bound as exc:
        raise RefError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        raise RefError(f"{where} is neither JSON nor YAML: {exc}") from exc
    finally:
        loader.dispose()


class _Bound(Exception):
    """A YAML document over one of the limits (raised from inside the composer)."""


_LOADERS: dict[int, type] = {}


def _bounded_loader(yaml: Any) -> type:
    """PyYAML's safe loader, counting nodes as it composes them.

    An alias adds the whole (expanded) size of the node it names: the count is what the
    document becomes once every alias is expanded, which is what later walks over it cost.
    Composition recurses once per level, so depth is bounded here too (before Python's own
    recursion limit would turn it into a RecursionError).
    """
    made = _LOADERS.get(id(yaml))
    if made is not None:
        return made

    class BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.tw_depth = 0
            self.tw_aliased = 0
            self.tw_sizes: dict[int, int] = {}

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                anchor = self.peek_event().anchor
                target = self.anchors.get(anchor)
                if target is not None:
                    size = self.tw_sizes.get(id(target))
                    if size is None:
                        raise _Bound(f"the alias *{anchor} refers to itself (a recursive alias)")
                    self.tw_aliased += size
                    if self.tw_aliased > MAX_ALIAS_NODES:
                        raise _Bound(
                            f"its aliases expand to more than {MAX_ALIAS_NODES} nodes "
                            "(an alias bomb?); expand them in the document instead"
                        )
                return super().compose_node(parent, index)
            self.tw_depth += 1
            if self.tw_depth > MAX_NESTING:
                raise _Bound(f"it nests more than {MAX_NESTING} levels deep")
            try:
                node = super().compose_node(parent, index)
            finally:
                self.tw_depth -= 1
            children: list[Any] = []
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            self.tw_sizes[id(node)] = 1 + sum(self.tw_sizes.get(id(c), 1) for c in children)
            return node

    _LOADERS[id(yaml)] = BoundedLoader
    return BoundedLoader


def _check_nesting(document: Any, where: str) -> None:
    """Refuse documents nested deeper than :data:`MAX_NESTING` (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise RefError(f"{where} nests more than {MAX_NESTING} levels deep")
        if isinstance(node, Mapping):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, Mapping | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, Mapping | list))


def read_document(path: str | Path, where: str) -> Any:
    """Read and parse a document file, reading at most one byte past the size limit."""
    with open(path, "rb") as handle:
        raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    return parse_document(raw, where)


def _scheme(uri: str) -> str:
    return urlsplit(uri).scheme.lower()


def _check_origin(ref: str, source: str, target: str) -> None:
    """A document fetched over HTTP may refer only to other http(s) documents.

    Its author is the remote server: a ``file:`` ref (or any other scheme) would read this
    machine's files into a tool schema, which is then sent to the model and every export.
    Documents read from a file (or given as a dict without an HTTP base) may refer to files.
    """
    if _scheme(source) in _HTTP and _scheme(target) not in _HTTP:
        raise RefError(
            f"$ref {ref!r} in {source}: a document loaded over HTTP may refer only to "
            f"http(s) documents, not to {target}"
        )


def file_uri(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


def _split(uri: str) -> tuple[str, str]:
    doc, _, fragment = uri.partition("#")
    return doc, fragment


def _walk_pointer(document: Any, pointer: str, where: str) -> Any:
    if pointer in ("", "/"):
        return document
    if not pointer.startswith("/"):
        raise RefError(f"{where}: only JSON pointers (#/...) are supported, not #{pointer}")
    node = document
    for raw in pointer[1:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise RefError(f"{where}: nothing at #{pointer}")
    return node


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# a schema level is two JSON levels (an object, then "properties" or a list of subschemas)
_SCHEMA_NESTING = MAX_NESTING // 2


class Refs:
    """Documents by URI plus the resolution and inlining logic.

    Example::

        refs = Refs(spec, base_uri=file_uri("api.yaml"), loader=load)
        await refs.prefetch()
        schema = refs.inline_schema({"$ref": "#/components/schemas/Pet"})
    """

    def __init__(self, root: Any, *, base_uri: str = "", loader: Loader | None = None) -> None:
        self.base_uri = base_uri
        self.documents: dict[str, Any] = {base_uri: root}
        self._loader = loader

    @property
    def root(self) -> Any:
        return self.documents[self.base_uri]

    async def prefetch(self) -> None:
        """Load every external document reachable through ``$ref`` (transitively)."""
        pending = [self.base_uri]
        seen = set(pending)
        while pending:
            uri = pending.pop()
            for ref in _refs_in(self.documents[uri]):
                doc_part, _ = _split(ref)
                if not doc_part:
                    continue
                target = urljoin(uri, doc_part) if uri else doc_part
                _check_origin(ref, uri, target)
                if target in seen:
                    continue
                seen.add(target)
                self.documents[target] = await self._load(target)
                pending.append(target)

    async def _load(self, uri: str) -> Any:
        parts = urlsplit(uri)
        if parts.scheme in ("", "file"):
            path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(uri)
            try:
                return await asyncio.to_thread(read_document, path, uri)
            except OSError as exc:
                raise RefError(f"cannot read the referenced document {uri}: {exc}") from exc
        if self._loader is None:
            raise RefError(f"cannot load the referenced document {uri}")
        return await self._loader(uri)

    def resolve(self, ref: str, uri: str) -> tuple[str, Any, str]:
        """``(document uri, node, canonical key)`` for ``ref`` found in document ``uri``."""
        doc_part, pointer = _split(ref)
        target = (urljoin(uri, doc_part) if uri else doc_part) if doc_part else uri
        _check_origin(ref, uri, target)
        if target not in self.documents:
            raise RefError(f"$ref {ref!r}: the document {target or '(root)'} was not loaded")
        node = _walk_pointer(self.documents[target], pointer, f"$ref {ref!r}")
        return target, node, f"{target}#{pointer}"

    def deref(self, node: Any, uri: str | None = None) -> tuple[Any, str]:
        """Follow ``$ref`` chains on ``node`` (parameters, responses...); returns node + uri."""
        uri = self.base_uri if uri is None else uri
        for _ in range(MAX_DEPTH):
            if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
                return node, uri
            uri, node, _ = self.resolve(node["$ref"], uri)
        raise RefError("a $ref chain is too long (or loops)")

    def inline_schema(self, schema: Any, uri: str | None = None) -> dict[str, Any]:
        """A self-contained JSON Schema: refs inlined, cycles as ``$defs``, 3.0 forms fixed."""
        session = self.session()
        out = session.inline(schema, uri)
        return {**out, "$defs": session.defs} if session.defs else out

    def session(self) -> _Inliner:
        """An inliner whose ``$defs`` are shared by several schemas of one tool."""
        return _Inliner(self)


class _Inliner:
    def __init__(self, refs: Refs) -> None:
        self.refs = refs
        self.defs: dict[str, Any] = {}
        self.names: dict[str, str] = {}
        self.pending: list[str] = []
        self.targets: dict[str, tuple[str, Any]] = {}

    def inline(self, schema: Any, uri: str | None = None) -> dict[str, Any]:
        """Inline one schema; cyclic references land in :attr:`defs` (hoist them yourself)."""
        out = self.run(schema, self.refs.base_uri if uri is None else uri, ())
        if not isinstance(out, dict):
            out = {} if out is True or out is None else {"not": {}}
        while self.pending:
            key = self.pending.pop()
            target_uri, node = self.targets[key]
            self.defs[self.names[key]] = self.run(node, target_uri, (key,))
        return out

    def _def_name(self, key: str) -> str:
        if key not in self.names:
            base = _SAFE.sub("_", key.rsplit("/", 1)[-1]) or "Schema"
            name, n = base, 1
            while name in self.names.values():
                n += 1
                name = f"{base}{n}"
            self.names[key] = name
        return self.names[key]

    def run(self, node: Any, uri: str, stack: tuple[str, ...], depth: int = 0) -> Any:
        """Inline one schema object (schema-aware: property *names* are never keywords).

        ``depth`` counts schema objects from the top: refs that are shallow one by one can
        still stack into a schema no serializer or validator can take.
        """
        if len(stack) > MAX_DEPTH:
            raise RefError("schema references nest too deeply")
        if depth > _SCHEMA_NESTING:
            raise RefError(
                f"a schema nests more than {_SCHEMA_NESTING} levels deep once its $refs are inlined"
            )
        depth += 1
        if not isinstance(node, Mapping):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#/$defs/"):
            target_uri, target, key = self.refs.resolve(ref, uri)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if key in stack:
                if key not in self.targets:
                    self.targets[key] = (target_uri, target)
                    self.pending.append(key)
                out: Any = {"$ref": f"#/$defs/{self._def_name(key)}"}
            else:
                out = self.run(target, target_uri, (*stack, key), depth - 1)
            if siblings and isinstance(out, dict):
                extra = self.run(siblings, uri, stack, depth - 1)
                out = {**out, **{k: v for k, v in extra.items() if k not in out}}
            return out
        result: dict[str, Any] = {}
        for keyword, value in node.items():
            if keyword in _SCHEMA_MAPS and isinstance(value, Mapping):
                result[keyword] = {k: self.run(v, uri, stack, depth) for k, v in value.items()}
            elif keyword in _SCHEMA_LISTS and isinstance(value, list):
                result[keyword] = [self.run(v, uri, stack, depth) for v in value]
            elif keyword in _SCHEMA_ONE or (keyword == "items" and isinstance(value, Mapping)):
                result[keyword] = self.run(value, uri, stack, depth)
            else:
                result[keyword] = value
        return _fix_openapi30(result)


_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE = frozenset(
    {
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "unevaluatedProperties",
        "unevaluatedItems",
    }
)
_DROP = ("discriminator", "xml", "externalDocs", "example")


def _fix_openapi30(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 dialect -> JSON Schema 2020-12 (nullable, boolean exclusive bounds)."""
    for key in _DROP:
        schema.pop(key, None)
    if schema.pop("nullable", False) is True:
        kind = schema.get("type")
        if isinstance(kind, str):
            schema["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            schema["type"] = [*kind, "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = schema.get(exclusive)
        if isinstance(flag, bool):
            if flag and bound in schema:
                schema[exclusive] = schema.pop(bound)
            else:
                schema.pop(exclusive)
    return schema


def _refs_in(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
