"""Paths to and loaders for the WeChat fixtures copied into tests/fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Any:
    """Return the parsed JSON fixture ``tests/fixtures/<name>``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    """Return the raw bytes of ``tests/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()
