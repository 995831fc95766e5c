"""Placeholder until the converter lands (replaced by the serde branch)."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON with raw Chinese."""
    return orjson.dumps(obj)


def structure_response(data: Any, cls: type[T], *, endpoint: str) -> T:
    """Placeholder."""
    raise NotImplementedError
