"""Reading request bodies the way WeChat does: JSON objects, and ``multipart/form-data`` uploads.

Multipart bodies are split by python-multipart's streaming parser (the one Starlette and FastAPI
use), with the boundary taken from the request's ``Content-Type`` header, so an upload the
emulator accepts is one a real server parses the same way. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

import orjson

__all__ = ["Part", "content_type", "json_object", "parse_multipart", "wechat_json"]

# A \\u escape that is not itself escaped: WeChat keeps such text literally (see wechat_json).
_UNICODE_ESCAPE: Final = re.compile(rb"(?<!\\)((?:\\\\)*)\\u")


class Part(NamedTuple):
    """One part of a ``multipart/form-data`` body."""

    filename: str | None
    """The ``filename`` of its Content-Disposition (``None`` for a plain form field)."""
    content: bytes
    """The part's bytes."""


def json_object(body: bytes) -> dict[str, Any] | None:
    """Parse ``body`` as a JSON object; ``None`` when it is empty, invalid or not an object."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def wechat_json(body: bytes) -> dict[str, Any] | None:
    """Parse a body the way setprivacysetting reads it: ``\\uXXXX`` escapes stay literal text.

    WeChat shows ``\\u5929`` to users verbatim and rejects ``"30\\u5929"`` as a storage period
    (86072), so the emulator keeps the six characters instead of decoding them.
    """
    return json_object(_UNICODE_ESCAPE.sub(rb"\1\\\\u", body))


def content_type(headers: Mapping[str, str]) -> str:
    """The ``Content-Type`` request header, whatever the case of its name (``""`` if absent)."""
    value = headers.get("content-type")
    if value is not None:
        return value
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part] | None:
    """Split a ``multipart/form-data`` body into ``{field name: Part}`` (python-multipart).

    Args:
        body: the raw request body.
        content_type: the request's ``Content-Type``; its ``boundary`` parameter delimits parts.

    Returns:
        The parts that were complete, by field name (the last one wins), or ``None`` when the
        Content-Type is not ``multipart/form-data`` with a boundary, or the body is malformed.

    Raises:
        ModuleNotFoundError: python-multipart is not installed (the ``emulator`` extra).
    """
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        return None
    parts: dict[str, Part] = {}
    header_name = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}
    content = bytearray()

    def on_part_begin() -> None:
        headers.clear()
        content.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        content.extend(data[start:end])

    def on_part_end() -> None:
        disposition, params = parse_options_header(headers.get(b"content-disposition"))
        name = params.get(b"name")
        if disposition != b"form-data" or name is None:
            return
        filename = params.get(b"filename")
        parts[name.decode("utf-8", "replace")] = Part(
            None if filename is None else filename.decode("utf-8", "replace"), bytes(content)
        )

    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )
        parser.write(body)
        parser.finalize()
    except FormParserError:
        return None
    return parts
