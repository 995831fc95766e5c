"""A FastAPI app serving the third-party platform's authorization-event URL (授权事件接收URL).

The handler feeds a real :class:`wxprivacy.ComponentClient` (it implements ``CallbackTarget``):
verify tickets are stored, ``authorized``/``updateauthorized`` events are exchanged with
``api_query_auth`` (the authorizer's refresh and access tokens are stored), ``unauthorized``
events remove the authorizer's tokens. Serve it with uvicorn (needs
``pip install "wxprivacy[callback,redis]" fastapi uvicorn``)::

    uvicorn --factory fastapi_callback:app_from_env

with WXPRIVACY_COMPONENT_APPID, WXPRIVACY_COMPONENT_APPSECRET, WXPRIVACY_CALLBACK_TOKEN,
WXPRIVACY_ENCODING_AES_KEY
(and WXPRIVACY_REDIS_URL so that the workers calling WeChat share the tokens) in the environment,
then set ``https://<your host>/wechat/component/callback`` as the URL on the platform. WeChat
POSTs the encrypted event there (a component_verify_ticket every 10 minutes) and expects the plain
text ``success``. Rejected requests get a bare 400; exceptions raised by the client (for example
a failed ``api_query_auth``) give a 500, so WeChat delivers the event again.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from wxprivacy import ComponentClient, TokenStore
from wxprivacy.callback import CallbackError, CallbackHandler, CallbackTarget, MessageCrypto

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/wechat/component/callback"


def create_app(handler: CallbackHandler, *, client: ComponentClient | None = None) -> FastAPI:
    """Build the app around ``handler``; ``client`` (if given) and its token store (a Redis
    store's connection pool) are closed when the app stops."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if client is not None:
            await client.aclose()
            close_store = getattr(client.token_store, "aclose", None)
            if close_store is not None:  # RedisTokenStore: the pool from_url() created
                await close_store()

    app = FastAPI(title="wxprivacy authorization-event callback", lifespan=lifespan)

    @app.post(CALLBACK_PATH, response_class=PlainTextResponse)
    async def component_callback(request: Request) -> PlainTextResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > handler.max_body_bytes:
            return PlainTextResponse("payload too large", status_code=413)  # before reading it
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
    """Build a handler from WXPRIVACY_CALLBACK_TOKEN, WXPRIVACY_ENCODING_AES_KEY and
    WXPRIVACY_COMPONENT_APPID.

    WXPRIVACY_PREVIOUS_ENCODING_AES_KEY (optional) keeps messages decryptable while the
    EncodingAESKey is being changed; timestamps older or newer than 5 minutes are refused.
    """
    crypto = MessageCrypto(
        os.environ["WXPRIVACY_CALLBACK_TOKEN"],
        os.environ["WXPRIVACY_ENCODING_AES_KEY"],
        os.environ["WXPRIVACY_COMPONENT_APPID"],
        previous_encoding_aes_key=os.environ.get("WXPRIVACY_PREVIOUS_ENCODING_AES_KEY") or None,
    )
    return CallbackHandler(target, crypto, max_age=300)


def client_from_env() -> ComponentClient:
    """Build the ComponentClient from WXPRIVACY_COMPONENT_APPID and WXPRIVACY_COMPONENT_APPSECRET.

    With WXPRIVACY_REDIS_URL set, tokens live in Redis (shared with every process calling
    WeChat); otherwise in this process's memory. WXPRIVACY_BASE_URL (optional) points the client
    elsewhere than https://api.weixin.qq.com, e.g. at ``wxprivacy emulator`` for a trial run.
    """
    store: TokenStore | None = None
    redis_url = os.environ.get("WXPRIVACY_REDIS_URL")
    if redis_url:
        redis_module = importlib.import_module("wxprivacy.redis")
        store = redis_module.RedisTokenStore.from_url(redis_url)
    return ComponentClient(
        os.environ["WXPRIVACY_COMPONENT_APPID"],
        os.environ["WXPRIVACY_COMPONENT_APPSECRET"],
        token_store=store,
        base_url=os.environ.get("WXPRIVACY_BASE_URL") or "https://api.weixin.qq.com",
    )


def app_from_env() -> FastAPI:
    """The production app: a real ComponentClient behind the callback (``uvicorn --factory``)."""
    client = client_from_env()
    return create_app(handler_from_env(client), client=client)
