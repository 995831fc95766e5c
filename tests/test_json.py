"""``wxprivacy._json.loads``: a body means the same whichever parser reads it.

orjson parses well-formed bodies; what it refuses (raw control characters, as WeChat sends) goes
to ``json.loads``. Regression (trial of issue 12): an integer past 64 bits was a float through
orjson (refused by the field) but an exact int through the fallback (accepted), and past 4,300
digits the fallback failed the whole body.
"""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy._coerce import whole_number
from wxprivacy._json import loads

LITERALS = st.builds(
    lambda sign, digits: sign + digits,
    st.sampled_from(["", "-"]),
    st.one_of(
        st.integers(0, 2**70).map(str),
        st.integers(1, 5000).map(lambda n: "9" * n),
        st.integers(1, 5000).map(lambda n: "1" + "0" * n),
        st.sampled_from([str(2**63), str(2**63 - 1), str(2**64), str(2**64 - 1), str(2**53 + 1)]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(LITERALS)
def test_an_integer_reads_the_same_through_either_parser(literal: str) -> None:
    fallback = loads(b'{"n":%s,"raw":"a\tb"}' % literal.encode())["n"]  # the raw TAB: json.loads
    try:
        direct = orjson.loads(b'{"n":%s}' % literal.encode())["n"]
    except orjson.JSONDecodeError:  # orjson refuses an integer past a float's range
        assert fallback in (float("inf"), float("-inf"))
    else:
        assert fallback == direct and type(fallback) is type(direct)
    number = whole_number(fallback)
    assert number is None or number == int(literal)  # exact, or refused: never another number


def test_a_huge_integer_never_fails_the_body() -> None:
    body = b'{"errcode":0,"n":-%s,"raw":"\t"}' % (b"9" * 4301)
    assert loads(body)["n"] == float("-inf")
