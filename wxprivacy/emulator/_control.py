"""The control endpoints under ``/_emulator/``: request counts and the credentials a test needs.

``GET /_emulator/calls``, ``POST /_emulator/reset_calls`` and ``GET /_emulator/state`` let a test
in another process read what an in-process test reads from the :class:`~.Emulator`. They are
never counted nor faulted. Sans-I/O like the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from ._payloads import EmulatorResponse, dumps, json_response
from ._state import EmulatorState

__all__ = ["CONTROL_PREFIX", "ControlEndpoints", "Traffic", "snapshot"]

CONTROL_PREFIX: Final = "/_emulator/"
"""Paths under this prefix control the emulator; they are never counted nor faulted."""


class Traffic:
    """What the emulator counts: requests per WeChat path and injected faults per kind."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def reset(self) -> None:
        """Zero both counters (the same ``Counter`` objects stay in use)."""
        self.calls.clear()
        self.faults.clear()


def snapshot(state: EmulatorState) -> dict[str, Any]:
    """Credentials a test in another process needs (``GET /_emulator/state``).

    Returns:
        ``{"component_appid", "component_appsecret", "component_verify_ticket",
        "authorizers": [{"authorizer_appid", "refresh_token", "profile", "undeclared"}]}``.
    """
    return {
        "component_appid": state.component_appid,
        "component_appsecret": state.component_appsecret,
        "component_verify_ticket": state.ticket,
        "authorizers": [
            {
                "authorizer_appid": a.appid,
                "refresh_token": a.refresh_token,
                "profile": a.kind,
                "undeclared": a.dev.undeclared(),
            }
            for a in state.authorizers.values()
        ],
    }


class ControlEndpoints:
    """Answers the ``/_emulator/`` paths from the state and the traffic counters."""

    def __init__(
        self,
        state: EmulatorState,
        traffic: Traffic,
        callback_keys: Callable[[], dict[str, str]] = dict,
    ) -> None:
        self._state = state
        self._traffic = traffic
        self._callback_keys = callback_keys

    def handle(self, method: str, path: str) -> EmulatorResponse:
        """Answer ``method path`` (a path under :data:`CONTROL_PREFIX`); 404 if unknown."""
        name = path[len(CONTROL_PREFIX) :]
        payload: Any
        if name == "calls" and method == "GET":
            payload = {"calls": dict(self._traffic.calls), "faults": dict(self._traffic.faults)}
        elif name == "reset_calls" and method == "POST":
            self._traffic.reset()
            payload = {"ok": True}
        elif name == "state" and method == "GET":
            payload = {**snapshot(self._state), **self._callback_keys()}
        else:
            return EmulatorResponse(404, {"content-type": "text/plain"}, b"404 Not Found")
        return json_response(dumps(payload))
