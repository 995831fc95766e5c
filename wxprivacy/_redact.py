"""Scrub secrets from text before it reaches a log line, an exception message or a file.

Covers query-string forms (``access_token=...``) and JSON forms (``"component_appsecret":"..."``)
of every credential the component API uses.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["redact"]

_NAMES: Final = (
    r"(?:component_|authorizer_)?access_token|(?:authorizer_)?refresh_token"
    r"|component_appsecret|component_secret|appsecret|secret"
    r"|component_verify_ticket|ticket|pre_auth_code|authorization_code|auth_code"
    r"|encoding_aes_key|EncodingAESKey"
)
_QUERY: Final = re.compile(rf"\b({_NAMES})=([^&\s\"'<>]+)", re.IGNORECASE)
_JSON: Final = re.compile(rf"(\"(?:{_NAMES})\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"?", re.IGNORECASE)
_XML: Final = re.compile(
    r"(<(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)>)(.*?)(</\2>|$)", re.S
)


def redact(text: str) -> str:
    """Return ``text`` with the value of every credential-like field replaced by ``***``."""
    text = _QUERY.sub(r"\1=***", text)
    text = _JSON.sub(r'\1"***"', text)
    return _XML.sub(r"\1***\4", text)
