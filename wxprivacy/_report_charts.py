"""The fleet report's two charts, drawn by Vega-Lite (``altair``) and rendered offline to SVG
(``vl-convert-python``), so the page needs no script to draw them and no network to load one.

Why these libraries: Vega-Lite specs are small and declarative, and ``vl-convert`` renders them
to SVG in-process (a bundled Deno/Rust renderer, no browser, no CDN); plotly's own JavaScript
bundle alone is larger than the report's 2 MB budget for 10,000 Mini Programs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import altair as alt
import vl_convert

__all__ = ["CHART_KEYS", "label", "status_chart", "undeclared_chart"]

CHART_KEYS: Final = 20
"""Undeclared keys drawn at most (the table lists them all)."""
_COLORS: Final = {
    "failed": "#b42318",
    "undeclared": "#dc6803",
    "no_contact": "#ca8504",
    "no_code": "#667085",
    "compliant": "#12b76a",
}


_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot hold: vl-convert's SVG renderer aborts the process on one."""
_LABEL: Final = 60
"""Characters of a label drawn at most (the table beside the chart holds the whole value)."""


def label(text: str) -> str:
    """``text`` as a chart can draw it: characters XML cannot hold become U+FFFD, and a long
    value is cut to 60 characters with an ellipsis."""
    text = _NOT_XML.sub("\ufffd", str(text))
    return text if len(text) <= _LABEL else text[: _LABEL - 1] + "…"


def _svg(chart: alt.TopLevelMixin) -> str:
    svg: str = vl_convert.vegalite_to_svg(chart.to_dict())
    return svg


def undeclared_chart(undeclared: Sequence[tuple[str, int, str]]) -> str:
    """A horizontal bar per undeclared privacy key: how many Mini Programs use it undeclared
    (the most used first, at most 20). Returns SVG markup (text in it is XML-escaped)."""
    data = [
        {"privacy_key": label(key), "mini_programs": count}
        for key, count, _ in undeclared[:CHART_KEYS]
    ]
    chart = (
        alt.Chart(alt.InlineData(values=data))
        .mark_bar(color=_COLORS["undeclared"])
        .encode(
            x=alt.X(
                "mini_programs:Q",
                title="Mini Programs using it undeclared",
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            y=alt.Y("privacy_key:N", sort="-x", title=None),
            tooltip=["privacy_key:N", "mini_programs:Q"],
        )
        .properties(width=520, height=max(40, 22 * len(data)))
    )
    return _svg(chart)


def status_chart(by_status: dict[str, int], labels: dict[str, str]) -> str:
    """One bar per status (``by_status``), labelled by ``labels``. Returns SVG markup."""
    data = [
        {"status": label(labels[status]), "mini_programs": count, "key": status}
        for status, count in by_status.items()
    ]
    chart = (
        alt.Chart(alt.InlineData(values=data))
        .mark_bar()
        .encode(
            x=alt.X(
                "mini_programs:Q", title="Mini Programs", axis=alt.Axis(format="d", tickMinStep=1)
            ),
            y=alt.Y("status:N", sort=[labels[s] for s in by_status], title=None),
            color=alt.Color(
                "key:N",
                scale=alt.Scale(domain=list(_COLORS), range=list(_COLORS.values())),
                legend=None,
            ),
            tooltip=["status:N", "mini_programs:Q"],
        )
        .properties(width=520, height=22 * len(data))
    )
    return _svg(chart)
