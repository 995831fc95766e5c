"""RetryPolicy and the one predicate that says whether a failed attempt may be tried again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import tenacity

from ._checks import check_int, check_seconds
from ._errcodes import RETRY_CLASSES
from ._errors import TransportError, WeChatAPIError, retry_class_of

__all__ = ["RetryPolicy"]

logger = logging.getLogger(__name__)


def _positive(name: str) -> Callable[[Any, Any, float], None]:
    def check(_instance: Any, _attribute: Any, value: float) -> None:
        check_seconds(f"RetryPolicy.{name}", value, low=0.0, high=86_400.0, above_low=True)

    return check


def _check_attempts(_instance: Any, _attribute: Any, value: int) -> None:
    check_int("RetryPolicy.max_attempts", value, low=1, high=100)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff with full jitter (tenacity).

    Retried: transport errors (connect/read timeouts, resets), HTTP 5xx and 429, errcode -1.
    Never retried in-band: quota codes (45009, 45011), 61039 (WeChat asks for about a minute's
    wait; the error is marked ``retryable``), permission and authorization codes
    (48001, 61003, 61007, 61023, ...), privacy configuration codes (86xxx) and other permanent
    codes. For calls that create something (``apply_privacy_interface``) only failures that prove
    the request was not accepted are retried (connection refused, errcode -1).

    Attributes:
        max_attempts: total tries, the first included (``1`` disables retries).
        initial_backoff: seconds; the upper bound of the first wait (doubles every attempt).
        max_backoff: seconds; the cap on any single wait.
    """

    max_attempts: int = attrs.field(default=4, validator=_check_attempts)
    initial_backoff: float = attrs.field(default=0.5, validator=_positive("initial_backoff"))
    max_backoff: float = attrs.field(default=8.0, validator=_positive("max_backoff"))

    def retrying(
        self,
        *,
        endpoint: str,
        idempotent: bool = True,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        left: Callable[[], float] | None = None,
    ) -> tenacity.AsyncRetrying:
        """Build the tenacity controller for one call to ``endpoint``.

        Args:
            endpoint: the WeChat path, used in the WARNING log line of each retry.
            idempotent: ``False`` for calls that create something: then only failures that prove
                the request was not accepted are retried.
            sleep: an awaitable sleep (seconds) to use instead of ``asyncio.sleep`` (tests).
            left: returns the seconds left before the call's deadline: a wait that would end
                at or past it is not started, and the last error is raised instead.
        """

        def should_retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None or not outcome.failed:
                return False
            return is_retryable(outcome.exception(), idempotent=idempotent)

        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "retrying %s (attempt %d of %d failed: %s); next try in %.2f s",
                endpoint,
                state.attempt_number,
                self.max_attempts,
                exc,
                wait,
            )

        kwargs: dict[str, Any] = {}
        if sleep is not None:
            kwargs["sleep"] = sleep
        stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(self.max_attempts)
        if left is not None:
            stop = stop | _stop_before_deadline(left, endpoint)
        return tenacity.AsyncRetrying(
            stop=stop,
            wait=tenacity.wait_random_exponential(
                multiplier=self.initial_backoff, max=self.max_backoff
            ),
            retry=should_retry,
            before_sleep=log_retry,
            reraise=True,
            **kwargs,
        )


class _stop_before_deadline(tenacity.stop.stop_base):  # noqa: N801 - tenacity's naming
    """Stop when the coming wait would end at or past the call's deadline.

    tenacity (>= 8.3) computes the wait before it asks ``stop``, as ``upcoming_sleep``.
    """

    def __init__(self, left: Callable[[], float], endpoint: str) -> None:
        self._left = left
        self._endpoint = endpoint

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        left = self._left()
        if retry_state.upcoming_sleep < left:
            return False
        logger.warning(
            "giving up on %s after attempt %d: the next try (in %.2f s) would start past the "
            "call's deadline (%.2f s left)",
            self._endpoint,
            retry_state.attempt_number,
            retry_state.upcoming_sleep,
            max(0.0, left),
        )
        return True


def is_retryable(exc: BaseException | None, *, idempotent: bool = True) -> bool:
    """Whether a failed attempt may be sent again.

    An errcode is re-sent when its retry class in the errcode table (:mod:`wxprivacy._errcodes`)
    says so (``transient``: errcode -1, which WeChat did not act on).

    Args:
        exc: the typed error the attempt raised.
        idempotent: ``False`` when re-sending could create a duplicate: only
            :class:`TransportError` with ``maybe_sent=False`` and ``transient`` errcodes qualify.
    """
    if isinstance(exc, WeChatAPIError):
        retry = retry_class_of(exc)
        return retry is not None and RETRY_CLASSES[retry].resend
    if isinstance(exc, TransportError):
        return idempotent or not getattr(exc, "maybe_sent", True)
    return False
