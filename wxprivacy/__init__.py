"""wxprivacy: async SDK for the WeChat Open Platform component API (Mini Program privacy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import ComponentClient
from ._errors import (
    ClientClosedError,
    ClientStateError,
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
    WrongEventLoopError,
    WxPrivacyError,
)
from ._memory_store import MemoryTokenStore
from ._quotas import MemoryQuotaStore, QuotaStore
from ._retry import RetryPolicy
from ._store_diagnostics import DiagnosableStore, HeldLock, StoreDiagnostics
from ._stores import AccessToken, EventStamp, Fence, TokenStore
from .models import (
    AuthorizationInfo,
    AuthorizerDetails,
    AuthorizerInfo,
    AuthorizerListItem,
    AuthorizerPage,
    CodePrivacyInfo,
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
    "ClientClosedError",
    "ClientStateError",
    "CodePrivacyInfo",
    "ComponentClient",
    "ComponentCredentialError",
    "DiagnosableStore",
    "EventStamp",
    "Fence",
    "FuncInfo",
    "FuncscopeCategory",
    "HeldLock",
    "InvalidArgumentError",
    "LockTimeoutError",
    "MemoryQuotaStore",
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
    "QuotaStore",
    "ReauthorizationRequiredError",
    "RedisTokenStore",
    "ResponseFormatError",
    "RetryPolicy",
    "SdkPrivacyInfo",
    "SettingItem",
    "StoreDiagnostics",
    "SystemBusyError",
    "TokenInvalidError",
    "TokenStore",
    "TokenStoreError",
    "TransportError",
    "TypeInfo",
    "UploadRejectedError",
    "WeChatAPIError",
    "WrongEventLoopError",
    "WxPrivacyError",
]


def __getattr__(name: str) -> Any:
    # RedisTokenStore is imported on first use, so `import wxprivacy` (and `import *`) works
    # without the redis extra; then the name is a stub that says which extra to install.
    if name == "RedisTokenStore":
        try:
            from .redis import RedisTokenStore
        except ModuleNotFoundError as exc:
            missing = str(exc)

            class RedisTokenStore:  # type: ignore[no-redef]
                """Needs the redis extra: ``pip install 'wxprivacy[redis]'``."""

                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    raise ModuleNotFoundError(missing, name="redis")

                @classmethod
                def from_url(cls, *args: Any, **kwargs: Any) -> Any:
                    """Needs the redis extra: ``pip install 'wxprivacy[redis]'``."""
                    raise ModuleNotFoundError(missing, name="redis")

            RedisTokenStore.__module__ = __name__
        globals()[name] = RedisTokenStore
        return RedisTokenStore
    raise AttributeError(f"module 'wxprivacy' has no attribute {name!r}")


def _present_as_public() -> None:
    """Give every public exception ``wxprivacy`` as its module, so tracebacks read
    ``wxprivacy.TokenInvalidError``, not ``wxprivacy._errors.TokenInvalidError``.

    Only exceptions: attrs/cattrs resolve the string annotations of models and clients in the
    module named by ``__module__``."""
    for name in __all__:
        obj = globals().get(name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            obj.__module__ = __name__


_present_as_public()
