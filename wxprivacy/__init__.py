"""wxprivacy: async SDK for the WeChat Open Platform component API (Mini Program privacy)."""

from __future__ import annotations

from ._errors import (
    ComponentCredentialError,
    InvalidArgumentError,
    LockTimeoutError,
    MinuteQuotaExceededError,
    MissingCredentialError,
    MissingRefreshTokenError,
    MissingVerifyTicketError,
    PermissionDeniedError,
    PrivacyConfigError,
    PrivacyInterfaceError,
    QuotaExceededError,
    ReauthorizationRequiredError,
    ResponseFormatError,
    SystemBusyError,
    TokenInvalidError,
    TokenStoreError,
    TransportError,
    UploadRejectedError,
    WeChatAPIError,
    WxPrivacyError,
)

__version__ = "0.1.0"

__all__ = [
    "ComponentCredentialError",
    "InvalidArgumentError",
    "LockTimeoutError",
    "MinuteQuotaExceededError",
    "MissingCredentialError",
    "MissingRefreshTokenError",
    "MissingVerifyTicketError",
    "PermissionDeniedError",
    "PrivacyConfigError",
    "PrivacyInterfaceError",
    "QuotaExceededError",
    "ReauthorizationRequiredError",
    "ResponseFormatError",
    "SystemBusyError",
    "TokenInvalidError",
    "TokenStoreError",
    "TransportError",
    "UploadRejectedError",
    "WeChatAPIError",
    "WxPrivacyError",
]
