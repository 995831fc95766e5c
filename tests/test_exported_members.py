"""The public surface: __all__ is sorted and complete, and every public name is documented."""

from __future__ import annotations

import inspect

import wxprivacy


def test_all_is_sorted_and_importable() -> None:
    assert wxprivacy.__all__ == sorted(wxprivacy.__all__)
    for name in wxprivacy.__all__:
        assert hasattr(wxprivacy, name), name


def test_every_public_class_and_function_has_a_docstring() -> None:
    missing = []
    for name in wxprivacy.__all__:
        obj = getattr(wxprivacy, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_public_api_names_from_the_issue() -> None:
    from wxprivacy import (  # noqa: F401
        ComponentClient,
        MemoryTokenStore,
        PrivacySetting,
        ResponseFormatError,
        RetryPolicy,
        WeChatAPIError,
        WxPrivacyError,
    )

    assert issubclass(WeChatAPIError, WxPrivacyError)
    assert issubclass(ResponseFormatError, WxPrivacyError)
