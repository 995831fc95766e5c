"""A stateful WeChat Open Platform emulator for tests, benchmarks and demos.

``Emulator`` keeps verify tickets, component/authorizer tokens (with WeChat's 5-minute grace for
superseded tokens), per-authorizer privacy guidelines (development and live versions), uploaded
ext files, privacy-interface applications and authorization codes in memory, and answers the
component endpoints with WeChat's bodies and errcodes. It also builds the signed, encrypted
authorization-event pushes WeChat would POST to a callback URL (``emu.ticket_push()``,
``emu.authorized_push(appid)``, ``emu.unauthorized_push(appid)``, ``emu.push_event(...)``).
Reach it in-process through :meth:`Emulator.transport` (httpx), as ASGI through
:attr:`Emulator.asgi_app`, or over HTTP with :func:`serve` / ``python -m wxprivacy.emulator``
(or :func:`start_server` inside a running event loop), both uvicorn (the ``emulator`` extra). The
emulator never imports the wxprivacy client (pushes use ``wxprivacy.callback``'s crypto).

Inside, each WeChat endpoint is a row of a table of routes (``_routes.py``) that declares its
prologue (token kind, permission set 18, body kind, ``component_appid``, ``privacy_ver``;
``_prologue.py``); handlers start at their own logic. Modules import one way: state and payloads,
then bodies and the handler context, then handlers, then the table, then :class:`Emulator`.

Example::

    emu = Emulator(authorizers=100, seed=1)
    async with httpx.AsyncClient(transport=emu.transport(),
                                 base_url="https://api.weixin.qq.com") as http:
        ...
"""

from __future__ import annotations

from ._emulator import DEFAULT_CALLBACK_TOKEN, DEFAULT_ENCODING_AES_KEY, Emulator
from ._faults import TOKEN_PATHS, Faults
from ._payloads import EmulatorResponse
from ._push import CallbackPush
from ._serve import EmulatorServer, serve, start_server
from ._state import Authorizer, PrivacyVersion

__all__ = [
    "DEFAULT_CALLBACK_TOKEN",
    "DEFAULT_ENCODING_AES_KEY",
    "TOKEN_PATHS",
    "Authorizer",
    "CallbackPush",
    "Emulator",
    "EmulatorResponse",
    "EmulatorServer",
    "Faults",
    "PrivacyVersion",
    "serve",
    "start_server",
]
