"""uploadprivacyextfile: multipart field ``file``, local .txt/size checks, errcodes, emulator."""

from __future__ import annotations

import io
import os
from pathlib import Path

import attrs
import httpx
import pytest
from client_factory import APPID, OWNER, emulated, make
from fakes import FakeWeChat, errcode

from wxprivacy import (
    InvalidArgumentError,
    PrivacyConfigError,
    ResponseFormatError,
    UploadRejectedError,
)
from wxprivacy._privacy_validate import read_ext_file
from wxprivacy.emulator import Emulator

UP = "/cgi-bin/component/uploadprivacyextfile"
TEXT = "隐私保护指引补充说明\n".encode()


def media(_req: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, content=b'{"errcode":0,"errmsg":"ok","ext_file_media_id":"2112311471891169280"}'
    )


def _multipart(request: httpx.Request) -> tuple[str, bytes]:
    from wxprivacy.emulator._bodies import parse_multipart

    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = parse_multipart(request.content, request.headers["content-type"])
    assert parts is not None
    assert list(parts) == ["file"]
    name, content = parts["file"]
    assert name is not None
    return name, content


async def test_upload_from_path_is_multipart_field_file(tmp_path: Path) -> None:
    path = tmp_path / "guide.TXT"
    path.write_bytes(TEXT)
    fake = FakeWeChat()
    fake.script[UP] = [media]
    client = await make(fake)
    assert await client.upload_privacy_ext_file(APPID, path) == "2112311471891169280"
    request = fake.requests[-1]
    assert request.method == "POST" and request.url.path == UP
    assert dict(request.url.params) == {"access_token": fake.authorizer_tokens[APPID][0]}
    assert _multipart(request) == ("guide.TXT", TEXT)
    assert b"Content-Type: text/plain" in request.content


async def test_upload_from_bytes_and_file_objects(tmp_path: Path) -> None:
    fake = FakeWeChat()
    fake.script[UP] = [media, media, media]
    client = await make(fake)
    await client.upload_privacy_ext_file(APPID, TEXT)
    assert _multipart(fake.requests[-1]) == ("privacy.txt", TEXT)
    await client.upload_privacy_ext_file(APPID, io.BytesIO(TEXT))
    assert _multipart(fake.requests[-1]) == ("privacy.txt", TEXT)
    path = tmp_path / "x.txt"
    path.write_bytes(TEXT)
    with path.open("rb") as fh:
        await client.upload_privacy_ext_file(APPID, fh)
    assert _multipart(fake.requests[-1]) == ("x.txt", TEXT)


async def test_exactly_100_kb_is_accepted() -> None:
    fake = FakeWeChat()
    fake.script[UP] = [media]
    client = await make(fake)
    await client.upload_privacy_ext_file(APPID, b"a" * 102_400)
    assert fake.calls[UP] == 1


async def test_bad_files_are_rejected_before_any_request(tmp_path: Path) -> None:
    fake = FakeWeChat()
    client = await make(fake)
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(TEXT)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 102_401)
    text_mode = (tmp_path / "t.txt").open("w", encoding="utf-8")
    named_pdf = io.BytesIO(TEXT)
    named_pdf.name = "guide.pdf"  # type: ignore[attr-defined]
    cases: list[tuple[object, str]] = [
        (pdf, ".txt"),
        (str(pdf), ".txt"),
        (big, "100 KB"),
        (b"a" * 102_401, "100 KB"),
        (io.BytesIO(b"a" * 200_000), "100 KB"),
        (b"", "empty"),
        (tmp_path / "missing.txt", "cannot read"),
        (text_mode, "binary mode"),
        (named_pdf, ".txt"),
        (12345, "must be a path"),
    ]
    try:
        for value, message in cases:
            with pytest.raises(InvalidArgumentError, match=message) as info:
                await client.upload_privacy_ext_file(APPID, value)  # type: ignore[arg-type]
            assert str(info.value).startswith("file")
    finally:
        text_mode.close()
    assert fake.calls == {}


@pytest.mark.parametrize("code", [40006, 40126])
async def test_upload_errcodes(code: int) -> None:
    fake = FakeWeChat()
    fake.script[UP] = [errcode(code)]
    client = await make(fake)
    with pytest.raises(UploadRejectedError) as info:
        await client.upload_privacy_ext_file(APPID, TEXT)
    assert info.value.errcode == code


async def test_answer_without_media_id_is_a_format_error() -> None:
    fake = FakeWeChat()
    fake.script[UP] = [lambda _r: httpx.Response(200, content=b'{"errcode":0,"errmsg":"ok"}')]
    client = await make(fake)
    with pytest.raises(ResponseFormatError) as info:
        await client.upload_privacy_ext_file(APPID, TEXT)
    assert info.value.field_path == "ext_file_media_id"


async def test_numeric_media_id_becomes_text() -> None:
    fake = FakeWeChat()
    body = b'{"errcode":0,"errmsg":"ok","ext_file_media_id":2112311471891169280}'
    fake.script[UP] = [lambda _r: httpx.Response(200, content=body)]
    client = await make(fake)
    assert await client.upload_privacy_ext_file(APPID, TEXT) == "2112311471891169280"


async def test_upload_then_set_on_the_emulator() -> None:
    emu = Emulator()
    emu.add_authorizer(APPID)
    async with emulated(emu) as client:
        media_id = await client.upload_privacy_ext_file(APPID, TEXT)
        assert media_id.isdigit() and emu.uploaded_media_ids(APPID) == {media_id}
        with pytest.raises(PrivacyConfigError) as info:
            bogus = attrs.evolve(OWNER, ext_file_media_id="1234")
            await client.set_privacy_setting(APPID, owner_setting=bogus)
        assert info.value.errcode == 86073
        owner = attrs.evolve(OWNER, ext_file_media_id=media_id)
        await client.set_privacy_setting(APPID, owner_setting=owner)
        setting = await client.get_privacy_setting(APPID)
        assert setting.owner_setting is not None
        assert setting.owner_setting.ext_file_media_id == media_id


# -- regressions from the issue-4 trial (each with the exact input that failed) -------------------


def test_upload_reads_an_unbuffered_pipe_to_the_end() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"0123456789")
    os.write(write_end, b"abcdefghij")
    os.close(write_end)

    class Chunky:
        """A pipe that returns at most 10 bytes per read, like an unbuffered file."""

        name = "guideline.txt"

        def read(self, size: int = -1) -> bytes:
            return os.read(read_end, min(10, size if size > 0 else 10))

    try:
        name, data = read_ext_file(Chunky())
    finally:
        os.close(read_end)
    assert (name, data) == ("guideline.txt", b"0123456789abcdefghij")
