"""The public surface of ``wxprivacy.emulator`` and its command line."""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

import pytest

import wxprivacy.emulator as emulator_pkg
from wxprivacy.emulator import Emulator, Faults
from wxprivacy.emulator.__main__ import main


def test_all_is_sorted_complete_and_documented() -> None:
    names = emulator_pkg.__all__
    constants = [n for n in names if n.isupper()]
    others = [n for n in names if not n.isupper()]
    assert names == sorted(constants) + sorted(others, key=str.lower)
    public = {n for n in vars(emulator_pkg) if not n.startswith("_")} - {"annotations"}
    assert public == set(names)
    for name in names:
        value = getattr(emulator_pkg, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name


def test_public_methods_are_documented() -> None:
    for name, member in inspect.getmembers(Emulator):
        if not name.startswith("_"):
            assert inspect.getdoc(member), name


def test_constructor_keeps_the_agreed_signature() -> None:
    params = inspect.signature(Emulator).parameters
    assert list(params)[:2] == ["component_appid", "component_appsecret"]
    for name in ("authorizers", "seed", "token_ttl", "grace", "rotate_refresh_tokens", "faults"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert {"latency", "clock"} <= set(params)
    fault_params = inspect.signature(Faults).parameters
    assert list(fault_params)[:7] == [
        "system_error",
        "minute_quota",
        "http_5xx",
        "timeout",
        "reset",
        "truncated",
        "paths",
    ]


def test_cli_parses_every_fault_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``python -m wxprivacy.emulator`` is ``wxprivacy emulator``: the flags reach the emulator.
    from wxprivacy.cli import _emulator

    served: list[tuple[Emulator, str, int]] = []
    monkeypatch.setattr(
        _emulator, "serve", lambda emu, host, port, **kw: served.append((emu, host, port))
    )
    assert (
        main(
            ["--port", "0", "--authorizers", "500", "--latency", "0.05"]
            + ["--fault-system-error", "0.05", "--fault-minute-quota", "0.01"]
            + ["--fault-http-5xx", "0.01", "--fault-timeout", "0.01", "--fault-reset", "0.01"]
            + ["--fault-truncated", "0.01", "--fault-path", "/x", "--timeout-delay", "2"]
        )
        == 0
    )
    [(emu, host, port)] = served
    assert port == 0 and host == "127.0.0.1" and len(emu.authorizer_appids) == 500
    assert emu.latency == 0.05 and emu.faults is not None
    assert emu.faults.system_error == 0.05 and emu.faults.truncated == 0.01
    assert list(emu.faults.paths or ()) == ["/x"] and emu.faults.timeout_delay == 2.0


def test_cli_rejects_impossible_fault_odds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--fault-system-error", "0.7", "--fault-reset", "0.7"]) == 2
    assert "more than 1" in capsys.readouterr().err


async def test_the_counters_and_keys_stay_assignable_attributes() -> None:
    emu = Emulator(authorizers=1, faults=Faults(system_error=1.0))
    emu.calls, emu.faults_injected = Counter(), Counter()
    path = "/cgi-bin/component/getprivacysetting"
    await emu.handle("POST", path, {}, b"{}", {})
    answer = await emu.handle("GET", "/_emulator/calls", {}, b"", {})
    assert answer.json() == {"calls": {path: 1}, "faults": {"system_error": 1}}
    assert emu.calls == Counter({path: 1}) and emu.faults_injected["system_error"] == 1
    emu.callback_token = "another-token"
    assert emu.callback_crypto.signature(1, 2, "x") != Emulator().callback_crypto.signature(
        1, 2, "x"
    )


@pytest.mark.parametrize(
    ("old", "new", "args"),
    [
        ("push_ticket", "issue_ticket", ()),
        ("component_access_token", "current_component_access_token", ()),
        ("authorizer_access_token", "current_authorizer_access_token", (0,)),
        ("invalidate_component_token", "revoke_component_token", ()),
        ("invalidate_authorizer_token", "revoke_authorizer_token", (0,)),
    ],
)
def test_renamed_emulator_methods_still_answer_with_a_deprecation_warning(
    old: str, new: str, args: tuple[int, ...]
) -> None:
    """Issue 12 §5: one meaning per name. The emulator's peeks and revocations had the names a
    client uses for fetching and a store for forgetting; the old names still work, warning."""
    emu = Emulator(authorizers=1)
    given = [emu.authorizer_appids[0] for _ in args]
    with pytest.warns(DeprecationWarning, match=new):
        before = getattr(emu, old)(*given)
    after = getattr(emu, new)(*given)
    if old != "push_ticket":
        assert before == after


@pytest.mark.parametrize(
    "auth_time",
    [-1, 2**63, 10**4301, 1.5, "1700000000", True, {1}, None, 0, 2**63 - 1],
    ids=["-1", "2**63", "10**4301", "1.5", "digits", "True", "set", "None", "0", "2**63-1"],
)
def test_add_authorizer_refuses_an_auth_time_json_cannot_carry(auth_time: object) -> None:
    """Regression (trial of issue 12): ``auth_time=10**4301 - 1`` or ``{1}`` was accepted, and
    ``api_get_authorizer_list`` then crashed with a bare ``TypeError``."""
    from wxprivacy import InvalidArgumentError

    emu = Emulator(authorizers=0)
    if auth_time is None or type(auth_time) is int and 0 <= auth_time < 2**63:
        emu.add_authorizer("wx1111111111111111", auth_time=auth_time)  # type: ignore[arg-type]
        assert "wx1111111111111111" in emu.authorizer_appids
        return
    with pytest.raises(InvalidArgumentError, match="auth_time"):
        emu.add_authorizer("wx1111111111111111", auth_time=auth_time)  # type: ignore[arg-type]
    assert "wx1111111111111111" not in emu.authorizer_appids


@pytest.mark.parametrize(
    "setting",
    [
        {"update_time": 2**64},
        {"code_exist": 10**4300},
        {"owner_setting": {"store_region": 2**64}},
        {"privacy_list": [object()]},
        {"privacy_list": {"Location"}},
        {"privacy_list": ["\ud800"]},
    ],
    ids=["update_time", "code_exist", "store_region", "object", "set", "surrogate"],
)
def test_seeding_refuses_what_json_cannot_carry(setting: dict[str, Any]) -> None:
    """Re-check of the issue-12 trial: each was accepted and crashed the first request with a
    bare ``TypeError``; now refused when seeded, naming the argument."""
    from wxprivacy import InvalidArgumentError

    emu = Emulator(authorizers=1)
    appid = emu.authorizer_appids[0]
    with pytest.raises(InvalidArgumentError, match="setting"):
        emu.add_authorizer("wx1111111111111111", setting=setting)
    with pytest.raises(InvalidArgumentError, match="live_setting"):
        emu.add_authorizer("wx1111111111111111", live_setting=setting)
    with pytest.raises(InvalidArgumentError, match="setting"):
        emu.set_privacy_setting(appid, setting)
    assert "wx1111111111111111" not in emu.authorizer_appids


@pytest.mark.parametrize(
    "token", ["", "  ", 123, b"x", "\ud800"], ids=["empty", "blank", "int", "bytes", "surrogate"]
)
def test_seeding_refuses_a_refresh_token_wechat_could_not_send(token: object) -> None:
    from wxprivacy import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="refresh_token"):
        Emulator().add_authorizer("wx1111111111111111", refresh_token=token)  # type: ignore[arg-type]


def test_set_privacy_setting_refuses_a_version_wechat_has_not() -> None:
    from wxprivacy import InvalidArgumentError

    emu = Emulator(authorizers=1)
    with pytest.raises(InvalidArgumentError, match="privacy_ver"):
        emu.set_privacy_setting(emu.authorizer_appids[0], {}, privacy_ver=3)
