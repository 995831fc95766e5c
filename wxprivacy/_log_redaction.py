"""A logging filter on httpx's and httpcore's loggers: they log request URLs, and WeChat puts
access tokens in the query string."""

from __future__ import annotations

import logging
from typing import Final

from ._redact import redact

__all__ = ["install_log_redaction"]


class _RedactingFilter(logging.Filter):
    """Scrub token-carrying query parameters from records of the loggers it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Redact the formatted message, not the format string: a token may be in the arguments,
        # and redacting "access_token=%s" would eat the placeholder.
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER: Final = _RedactingFilter()


_REDACTED_LOGGERS: Final = (
    "httpx",
    "httpcore",
    # a logger's filters do not apply to its children's records: httpcore logs on these
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_redaction() -> None:
    """Attach the redacting filter to httpx's and httpcore's loggers, the child loggers httpcore
    actually logs on included (idempotent)."""
    names = set(_REDACTED_LOGGERS) | {
        name for name in logging.root.manager.loggerDict if name.startswith("httpcore.")
    }
    for name in sorted(names):
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)


install_log_redaction()
