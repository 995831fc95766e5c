"""The records of a compliance audit: one JSON object per authorizer, and their summary.

Public through :mod:`wxprivacy.audit`, which also runs audits; this module is the bottom of the
audit modules (it imports neither :mod:`wxprivacy._audit_file` nor :mod:`wxprivacy.audit`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import orjson

from . import _serde
from ._errors import WeChatAPIError, WxPrivacyError
from .models import PrivacySetting

__all__ = [
    "AuditSummary",
    "error_record",
    "latest_records",
    "parse_line",
    "read_records",
    "record_for",
    "summarize",
]

NON_API_ERRCODE: Final = "local"
"""The key used in ``AuditSummary.errors_by_errcode`` for errors that carry no errcode."""


def error_record(error: WxPrivacyError) -> dict[str, Any]:
    """The JSON shape of an error: ``{"type", "message", "errcode"?, "errmsg"?, "rid"?}``."""
    record: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, WeChatAPIError):
        record.update(errcode=error.errcode, errmsg=error.errmsg, rid=error.rid)
    return record


def record_for(
    authorizer_appid: str, result: PrivacySetting | WxPrivacyError, *, privacy_ver: int
) -> dict[str, Any]:
    """Build the JSON-lines record for one authorizer.

    Returns:
        ``{"authorizer_appid", "privacy_ver", "ok": True, "undeclared_keys": [...],
        "has_contact": bool, "code_exist": bool, "setting": {...official keys...}}`` on success, or
        ``{"authorizer_appid", "privacy_ver", "ok": False, "error": {...}}`` on failure.
    """
    if isinstance(result, WxPrivacyError):
        return {
            "authorizer_appid": authorizer_appid,
            "privacy_ver": privacy_ver,
            "ok": False,
            "error": error_record(result),
        }
    return {
        "authorizer_appid": authorizer_appid,
        "privacy_ver": privacy_ver,
        "ok": True,
        "undeclared_keys": list(result.undeclared_keys),
        "has_contact": result.has_contact,
        "code_exist": result.code_exist,
        "setting": _serde.unstructure(result),
    }


def dumps_line(record: Mapping[str, Any]) -> bytes:
    """One JSON line (UTF-8, raw Chinese, newline-terminated); never raises on odd text.

    Text that cannot be encoded as UTF-8 (a lone surrogate) is written with U+FFFD in its place,
    and a record nested too deeply to write (an unknown key WeChat nested hundreds of levels
    deep) is written as a failed record that says so, so one authorizer's broken data never stops
    an audit.
    """
    try:
        return orjson.dumps(record) + b"\n"
    except (orjson.JSONEncodeError, TypeError):
        pass
    try:
        text = json.dumps(record, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return dumps_line(_unwritable(record))
    return text.encode("utf-8", "replace") + b"\n"


def _unwritable(record: Mapping[str, Any]) -> dict[str, Any]:
    """The failed record that stands for ``record``, which is nested too deeply to write."""
    return {
        "authorizer_appid": str(record.get("authorizer_appid", "")),
        "privacy_ver": record.get("privacy_ver"),
        "ok": False,
        "error": {
            "type": "ResponseFormatError",
            "message": "the answer is nested too deeply to write as JSON (an unknown key holds "
            "hundreds of nested levels); nothing of it was kept",
        },
    }


def parse_line(line: bytes) -> dict[str, Any] | None:
    """The record on one line of an audit's JSONL file, or ``None`` when the line holds none.

    A line holds a record when it is whole (ends with a newline) and is a JSON object with a
    string ``authorizer_appid``; a torn last line (an interrupted write) holds none.
    """
    if not line.endswith(b"\n"):
        return None
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(record, dict) and isinstance(record.get("authorizer_appid"), str):
        return record
    return None


def latest_records(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read an audit's JSONL file: the last record of each authorizer.

    A later line for the same ``authorizer_appid`` replaces an earlier one (``--resume``
    appends the authorizers it fetched again). Lines that hold no record are skipped (see
    :func:`read_records` for how many).

    Returns:
        ``{authorizer_appid: record}``, in the order of each authorizer's last line.
    """
    return read_records(path)[0]


def read_records(path: str | os.PathLike[str]) -> tuple[dict[str, dict[str, Any]], int]:
    """:func:`latest_records`, and how many non-empty lines held no record (corrupt, torn, or
    not an audit record): a reader should be told of them.

    Raises:
        OSError: the file cannot be read.
    """
    latest: dict[str, dict[str, Any]] = {}
    unreadable = 0
    with open(path, "rb") as fh:
        for line in fh:
            record = parse_line(line)
            if record is None:
                unreadable += bool(line.strip())
                continue
            latest.pop(record["authorizer_appid"], None)
            latest[record["authorizer_appid"]] = record
    return latest, unreadable


@attrs.define
class AuditSummary:
    """Counts gathered over an audit; feed records with :meth:`add`.

    Attributes:
        total: authorizers seen.
        ok: guidelines read successfully.
        undeclared: ``{authorizer_appid: [privacy_key, ...]}`` for those using undeclared keys.
        undeclared_key_counts: how many Mini Programs use each undeclared key.
        no_contact: appids whose ``owner_setting`` has no contact method.
        no_code: appids with ``code_exist`` false.
        errors_by_errcode: ``{errcode or "local": count}``.
        error_appids: ``{errcode or "local": [authorizer_appid, ...]}``.
    """

    total: int = 0
    ok: int = 0
    undeclared: dict[str, list[str]] = attrs.Factory(dict)
    undeclared_key_counts: Counter[str] = attrs.Factory(Counter)
    no_contact: list[str] = attrs.Factory(list)
    no_code: list[str] = attrs.Factory(list)
    errors_by_errcode: Counter[int | str] = attrs.Factory(Counter)
    error_appids: dict[int | str, list[str]] = attrs.Factory(dict)

    @property
    def failed(self) -> int:
        """Authorizers whose guideline could not be read."""
        return self.total - self.ok

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one record as built by :func:`record_for` (or read back from the JSONL file)."""
        appid = record["authorizer_appid"]
        self.total += 1
        if not record.get("ok"):
            code = record.get("error", {}).get("errcode", NON_API_ERRCODE)
            key: int | str = code if code is not None else NON_API_ERRCODE
            self.errors_by_errcode[key] += 1
            self.error_appids.setdefault(key, []).append(appid)
            return
        self.ok += 1
        keys = record.get("undeclared_keys") or []
        if keys:
            self.undeclared[appid] = list(keys)
            self.undeclared_key_counts.update(keys)
        if not record.get("has_contact"):
            self.no_contact.append(appid)
        if not record.get("code_exist"):
            self.no_code.append(appid)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (used by ``wxprivacy audit --summary-json``)."""
        return {
            "total": self.total,
            "ok": self.ok,
            "failed": self.failed,
            "undeclared": self.undeclared,
            "undeclared_key_counts": dict(self.undeclared_key_counts.most_common()),
            "no_contact": self.no_contact,
            "no_code": self.no_code,
            "errors_by_errcode": {str(k): v for k, v in self.errors_by_errcode.most_common()},
        }


def summarize(records: Iterable[Mapping[str, Any]]) -> AuditSummary:
    """Build an :class:`AuditSummary` from records."""
    summary = AuditSummary()
    for record in records:
        summary.add(record)
    return summary
