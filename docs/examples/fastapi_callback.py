"""A FastAPI app serving the third-party platform's authorization-event URL (授权事件接收URL).

Wire it to your ``ComponentClient`` (or any object implementing ``CallbackTarget``) and serve
it with uvicorn (needs ``pip install "wxprivacy[callback]" fastapi uvicorn``)::

    app = create_app(handler_from_env(client))   # WECHAT_TOKEN, WECHAT_ENCODING_AES_KEY, ...

then set ``https://<your host>/wechat/component/callback`` as the URL on the platform. WeChat
POSTs the encrypted event there (a component_verify_ticket every 10 minutes) and expects the plain
text ``success``. Rejected requests get a bare 400; exceptions raised by the target (for example a
failed ``api_query_auth``) give a 500, so WeChat delivers the event again.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from wxprivacy.callback import CallbackError, CallbackHandler, CallbackTarget, MessageCrypto

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/wechat/component/callback"


def create_app(handler: CallbackHandler) -> FastAPI:
    """Build the app around ``handler`` (tests inject one whose target is a fake)."""
    app = FastAPI(title="wxprivacy authorization-event callback")

    @app.post(CALLBACK_PATH, response_class=PlainTextResponse)
    async def component_callback(request: Request) -> PlainTextResponse:
        body = await request.body()
        try:
            reply = await handler.handle(request.query_params, body)
        except CallbackError as exc:
            # The handler already logged the rejection; say nothing about why to the caller.
            logger.info("answering 400 to a rejected callback (%s)", type(exc).__name__)
            return PlainTextResponse("bad request", status_code=400)
        return PlainTextResponse(reply)

    return app


def handler_from_env(target: CallbackTarget) -> CallbackHandler:
    """Build a handler from WECHAT_TOKEN, WECHAT_ENCODING_AES_KEY, WECHAT_COMPONENT_APPID.

    WECHAT_PREVIOUS_ENCODING_AES_KEY (optional) keeps messages decryptable while the
    EncodingAESKey is being changed; timestamps older or newer than 5 minutes are refused.
    """
    crypto = MessageCrypto(
        os.environ["WECHAT_TOKEN"],
        os.environ["WECHAT_ENCODING_AES_KEY"],
        os.environ["WECHAT_COMPONENT_APPID"],
        previous_encoding_aes_key=os.environ.get("WECHAT_PREVIOUS_ENCODING_AES_KEY") or None,
    )
    return CallbackHandler(target, crypto, max_age=300)
