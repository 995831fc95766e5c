"""Issue 11 §4: an unknown key nested ~1,000 deep no longer crashes the audit.

Before: ``wxprivacy audit`` died with a ``RecursionError`` while writing such an authorizer's
record, after writing half of the records, and every ``--resume`` died again on it.
"""

from __future__ import annotations

import json

import pytest
from fixture_data import fixture_bytes

from wxprivacy import _serde
from wxprivacy._audit_records import dumps_line, parse_line, record_for, summarize
from wxprivacy.models import PrivacySetting


@pytest.mark.parametrize("levels", [1, 100, 255, 600, 990, 1000, 1023])
@pytest.mark.parametrize("as_list", [False, True])
def test_a_deep_unknown_key_gives_a_record_that_says_so(levels: int, as_list: bool) -> None:
    opening, closing = ("[", "]") if as_list else ('{"k":', "}")
    base = json.loads(fixture_bytes("getprivacysetting_full.json"))
    text = (
        json.dumps(base)[:-1]
        + ', "brand_new_key": '
        + opening * levels
        + '"x"'
        + closing * levels
        + "}"
    )
    data = _serde.loads(text.encode())
    setting = _serde.structure_response(data, PrivacySetting, endpoint="/x")
    line = dumps_line(record_for("wx1111111111111111", setting, privacy_ver=2))
    record = parse_line(line)
    assert record is not None  # one whole, readable line: the audit goes on, --resume reads it
    assert record["authorizer_appid"] == "wx1111111111111111"
    if record["ok"]:
        assert levels < 990  # written in full where JSON can hold it
    else:
        assert "nested too deeply" in record["error"]["message"]
    assert summarize([record]).failed == (0 if record["ok"] else 1)
