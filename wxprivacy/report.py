"""The fleet report: one self-contained HTML page from an audit's JSONL (the ``report`` extra).

:func:`render_report` returns the page as a string; :func:`write_report` reads the audit files
and writes it. The page opens offline: its styles, its one script (sorting and filtering the
table) and its charts (inline SVG, drawn by Vega-Lite through ``altair`` and rendered by
``vl-convert-python``) are all inside it, and its Content-Security-Policy forbids every request.
Every value that came from WeChat (privacy keys, error messages, appids) is escaped by Jinja2
(autoescape) or placed in the table with ``textContent``; the table's data sits in a
``<script type="application/json">`` block written by :func:`script_json` (UTF-8 JSON with
``<``, ``>`` and ``&`` escaped), so a ``</script>`` in a value cannot end it; bidirectional
controls are shown by name (``<U+202E>``), so none can reorder a row.

Size: about 50 bytes per Mini Program plus its distinct undeclared-key lists and error messages,
plus 40 KB (``docs/batch-audit.md`` has measured figures).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import orjson

try:
    import jinja2
    from markupsafe import Markup

    from ._report_charts import status_chart, undeclared_chart
except ModuleNotFoundError as exc:  # pragma: no cover - exercised only without the extra
    raise ModuleNotFoundError(
        "the fleet report needs the report extra: pip install 'wxprivacy[report]'", name=exc.name
    ) from exc

from ._audit_file import same_file
from ._audit_records import read_records
from ._errors import InvalidArgumentError
from ._report_charts import CHART_KEYS
from ._report_data import STATUSES, FleetFacts, fleet_facts

__all__ = ["render_report", "write_report"]

LABELS: Final = {
    "failed": "Failed",
    "undeclared": "Undeclared keys",
    "no_contact": "No contact method",
    "no_code": "No code uploaded",
    "compliant": "Compliant",
}
CHANGE_LABELS: Final = (
    ("newly_noncompliant", "newly non-compliant"),
    ("fixed", "fixed"),
    ("newly_failing", "newly failing"),
    ("new", "new Mini Programs"),
    ("gone", "gone"),
    ("other", "other status changes"),
)
CHANGE_ROWS: Final = 200
"""Appids listed per kind of change (the counts are always whole)."""

_SCRIPT_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE: Final = re.compile("[<>&\u2028\u2029]")


def script_json(value: Any) -> Markup:
    """``value`` as JSON for a ``<script type="application/json">`` block: UTF-8 as it is (a
    Chinese character stays 3 bytes, where Jinja2's ``tojson`` writes 6), with ``<``, ``>``
    and ``&`` escaped, so no value can close the block or open a comment."""
    text = orjson.dumps(value).decode()
    return Markup(_SCRIPT_UNSAFE.sub(lambda m: _SCRIPT_ESCAPES[m.group()], text))


_ENV: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("wxprivacy", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=False,
)
_ENV.filters["script_json"] = script_json


def render_report(
    records: Mapping[str, Mapping[str, Any]],
    *,
    since: Mapping[str, Mapping[str, Any]] | None = None,
    source: str = "audit",
    since_source: str = "",
    title: str = "Privacy guideline audit",
    generated: dt.datetime | None = None,
    unreadable: int = 0,
    since_unreadable: int = 0,
) -> str:
    """Render the fleet report as one HTML page.

    Args:
        records: the last record per authorizer, ``{authorizer_appid: record}`` (what
            :func:`wxprivacy.audit.latest_records` reads from an audit's JSONL); records of an
            odd shape are shown as well as they can be, never refused.
        since: the same for an older audit: adds "what changed" (newly non-compliant, fixed,
            newly failing, new and gone Mini Programs, other status changes).
        source: what the records came from, shown under the title (e.g. the file name and when
            it was written).
        since_source: what ``since`` came from.
        title: the page's title.
        generated: when the report was made (default: now, UTC).
        unreadable: lines of the audit file that held no record (the page says so).
        since_unreadable: the same for the older audit.

    Returns:
        The HTML page (UTF-8 text), self-contained.
    """
    facts: FleetFacts = fleet_facts(records, since)
    change_counts = facts.change.counts() if facts.change is not None else {}
    when = generated or dt.datetime.now(dt.UTC)
    notices = _notices(facts, since, unreadable, since_unreadable)
    return _ENV.get_template("report.html.j2").render(
        title=title,
        source=source,
        since_source=since_source,
        generated=when.strftime("%Y-%m-%d %H:%M %Z").strip(),
        facts=facts,
        notices=notices,
        versions=", ".join(map(str, facts.privacy_ver)) or "unknown",
        statuses=STATUSES,
        labels=LABELS,
        status_labels=[LABELS[status] for status in STATUSES],
        undeclared_svg=undeclared_chart(facts.undeclared) if facts.undeclared else "",
        undeclared_cut=max(0, len(facts.undeclared) - CHART_KEYS),
        status_svg=status_chart(facts.by_status, LABELS),
        change_labels=CHANGE_LABELS,
        change_counts=change_counts,
        change_rows=CHANGE_ROWS,
        change_cut=any(count > CHANGE_ROWS for count in change_counts.values()),
    )


def _notices(
    facts: FleetFacts,
    since: Mapping[str, Mapping[str, Any]] | None,
    unreadable: int,
    since_unreadable: int,
) -> list[str]:
    """What a reader must know before trusting the figures."""
    notes = []
    if facts.summary.total == 0:
        notes.append("This audit holds no record of a Mini Program: every figure below is 0.")
    elif facts.summary.ok == 0:
        notes.append("No guideline could be read: every Mini Program below failed.")
    if unreadable:
        notes.append(f"{_lines(unreadable)} of the audit file held no record and were skipped.")
    if since_unreadable:
        notes.append(f"{_lines(since_unreadable)} of the older audit file held no record.")
    if since is not None and not since:
        notes.append("The older audit holds no record: everything counts as new.")
    if since is not None and facts.change is not None:
        if since and facts.summary.total and not set(since) & {row[0] for row in facts.rows}:
            notes.append("The two audits share no Mini Program: are they of the same platform?")
        if facts.since_privacy_ver and facts.since_privacy_ver != facts.privacy_ver:
            now = ", ".join(map(str, facts.privacy_ver)) or "unknown"
            then = ", ".join(map(str, facts.since_privacy_ver))
            notes.append(
                f"The audits read different versions: privacy_ver {now} now, {then} in the "
                "older one; what changed compares them as they are."
            )
    return notes


def _lines(count: int) -> str:
    return "1 line" if count == 1 else f"{count:,} lines"


def write_report(
    audit_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    since: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> int:
    """Read ``audit_file`` (and ``since``), write the report to ``out``; return its size in bytes.

    Raises:
        InvalidArgumentError: ``out`` is one of the audit files, or exists and ``force`` is
            not set (nothing is written).
        OSError: a file cannot be read or written.
    """
    target = Path(out)
    for given in (audit_file, since):
        if given is not None and target.exists() and same_file(target, Path(given)):
            raise InvalidArgumentError(f"{target} is an audit file this report reads")
    if target.exists() and not force:
        raise InvalidArgumentError(f"{target} exists: pass force=True (--force) to replace it")
    records, unreadable = read_records(audit_file)
    older, since_unreadable = read_records(since) if since is not None else (None, 0)
    html = render_report(
        records,
        since=older,
        source=_describe(audit_file),
        since_source=_describe(since) if since is not None else "",
        unreadable=unreadable,
        since_unreadable=since_unreadable,
    )
    data = html.encode("utf-8")
    target.write_bytes(data)
    return len(data)


def _describe(path: str | os.PathLike[str]) -> str:
    """``audit.jsonl (2026-12-05 17:11 UTC)``: a file and when it was written (a name that is
    not UTF-8, e.g. GBK bytes, is shown with U+FFFD where it cannot be read)."""
    written = dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.UTC)
    name = os.fsencode(Path(path).name).decode("utf-8", "replace")
    return f"{name} ({written.strftime('%Y-%m-%d %H:%M UTC')})"
