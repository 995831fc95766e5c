"""wxprivacy: async SDK for the WeChat Open Platform component API (Mini Program privacy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from ._memory_store import MemoryTokenStore
from ._retry import RetryPolicy
from ._stores import AccessToken, EventStamp, Fence, TokenStore
from .models import (
    AuthorizationInfo,
    AuthorizerDetails,
    AuthorizerInfo,
    AuthorizerListItem,
    AuthorizerPage,
    FuncInfo,
    FuncscopeCategory,
    OwnerSetting,
    PreAuthCode,
    PrivacyDesc,
    PrivacyDescItem,
    PrivacyInterface,
    PrivacyInterfaceList,
    PrivacySetting,
    SdkPrivacyInfo,
    SettingItem,
    TypeInfo,
)

if TYPE_CHECKING:
    from .redis import RedisTokenStore

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "AuthorizationInfo",
    "AuthorizerDetails",
    "AuthorizerInfo",
    "AuthorizerListItem",
    "AuthorizerPage",
    "ComponentClient",
    "ComponentCredentialError",
    "EventStamp",
    "Fence",
    "FuncInfo",
    "FuncscopeCategory",
    "InvalidArgumentError",
    "LockTimeoutError",
    "MemoryTokenStore",
    "MinuteQuotaExceededError",
    "MissingCredentialError",
    "MissingRefreshTokenError",
    "MissingVerifyTicketError",
    "OwnerSetting",
    "PermissionDeniedError",
    "PreAuthCode",
    "PrivacyConfigError",
    "PrivacyDesc",
    "PrivacyDescItem",
    "PrivacyInterface",
    "PrivacyInterfaceError",
    "PrivacyInterfaceList",
    "PrivacySetting",
    "QuotaExceededError",
    "ReauthorizationRequiredError",
    "RedisTokenStore",
    "ResponseFormatError",
    "RetryPolicy",
    "SdkPrivacyInfo",
    "SettingItem",
    "SystemBusyError",
    "TokenInvalidError",
    "TokenStore",
    "TokenStoreError",
    "TransportError",
    "TypeInfo",
    "UploadRejectedError",
    "WeChatAPIError",
    "WxPrivacyError",
]


def __getattr__(name: str) -> Any:
    # RedisTokenStore is imported on first use, so `import wxprivacy` works without redis.
    if name == "RedisTokenStore":
        from .redis import RedisTokenStore

        globals()[name] = RedisTokenStore
        return RedisTokenStore
    raise AttributeError(f"module 'wxprivacy' has no attribute {name!r}")
