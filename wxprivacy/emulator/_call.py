"""What an endpoint handler receives once its route's prologue passed, and the answers it gives.

A handler is ``(Call) -> EmulatorResponse``: it starts at its own logic, because the prologue its
route declares (token, permission set 18, body, ``component_appid``, ``privacy_ver``; see
:mod:`._prologue`) has already run. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._bodies import Part
from ._payloads import EmulatorResponse, dumps, error_body, json_response
from ._state import Authorizer, EmulatorState

__all__ = ["Call", "Handler", "error", "is_int", "ok"]


def error(state: EmulatorState, errcode: int) -> EmulatorResponse:
    """Return the HTTP 200 JSON error ``errcode`` with a fresh rid."""
    return json_response(error_body(errcode, state.clock(), state.rng))


def ok(extra: Mapping[str, Any] | None = None) -> EmulatorResponse:
    """Return ``{"errcode": 0, "errmsg": "ok", **extra}``."""
    payload: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    if extra:
        payload.update(extra)
    return json_response(dumps(payload))


def is_int(value: object) -> bool:
    """Whether ``value`` is a JSON integer (``bool`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(slots=True)
class Call:
    """One request that passed its route's prologue.

    Attributes:
        state: the emulator state to read and change.
        query: query parameters (first value of each).
        data: the JSON body (``{}`` for routes that read no JSON).
        form: the multipart parts by field name (``{}`` for routes that read no form).
        privacy_ver: the checked ``privacy_ver`` (1 or 2; 2 when absent or not checked).
    """

    state: EmulatorState
    query: Mapping[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    form: Mapping[str, Part] = field(default_factory=dict)
    privacy_ver: int = 2
    caller: Authorizer | None = None

    @property
    def authorizer(self) -> Authorizer:
        """The authorizer whose access token the request carries (authorizer-token routes)."""
        if self.caller is None:
            raise RuntimeError("this route does not take an authorizer access token")
        return self.caller

    def error(self, errcode: int) -> EmulatorResponse:
        """Return the HTTP 200 JSON error ``errcode`` with a fresh rid."""
        return error(self.state, errcode)


Handler = Callable[[Call], EmulatorResponse]
"""An endpoint's own logic: ``(call) -> response``; synchronous, no I/O."""
