"""What the fleet report shows, computed from audit records (no HTML, no charts here).

Every Mini Program gets one status, the first of these that applies: ``failed`` (its guideline
could not be read), ``undeclared`` (its code uses privacy keys its guideline does not declare),
``no_contact`` (the guideline names no contact method), ``no_code`` (no code uploaded),
``compliant``. The headline figures are the audit's own summary (:func:`summarize`), so they
equal what ``wxprivacy audit`` printed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._audit_records import NON_API_ERRCODE, AuditSummary, summarize
from ._errcodes import ROWS

__all__ = ["STATUSES", "Change", "FleetFacts", "fleet_facts", "status_of"]

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
    """

    newly_noncompliant: tuple[str, ...]
    fixed: tuple[str, ...]
    newly_failing: tuple[str, ...]
    new: tuple[str, ...]
    gone: tuple[str, ...]

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
        rows: one per Mini Program: ``[appid, status index, "key, key", errcode or "",
            message]`` (the message cut to 160 characters).
        change: what changed since the older audit, or ``None``.
    """

    summary: AuditSummary
    compliant: int
    by_status: dict[str, int]
    undeclared: list[tuple[str, int, str]]
    errors: list[tuple[int | str, int, str, str]]
    rows: list[list[Any]]
    change: Change | None = None


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
                str(item.get("privacy_key")): str(item.get("privacy_desc", ""))
                for item in items
                if isinstance(item, Mapping)
            }
    return {}


def _row(appid: str, record: Mapping[str, Any]) -> list[Any]:
    status = status_of(record)
    keys = ", ".join(str(k) for k in record.get("undeclared_keys") or [])
    errcode: int | str = ""
    message = ""
    if status == "failed":
        error = record.get("error")
        error = error if isinstance(error, Mapping) else {}
        code = error.get("errcode")
        errcode = code if isinstance(code, int) else ""
        message = str(error.get("message", ""))[:_MAX_TEXT]
    return [appid, STATUSES.index(status), keys, errcode, message]


def _change(now: Mapping[str, Mapping[str, Any]], then: Mapping[str, Mapping[str, Any]]) -> Change:
    def status(records: Mapping[str, Mapping[str, Any]], appid: str) -> str:
        return status_of(records[appid])

    both = [appid for appid in now if appid in then]
    return Change(
        newly_noncompliant=tuple(
            a
            for a in both
            if status(then, a) == "compliant" and status(now, a) not in ("compliant", "failed")
        ),
        fixed=tuple(
            a
            for a in both
            if status(then, a) not in ("compliant", "failed") and status(now, a) == "compliant"
        ),
        newly_failing=tuple(
            a for a in both if status(then, a) != "failed" and status(now, a) == "failed"
        ),
        new=tuple(a for a in now if a not in then),
        gone=tuple(a for a in then if a not in now),
    )


def fleet_facts(
    records: Mapping[str, Mapping[str, Any]],
    since: Mapping[str, Mapping[str, Any]] | None = None,
) -> FleetFacts:
    """Compute the report's content from the last record per authorizer (and an older audit's).

    Args:
        records: ``{authorizer_appid: record}`` as :func:`latest_records` reads them.
        since: the same for an older audit, or ``None``.
    """
    summary = summarize(records.values())
    statuses = Counter(status_of(record) for record in records.values())
    descriptions = _descriptions(records) or (_descriptions(since) if since else {})
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
    return FleetFacts(
        summary=summary,
        compliant=statuses["compliant"],
        by_status={status: statuses[status] for status in STATUSES},
        undeclared=undeclared,
        errors=errors,
        rows=[_row(appid, record) for appid, record in records.items()],
        change=None if since is None else _change(records, since),
    )
