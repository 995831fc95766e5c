"""The ``get`` command: print one privacy guideline as JSON."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from .. import _serde
from ..guidelines import ensure_refresh_token
from ._options import ClientOptions, VerOpt, open_client, with_client_options
from ._output import run

__all__ = ["get"]


@with_client_options
def get(
    authorizer_appid: Annotated[str, typer.Argument(help="The Mini Program's appid.")],
    ver: VerOpt = 2,
    refresh_token: Annotated[
        str | None,
        typer.Option(
            "--refresh-token",
            envvar="WXPRIVACY_AUTHORIZER_REFRESH_TOKEN",
            help="The authorizer's refresh token, if the token store has none.",
            show_default=False,
        ),
    ] = None,
    *,
    client: ClientOptions,
) -> None:
    """Print one privacy guideline as JSON (getprivacysetting).

    The authorizer's refresh token comes from --refresh-token, the token store, or else
    api_get_authorizer_list.
    """

    async def go() -> dict[str, Any]:
        async with open_client(client) as wechat:
            if refresh_token:
                await wechat.set_authorizer_refresh_token(authorizer_appid, refresh_token)
            else:
                await ensure_refresh_token(wechat, authorizer_appid)
            setting = await wechat.get_privacy_setting(authorizer_appid, ver)
            return _serde.unstructure(setting)

    data = run(go())
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
