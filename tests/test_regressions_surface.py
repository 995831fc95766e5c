"""Regressions from the issue-4 trial: each with the exact input that failed."""

from __future__ import annotations

import os

import pytest
from surface_helpers import emulated

from wxprivacy import InvalidArgumentError, OwnerSetting, PrivacyInterfaceError, SettingItem
from wxprivacy._errors import error_for
from wxprivacy._privacy_validate import apply_interface_body, read_ext_file
from wxprivacy.emulator import Emulator

OWNER = OwnerSetting(contact_email="privacy@example.com", notice_method="弹窗")


async def test_lone_surrogate_in_a_request_is_a_typed_error_naming_the_field() -> None:
    emu = Emulator(authorizers=3, seed=0)
    appid = emu.authorizer_appids[0]
    async with emulated(emu) as client:
        emu.reset_calls()
        with pytest.raises(InvalidArgumentError, match=r"setting_list\[0\]\.privacy_text"):
            await client.set_privacy_setting(
                appid,
                owner_setting=OWNER,
                setting_list=[SettingItem(privacy_key="UserInfo", privacy_text="a\ud800")],
            )
    assert emu.calls["/cgi-bin/component/setprivacysetting"] == 0


async def test_float_auth_type_is_rejected() -> None:
    emu = Emulator(authorizers=1, seed=0)
    async with emulated(emu) as client:
        with pytest.raises(InvalidArgumentError, match="auth_type"):
            await client.authorization_url("https://example.com/cb", auth_type=3.0)  # type: ignore[arg-type]


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


def test_61038_is_a_privacy_interface_error() -> None:
    err = error_for(61038, "x", rid=None, endpoint="/wxa/security/apply_privacy_interface")
    assert isinstance(err, PrivacyInterfaceError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"api_name": "wx.get\tLocation"}, "api_name"),
        ({"url_list": ["https://"]}, r"url_list\[0\]"),
    ],
)
def test_apply_validation_gaps(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "api_name": "wx.getLocation",
        "content": "配送需要定位",
        "url_list": (),
        "pic_list": (),
        "video_list": (),
    }
    args.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=field):
        apply_interface_body(**args)  # type: ignore[arg-type]
