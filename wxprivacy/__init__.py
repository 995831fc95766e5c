"""wxprivacy: async SDK for the WeChat Open Platform component API (Mini Program privacy)."""

from __future__ import annotations

from ._authorization import AuthorizerListItem, AuthorizerPage
from ._client import ComponentClient
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
from ._retry import RetryPolicy
from ._stores import MemoryTokenStore, TokenStore
from ._tokens import AccessToken
from .models import (
    OwnerSetting,
    PrivacyDesc,
    PrivacyDescItem,
    PrivacySetting,
    SdkPrivacyInfo,
    SettingItem,
)

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "AuthorizerListItem",
    "AuthorizerPage",
    "ComponentClient",
    "ComponentCredentialError",
    "InvalidArgumentError",
    "LockTimeoutError",
    "MemoryTokenStore",
    "MinuteQuotaExceededError",
    "MissingCredentialError",
    "MissingRefreshTokenError",
    "MissingVerifyTicketError",
    "OwnerSetting",
    "PermissionDeniedError",
    "PrivacyConfigError",
    "PrivacyDesc",
    "PrivacyDescItem",
    "PrivacyInterfaceError",
    "PrivacySetting",
    "QuotaExceededError",
    "ReauthorizationRequiredError",
    "ResponseFormatError",
    "RetryPolicy",
    "SdkPrivacyInfo",
    "SettingItem",
    "SystemBusyError",
    "TokenInvalidError",
    "TokenStore",
    "TokenStoreError",
    "TransportError",
    "UploadRejectedError",
    "WeChatAPIError",
    "WxPrivacyError",
]
