"""Issue 12, done when: one real endpoint added as the model module, one endpoint method and one
emulator route (``get_code_privacy_info``, with its 61039 retry and its two lists)."""

from __future__ import annotations

import httpx
import pytest

from wxprivacy import CodePrivacyInfo, ComponentClient, PrivacyInterfaceError
from wxprivacy.emulator import Emulator


@pytest.mark.parametrize("pending", [0, 1, 3])
async def test_get_code_privacy_info_waits_out_61039_and_reads_both_lists(pending: int) -> None:
    emu = Emulator(authorizers=40, seed=3)
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "undeclared")
    emu.authorizer(appid).code_checks_pending = pending
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        for _ in range(pending):  # the check is not finished: retryable, call again later
            with pytest.raises(PrivacyInterfaceError) as caught:
                await client.get_code_privacy_info(appid)
            assert caught.value.errcode == 61039 and caught.value.retryable
        info = await client.get_code_privacy_info(appid)
        await client.aclose()
    assert isinstance(info, CodePrivacyInfo)
    assert info.without_conf_list == ("wx.getLocation",)
    assert not info.ready
    assert emu.calls["/wxa/security/get_code_privacy_info"] == pending + 1
