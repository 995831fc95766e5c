"""The fleet report: one self-contained HTML page from an audit's JSONL (the ``report`` extra).

:func:`render_report` returns the page as a string; :func:`write_report` reads the audit files
and writes it. The page opens offline: its styles, its one script (sorting and filtering the
table) and its charts (inline SVG, drawn by Vega-Lite through ``altair`` and rendered by
``vl-convert-python``) are all inside it, and its Content-Security-Policy forbids every request.
Every value that came from WeChat (privacy keys, error messages, appids) is escaped by Jinja2
(autoescape) or placed in the table with ``textContent``; the table's data sits in a
``<script type="application/json">`` block written by Jinja2's ``tojson`` (``<``, ``>``, ``&``
and ``'`` escaped), so a ``</script>`` in a value cannot end it.

Size: about 130 bytes per Mini Program plus 40 KB (a 10,000-authorizer report is about 1.4 MB;
see ``docs/batch-audit.md`` for measured figures).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

try:
    import jinja2

    from ._report_charts import status_chart, undeclared_chart
except ModuleNotFoundError as exc:  # pragma: no cover - exercised only without the extra
    raise ModuleNotFoundError(
        "the fleet report needs the report extra: pip install 'wxprivacy[report]'", name=exc.name
    ) from exc

from ._audit_records import latest_records
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
)
CHANGE_ROWS: Final = 200
"""Appids listed per kind of change (the counts are always whole)."""

_ENV: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("wxprivacy", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=False,
)


def render_report(
    records: Mapping[str, Mapping[str, Any]],
    *,
    since: Mapping[str, Mapping[str, Any]] | None = None,
    source: str = "audit",
    since_source: str = "",
    title: str = "Privacy guideline audit",
    generated: dt.datetime | None = None,
) -> str:
    """Render the fleet report as one HTML page.

    Args:
        records: the last record per authorizer, ``{authorizer_appid: record}`` (what
            :func:`wxprivacy.audit.latest_records` reads from an audit's JSONL).
        since: the same for an older audit: adds "what changed" (newly non-compliant, fixed,
            newly failing, new and gone Mini Programs).
        source: what the records came from, shown under the title (e.g. the file name).
        since_source: what ``since`` came from.
        title: the page's title.
        generated: when the report was made (default: now, UTC).

    Returns:
        The HTML page (UTF-8 text), self-contained.
    """
    facts: FleetFacts = fleet_facts(records, since)
    change_counts = facts.change.counts() if facts.change is not None else {}
    when = generated or dt.datetime.now(dt.UTC)
    return _ENV.get_template("report.html.j2").render(
        title=title,
        source=source,
        since_source=since_source,
        generated=when.strftime("%Y-%m-%d %H:%M %Z").strip(),
        facts=facts,
        statuses=STATUSES,
        labels=LABELS,
        status_labels=[LABELS[status] for status in STATUSES],
        undeclared_svg=undeclared_chart(facts.undeclared) if facts.undeclared else "",
        status_svg=status_chart(facts.by_status, LABELS),
        change_labels=CHANGE_LABELS,
        change_counts=change_counts,
        change_rows=CHANGE_ROWS,
        change_cut=any(count > CHANGE_ROWS for count in change_counts.values()),
    )


def write_report(
    audit_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    since: str | os.PathLike[str] | None = None,
) -> int:
    """Read ``audit_file`` (and ``since``), write the report to ``out``; return its size in bytes.

    Raises:
        OSError: a file cannot be read or written.
    """
    records = latest_records(audit_file)
    older = latest_records(since) if since is not None else None
    html = render_report(
        records,
        since=older,
        source=Path(audit_file).name,
        since_source=Path(since).name if since is not None else "",
    )
    data = html.encode("utf-8")
    Path(out).write_bytes(data)
    return len(data)
