"""What the fleet report shows, computed from audit records (no HTML, no charts here).

Every Mini Program gets one status, the first of these that applies: ``failed`` (its guideline
could not be read), ``undeclared`` (its code uses privacy keys its guideline does not declare),
``no_contact`` (the guideline names no contact method), ``no_code`` (no code uploaded),
``compliant``. The headline figures are the audit's own summary (:func:`summarize`), so they
equal what ``wxprivacy audit`` printed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._audit_records import NON_API_ERRCODE, AuditSummary, summarize
from ._errcodes import ROWS

__all__ = ["STATUSES", "Change", "FleetFacts", "clean", "fleet_facts", "status_of"]

STATUSES: Final = ("failed", "undeclared", "no_contact", "no_code", "compliant")
"""Every status, worst first (their index is what a table row holds)."""
_MEANINGS: Final = {row[0]: (row[3], row[4]) for row in ROWS}
_MAX_TEXT: Final = 160
"""Characters of an error message kept per Mini Program (the report stays small)."""


def status_of(record: Mapping[str, Any]) -> str:
    """The status of one audit record (see the module docstring)."""
    if not record.get("ok"):
        return "failed"
    if record.get("undeclared_keys"):
        return "undeclared"
    if not record.get("has_contact"):
        return "no_contact"
    if not record.get("code_exist"):
        return "no_code"
    return "compliant"


@attrs.frozen(kw_only=True)
class Change:
    """What changed between an older audit and this one (``--since``).

    Attributes:
        newly_noncompliant: appids compliant then, and read but not compliant now.
        fixed: appids read but not compliant then, compliant now.
        newly_failing: appids read then, failing now.
        new: appids only in this audit.
        gone: appids only in the older one.
        other: appids in both whose status changed otherwise (from failed to read, or from one
            problem to another).
    """

    newly_noncompliant: tuple[str, ...]
    fixed: tuple[str, ...]
    newly_failing: tuple[str, ...]
    new: tuple[str, ...]
    gone: tuple[str, ...]
    other: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """``{name: how many}`` for each field."""
        return {field.name: len(getattr(self, field.name)) for field in attrs.fields(Change)}


@attrs.frozen(kw_only=True)
class FleetFacts:
    """Everything the report shows.

    Attributes:
        summary: the audit's summary (headline figures).
        compliant: how many Mini Programs have the status ``compliant``.
        by_status: ``{status: count}`` for every status in :data:`STATUSES`.
        undeclared: ``[(privacy_key, Mini Programs, WeChat's description), ...]``, most first.
        errors: ``[(errcode or "local", count, meaning, action), ...]``, most first.
        rows: one per Mini Program: ``[appid, status index, [key index, ...], errcode or "",
            message index]``; the indexes point into ``keys`` and ``messages`` (a fleet repeats
            the same few, so the page stays small).
        keys: the distinct undeclared privacy keys (``""`` first).
        messages: the distinct error messages (WeChat's errmsg without its rid, or the SDK's
            message; cut to 160 characters; ``""`` first).
        privacy_ver: the ``privacy_ver`` values of the records (normally one).
        change: what changed since the older audit, or ``None``.
        since_privacy_ver: the ``privacy_ver`` values of the older audit's records.
    """

    summary: AuditSummary
    compliant: int
    by_status: dict[str, int]
    undeclared: list[tuple[str, int, str]]
    errors: list[tuple[int | str, int, str, str]]
    rows: list[list[Any]]
    keys: list[str]
    messages: list[str]
    privacy_ver: list[int]
    change: Change | None = None
    since_privacy_ver: list[int] = attrs.field(factory=list)


def _descriptions(records: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """WeChat's description of each privacy key, from the first answer that carries them."""
    for record in records.values():
        setting = record.get("setting")
        if not isinstance(setting, Mapping):
            continue
        desc = setting.get("privacy_desc")
        items = desc.get("privacy_desc_list") if isinstance(desc, Mapping) else None
        if isinstance(items, list) and items:
            return {
                _text(item.get("privacy_key")): _text(item.get("privacy_desc", ""))
                for item in items
                if isinstance(item, Mapping)
            }
    return {}


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_RID: Final = re.compile(r"(?:rid:\s*\S+|hint:\s*\[[^\]]*\])$")
_RID_TAIL: Final = 120
"""Characters at the end of a message searched for its rid (a bounded search)."""
_BIDI: Final = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(appid: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` in the shape :func:`record_for` writes, whatever a hand-edited or foreign
    JSONL holds (an ``error`` that is a string or null, an errcode that is not an int, keys that
    are not strings): nothing here may stop the report."""
    if not isinstance(record, Mapping):  # a line that is JSON but not a record
        record = {"error": {"message": f"not an audit record: {type(record).__name__}"}}
    error = record.get("error")
    if isinstance(error, str):
        error = {"message": error}
    error = dict(error) if isinstance(error, Mapping) else {}
    code = error.get("errcode")
    if not isinstance(code, int) or isinstance(code, bool):
        error.pop("errcode", None)
    keys = record.get("undeclared_keys")
    keys = [_text(k) for k in keys] if isinstance(keys, list) else []
    for field in ("errmsg", "message"):
        if field in error:
            error[field] = _text(error[field])
    ver = record.get("privacy_ver")
    return {
        **record,
        "authorizer_appid": _text(appid),
        "ok": bool(record.get("ok")),
        "error": error,
        "undeclared_keys": keys,
        "has_contact": bool(record.get("has_contact")),
        "code_exist": bool(record.get("code_exist")),
        "privacy_ver": ver if isinstance(ver, int) and not isinstance(ver, bool) else None,
    }


def _text(value: Any) -> str:
    """``value`` as text a page can hold: a string (anything else in its ``str`` form) whose
    lone surrogates (a broken ``\\ud800`` escape in the JSONL) become U+FFFD."""
    text = value if isinstance(value, str) else str(value)
    text = _SURROGATE.sub("\ufffd", text)
    # a right-to-left override would reverse what follows it in the table: shown by name
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def _message(error: Mapping[str, Any], appid: str) -> str:
    """What a reader needs of an error: WeChat's errmsg (without the rid that makes every one
    unique), else the SDK's message, with the row's own appid taken out (the row shows it), so
    a fleet's messages repeat and are stored once."""
    errmsg = error.get("errmsg")
    text = errmsg if isinstance(errmsg, str) and errmsg else str(error.get("message", ""))
    text = text.rstrip()
    found = _RID.search(text, max(0, len(text) - _RID_TAIL))
    if found:
        text = text[: found.start()].rstrip()
    if appid:
        text = text.replace(appid, "(this Mini Program)")
    return text[:_MAX_TEXT]


class _Index:
    """Distinct strings, each stored once; ``""`` is index 0."""

    def __init__(self) -> None:
        self.items: list[str] = [""]
        self._at: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        at = self._at.get(text)
        if at is None:
            at = self._at[text] = len(self.items)
            self.items.append(text)
        return at


def _row(appid: str, record: Mapping[str, Any], keys: _Index, messages: _Index) -> list[Any]:
    status = status_of(record)
    errcode: int | str = ""
    message = 0
    if status == "failed":
        error = record["error"]
        code = error.get("errcode", "")
        errcode = code if isinstance(code, int) and abs(code) < 2**53 else ""
        message = messages(_message(error, appid))
    used = [keys(key) for key in record["undeclared_keys"]]
    return [appid, STATUSES.index(status), used, errcode, message]


def _change(now: Mapping[str, Mapping[str, Any]], then: Mapping[str, Mapping[str, Any]]) -> Change:
    def status(records: Mapping[str, Mapping[str, Any]], appid: str) -> str:
        return status_of(records[appid])

    both = [appid for appid in now if appid in then]
    named = {
        "newly_noncompliant": tuple(
            a
            for a in both
            if status(then, a) == "compliant" and status(now, a) not in ("compliant", "failed")
        ),
        "fixed": tuple(
            a
            for a in both
            if status(then, a) not in ("compliant", "failed") and status(now, a) == "compliant"
        ),
        "newly_failing": tuple(
            a for a in both if status(then, a) != "failed" and status(now, a) == "failed"
        ),
    }
    seen = {appid for group in named.values() for appid in group}
    return Change(
        **named,
        new=tuple(a for a in now if a not in then),
        gone=tuple(a for a in then if a not in now),
        other=tuple(a for a in both if a not in seen and status(then, a) != status(now, a)),
    )


def fleet_facts(
    records: Mapping[str, Mapping[str, Any]],
    since: Mapping[str, Mapping[str, Any]] | None = None,
) -> FleetFacts:
    """Compute the report's content from the last record per authorizer (and an older audit's).

    Args:
        records: ``{authorizer_appid: record}`` as :func:`latest_records` reads them; records
            of another shape are read as well as they can be (:func:`clean`).
        since: the same for an older audit, or ``None``.
    """
    records = {appid: clean(appid, record) for appid, record in records.items()}
    older = None if since is None else {a: clean(a, r) for a, r in since.items()}
    summary = summarize(records.values())
    statuses = Counter(status_of(record) for record in records.values())
    descriptions = _descriptions(records) or (_descriptions(older) if older else {})
    undeclared = [
        (key, count, descriptions.get(key, ""))
        for key, count in summary.undeclared_key_counts.most_common()
    ]
    errors = []
    for code, count in summary.errors_by_errcode.most_common():
        meaning, action = _MEANINGS.get(code, ("", "")) if isinstance(code, int) else ("", "")
        if code == NON_API_ERRCODE:
            meaning = "no errcode: the network, the token store or a malformed answer"
            action = "see each Mini Program's message"
        errors.append((code, count, meaning, action))
    keys, messages = _Index(), _Index()
    rows = [_row(r["authorizer_appid"], r, keys, messages) for r in records.values()]
    return FleetFacts(
        summary=summary,
        compliant=statuses["compliant"],
        by_status={status: statuses[status] for status in STATUSES},
        undeclared=undeclared,
        errors=errors,
        rows=rows,
        keys=keys.items,
        messages=messages.items,
        privacy_ver=_versions(records),
        change=None if older is None else _change(records, older),
        since_privacy_ver=[] if older is None else _versions(older),
    )


def _versions(records: Mapping[str, Mapping[str, Any]]) -> list[int]:
    return sorted({r["privacy_ver"] for r in records.values() if r["privacy_ver"] is not None})
