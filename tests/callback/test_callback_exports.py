"""wxprivacy.callback exports the agreed names, sorted, each documented."""

from __future__ import annotations

import inspect

import wxprivacy.callback as callback

AGREED = {
    "MessageCrypto",
    "CallbackHandler",
    "CallbackTarget",
    "parse_event",
    "ComponentVerifyTicketEvent",
    "AuthorizedEvent",
    "UpdateAuthorizedEvent",
    "UnauthorizedEvent",
    "UnknownEvent",
    "CallbackError",
    "SignatureError",
    "DecryptError",
    "AppIdMismatchError",
    "MessageTooLargeError",
    "MalformedMessageError",
    "StaleMessageError",
}


def test_all_is_sorted_and_complete() -> None:
    assert callback.__all__ == sorted(callback.__all__)
    assert AGREED <= set(callback.__all__)
    public = {name for name in vars(callback) if not name.startswith("_")}
    modules = {"annotations"} | {n for n in public if inspect.ismodule(getattr(callback, n))}
    assert public - modules == set(callback.__all__)


def test_public_objects_have_docstrings() -> None:
    for name in callback.__all__:
        obj = getattr(callback, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and not attr.startswith("_"):
                    assert inspect.getdoc(member), f"{name}.{attr}"
