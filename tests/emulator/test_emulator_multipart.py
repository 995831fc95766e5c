"""Uploads are split by python-multipart, the way a real server parses them.

Bodies are built by hand here (not by httpx), so boundaries, file names, part headers, sizes and
neighbouring fields vary beyond what one client sends; the emulator must answer each with the
errcode WeChat gives for that file.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from wxprivacy.emulator import Emulator
from wxprivacy.emulator._bodies import Part, parse_multipart

UP = "/cgi-bin/component/uploadprivacyextfile"
APPID = "wx00000000000000aa"
LIMIT = 100 * 1024

# RFC 2046 section 5.1.1: 1 to 70 of these, the last one not a space.
BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
boundaries = st.text(alphabet=BCHARS, min_size=1, max_size=70).filter(lambda b: b[-1] != " ")
stems = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"\\%'
    ),
    min_size=1,
    max_size=30,
)
extensions = st.sampled_from([".txt", ".txt", ".TXT", ".Txt", ".pdf", ".txt.pdf", ""])
# Contents from none to past the 100 KB limit, rich in CR, LF and dashes.
sizes = st.one_of(
    st.sampled_from([0, 1, 2, 4095, LIMIT - 1, LIMIT, LIMIT + 1, 110_000]),
    st.integers(0, 200),
    st.integers(201, 110_000),
)
fields = st.dictionaries(
    st.text(alphabet="abcdefghij_", min_size=1, max_size=8).filter(lambda n: n != "file"),
    st.binary(max_size=40),
    max_size=3,
)


def content_of(size: int, seed: bytes) -> bytes:
    pattern = (seed or b"x") + b"\r\n--\r\n-\n\r"
    return (pattern * (size // len(pattern) + 1))[:size]


@dataclass
class Upload:
    boundary: str
    filename: str | None
    content: bytes
    before: dict[str, bytes]
    after: dict[str, bytes]
    quoted: bool
    lower_headers: bool

    @property
    def content_type(self) -> str:
        shown = f'"{self.boundary}"' if self.quoted else self.boundary
        return f"multipart/form-data; boundary={shown}"

    def part(self, name: str, value: bytes, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"Content-Disposition: {disposition}\r\n"
        if filename is not None:
            head += "Content-Type: text/plain\r\n"
        if self.lower_headers:  # header names and parameters in lower case, the file name as is
            head = head.lower()
            if filename is not None:
                head = head.replace(f'filename="{filename.lower()}"', f'filename="{filename}"')
        return b"--" + self.boundary.encode() + b"\r\n" + head.encode() + b"\r\n" + value + b"\r\n"

    @property
    def body(self) -> bytes:
        parts = [self.part(n, v) for n, v in self.before.items()]
        if self.filename is not None:
            parts.append(self.part("file", self.content, self.filename))
        parts += [self.part(n, v) for n, v in self.after.items()]
        return b"".join(parts) + b"--" + self.boundary.encode() + b"--\r\n"

    def expected(self) -> int:
        if self.filename is None:
            return 41005
        if not self.filename.lower().endswith(".txt"):
            return 40006
        if not self.content or len(self.content) > LIMIT:
            return 40126
        return 0


@st.composite
def uploads(draw: st.DrawFn) -> Upload:
    boundary = draw(boundaries)
    token_safe = all(c not in "'()+,/:=? " for c in boundary)
    upload = Upload(
        boundary=boundary,
        filename=draw(st.builds(str.__add__, stems, extensions))
        if draw(st.integers(0, 3))
        else None,
        content=content_of(draw(sizes), draw(st.binary(max_size=8))),
        before=draw(fields),
        after=draw(fields),
        quoted=draw(st.booleans()) or not token_safe,
        lower_headers=draw(st.booleans()),
    )
    delimiter = b"\r\n--" + boundary.encode()
    assume(all(delimiter not in b"\r\n" + v for v in (upload.content, *upload.before.values())))
    assume(all(delimiter not in b"\r\n" + v for v in upload.after.values()))
    return upload


async def post(emu: Emulator, body: bytes, content_type: str | None) -> int:
    token = emu.current_authorizer_access_token(APPID)
    assert token is not None
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await emu.handle("POST", UP, {"access_token": token}, body, headers)
    return int(orjson.loads(response.body)["errcode"])


async def emulator() -> Emulator:
    emu = Emulator()
    emu.add_authorizer(APPID)
    ticket = emu.component_verify_ticket
    body = {
        "component_appid": emu.component_appid,
        "component_appsecret": emu.component_appsecret,
        "component_verify_ticket": ticket,
    }
    path = "/cgi-bin/component/api_component_token"
    ctoken = (await emu.handle("POST", path, {}, orjson.dumps(body), {})).json()
    body = {
        "component_appid": emu.component_appid,
        "authorizer_appid": APPID,
        "authorizer_refresh_token": emu.refresh_token(APPID),
    }
    query = {"component_access_token": ctoken["component_access_token"]}
    path = "/cgi-bin/component/api_authorizer_token"
    await emu.handle("POST", path, query, orjson.dumps(body), {})
    return emu


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upload=uploads())
@example(  # the test's own fault: lower-casing put back "L" in every "l" (name="fiLe": 41005)
    upload=Upload("0", "L", b"", {}, {}, quoted=False, lower_headers=True)
)
async def test_any_upload_gets_wechats_errcode_for_its_file(upload: Upload) -> None:
    emu = await emulator()
    errcode = await post(emu, upload.body, upload.content_type)
    event(f"errcode {errcode}")
    event(
        "content "
        + (
            "empty"
            if not upload.content
            else f"<= {LIMIT}"
            if len(upload.content) <= LIMIT
            else f"> {LIMIT}"
        )
    )
    assert errcode == upload.expected()
    assert len(emu.uploaded_media_ids(APPID)) == (1 if errcode == 0 else 0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upload=uploads())
def test_the_parser_gives_back_every_part(upload: Upload) -> None:
    parts = parse_multipart(upload.body, upload.content_type)
    expected = {name: Part(None, value) for name, value in upload.before.items()}
    if upload.filename is not None:
        expected["file"] = Part(upload.filename, upload.content)
    expected.update({name: Part(None, value) for name, value in upload.after.items()})
    assert parts == expected


@settings(max_examples=40, deadline=None)
@given(upload=uploads(), extra=st.integers(min_value=0, max_value=40))
def test_a_cut_body_loses_only_the_unfinished_part(upload: Upload, extra: int) -> None:
    assume(not set(upload.before) & set(upload.after))
    complete = parse_multipart(upload.body, upload.content_type)
    assert complete is not None
    names = list(complete)
    # cut into the closing delimiter "--BOUNDARY--\r\n", maybe into the last part too
    cut = len(upload.boundary) + 5 + extra
    parts = parse_multipart(upload.body[:-cut], upload.content_type)
    assert parts is not None
    if names:
        assert names[-1] not in parts
        assert all(complete[name] == part for name, part in parts.items())
        assert set(parts) <= set(names[:-1])


async def test_the_boundary_comes_from_the_content_type() -> None:
    emu = await emulator()
    good = Upload("xYz", "guide.txt", b"text", {}, {}, False, False)
    assert await post(emu, good.body, good.content_type) == 0
    assert await post(emu, good.body, None) == 41005  # no Content-Type: no boundary
    assert await post(emu, good.body, "multipart/form-data") == 41005
    assert await post(emu, good.body, "multipart/form-data; boundary=other") == 41005
    assert await post(emu, good.body, "multipart/mixed; boundary=xYz") == 41005
    assert await post(emu, good.body, "text/plain; boundary=xYz") == 41005
    assert await post(emu, good.body, 'Multipart/Form-Data; charset=utf-8; BOUNDARY="xYz"') == 0
    assert await post(emu, b'{"file": "abc"}', "application/json") == 41005


async def test_a_plain_field_named_file_is_no_file() -> None:
    emu = await emulator()
    plain = Upload("b", None, b"", {}, {"file": b"guide.txt"}, False, False)
    assert await post(emu, plain.body, plain.content_type) == 41005


def test_a_body_that_breaks_the_multipart_grammar_is_refused() -> None:
    content_type = "multipart/form-data; boundary=b"
    assert parse_multipart(b"--b\r\nno blank line", content_type) in ({}, None)
    assert parse_multipart(b"--bX\r\n\r\n", content_type) is None
    assert parse_multipart(b"", content_type) == {}


@pytest.mark.parametrize(("size", "errcode"), [(0, 40126), (1, 0), (LIMIT, 0), (LIMIT + 1, 40126)])
@pytest.mark.parametrize("boundary", ["a", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "x y'z()"])
async def test_the_size_limit_at_its_edges(boundary: str, size: int, errcode: int) -> None:
    emu = await emulator()
    upload = Upload(boundary, "说明.txt", content_of(size, b"\r\n"), {}, {}, True, False)
    assert await post(emu, upload.body, upload.content_type) == errcode
