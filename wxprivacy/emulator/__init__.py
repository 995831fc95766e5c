"""A stateful WeChat Open Platform emulator for tests, benchmarks and demos.

``Emulator`` keeps verify tickets, component/authorizer tokens (with WeChat's 5-minute grace for
superseded tokens) and per-authorizer privacy guidelines in memory, and answers the component
endpoints with WeChat's bodies and errcodes. Reach it in-process through :meth:`Emulator.transport`
(httpx), as ASGI through :attr:`Emulator.asgi_app`, or over HTTP with :func:`serve` /
``python -m wxprivacy.emulator``. The emulator never imports the wxprivacy client.

Example::

    emu = Emulator(authorizers=100, seed=1)
    async with httpx.AsyncClient(transport=emu.transport(),
                                 base_url="https://api.weixin.qq.com") as http:
        ...
"""

from __future__ import annotations

from ._emulator import Emulator
from ._faults import TOKEN_PATHS, Faults
from ._payloads import EmulatorResponse
from ._serve import serve
from ._state import Authorizer, PrivacyVersion

__all__ = [
    "TOKEN_PATHS",
    "Authorizer",
    "Emulator",
    "EmulatorResponse",
    "Faults",
    "PrivacyVersion",
    "serve",
]
