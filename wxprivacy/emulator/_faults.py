"""Fault injection: per-request probabilities of the failures a WeChat client must survive."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final, Literal

from ._call import error
from ._payloads import EmulatorResponse
from ._state import EmulatorState

__all__ = ["FAULT_KINDS", "TOKEN_PATHS", "FaultInjector", "FaultKind", "Faults", "draw_fault"]

FaultKind = Literal["system_error", "minute_quota", "http_5xx", "timeout", "reset", "truncated"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "system_error",
    "minute_quota",
    "http_5xx",
    "timeout",
    "reset",
    "truncated",
)
TOKEN_PATHS: Final[frozenset[str]] = frozenset(
    {"/cgi-bin/component/api_component_token", "/cgi-bin/component/api_authorizer_token"}
)
"""The token endpoints: not faulted unless :attr:`Faults.paths` names them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Probabilities (0..1, summing to at most 1) that a request fails in a given way.

    One uniform draw from the emulator's seeded RNG decides each eligible request, so the same
    seed and the same request sequence give the same faults.

    Attributes:
        system_error: answer HTTP 200 ``{"errcode": -1, "errmsg": "system error rid: ..."}``.
        minute_quota: answer errcode 45011 (per-minute quota).
        http_5xx: answer HTTP 502 or 503 with an HTML body (a gateway error).
        timeout: in-process transport raises ``httpx.ReadTimeout``; over HTTP the response is
            held back ``timeout_delay`` seconds so the client's read timeout fires.
        reset: in-process transport raises ``httpx.RemoteProtocolError``; over HTTP the response
            is aborted after half the body (the connection closes).
        truncated: HTTP 200 whose JSON body is cut in half (the endpoint did run).
        paths: the endpoint paths eligible for faults. ``None`` means every WeChat endpoint except
            the token endpoints (:data:`TOKEN_PATHS`), i.e. the data endpoints including
            ``api_get_authorizer_list``. The ``/_emulator/`` control paths are never faulted.
        timeout_delay: seconds a ``timeout`` fault holds an HTTP response back.

    Raises:
        ValueError: a probability outside 0..1, or probabilities summing to more than 1.
    """

    system_error: float = 0.0
    minute_quota: float = 0.0
    http_5xx: float = 0.0
    timeout: float = 0.0
    reset: float = 0.0
    truncated: float = 0.0
    paths: Collection[str] | None = None
    timeout_delay: float = 30.0

    def __post_init__(self) -> None:
        total = 0.0
        for kind in FAULT_KINDS:
            p = getattr(self, kind)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"Faults.{kind} must be within 0..1, got {p!r}")
            total += p
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities sum to {total}, more than 1")
        if self.paths is not None:
            object.__setattr__(self, "paths", frozenset(self.paths))

    @property
    def total(self) -> float:
        """The probability that an eligible request is faulted at all."""
        return float(sum(getattr(self, kind) for kind in FAULT_KINDS))

    def applies_to(self, path: str) -> bool:
        """Whether requests to ``path`` are eligible for faults."""
        if self.paths is None:
            return path not in TOKEN_PATHS
        return path in self.paths


def draw_fault(faults: Faults, rng: random.Random) -> FaultKind | None:
    """Draw once from ``rng`` and return the fault kind for this request, or ``None``."""
    x = rng.random()
    for kind in FAULT_KINDS:
        p: float = getattr(faults, kind)
        if x < p:
            return kind
        x -= p
    return None


_HTML_5XX: Final = {
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>",
    503: b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    b"<h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center>"
    b"</body></html>",
}


class FaultInjector:
    """Draws a fault per eligible request and renders it (sans-I/O).

    Args:
        faults: the active probabilities, or ``None`` for none (may be replaced at any time).
        seed: seeds the draws: same seed and same requests, same faults.
        injected: the counter to count injected faults in (default: a new one).

    Attributes:
        faults: the active :class:`Faults`.
        injected: faults injected per kind.
    """

    def __init__(
        self, faults: Faults | None, seed: int, injected: Counter[str] | None = None
    ) -> None:
        self.faults = faults
        self.injected: Counter[str] = Counter() if injected is None else injected
        self._rng = random.Random(f"wxprivacy-emulator-faults-{seed}")

    def draw(self, path: str) -> FaultKind | None:
        """The fault for this request to ``path`` (counted in :attr:`injected`), or ``None``."""
        faults = self.faults
        if faults is None or faults.total <= 0 or not faults.applies_to(path):
            return None
        kind = draw_fault(faults, self._rng)
        if kind is not None:
            self.injected[kind] += 1
        return kind

    def render(
        self, kind: FaultKind, state: EmulatorState, answer: Callable[[], EmulatorResponse]
    ) -> EmulatorResponse:
        """The response that acts out ``kind``; ``answer()`` runs the endpoint (``truncated``).

        ``timeout`` and ``reset`` come back as an errcode -1 body marked with ``fault`` (and the
        ``delay`` of a timeout), which the I/O adapter acts out instead of sending.
        """
        if kind == "system_error":
            return error(state, -1)
        if kind == "minute_quota":
            return error(state, 45011)
        if kind == "http_5xx":
            status = self._rng.choice((502, 503))
            return EmulatorResponse(status, {"content-type": "text/html"}, _HTML_5XX[status])
        if kind == "truncated":
            real = answer()
            return EmulatorResponse(200, real.headers, real.body[: len(real.body) // 2])
        response = error(state, -1)
        response.fault = kind
        response.delay = self.faults.timeout_delay if self.faults is not None else 30.0
        return response
