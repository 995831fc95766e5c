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


def test_all_equals_the_public_names() -> None:
    """As strict as httpx's: every public name is in __all__ and nothing else is."""
    import types

    public = {
        name
        for name, value in vars(wxprivacy).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    public.add("RedisTokenStore")  # lazy
    assert set(wxprivacy.__all__) == public


def test_public_classes_read_as_wxprivacy_in_tracebacks() -> None:
    from wxprivacy import TokenInvalidError

    assert TokenInvalidError.__module__ == "wxprivacy"
    assert repr(TokenInvalidError).endswith("wxprivacy.TokenInvalidError'>")


def test_import_star_works_without_the_redis_extra() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['redis'] = None; sys.modules['redis.asyncio'] = None\n"
        "from wxprivacy import *\n"
        "try:\n"
        "    RedisTokenStore.from_url('redis://x')\n"
        "except ModuleNotFoundError as exc:\n"
        "    print('hint:', 'wxprivacy[redis]' in str(exc))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "hint: True" in out


def test_every_public_method_of_the_client_has_a_docstring_inherited_ones_too() -> None:
    """Issue 12 §5: the check above reads a class's own attributes only; ComponentClient's
    methods come from its endpoint groups (BaseClient, PrivacyAPI, ...)."""
    from wxprivacy import ComponentClient

    missing = [
        name
        for name, member in inspect.getmembers(ComponentClient)
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, property))
        and not inspect.getdoc(member)
    ]
    assert missing == []
    assert len([n for n, _ in inspect.getmembers(ComponentClient) if not n.startswith("_")]) > 20
