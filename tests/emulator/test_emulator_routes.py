"""Every route of the table has the prologue it declares enforced, in the declared order.

Each test is parametrized over the routes of ``ROUTES`` and derives the expected errcode from the
route's declaration, so a new route is checked as soon as it is in the table. Requests go straight
to the sans-I/O ``Emulator.handle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from wxprivacy.emulator import Emulator
from wxprivacy.emulator._prologue import BAD_BODY, Route
from wxprivacy.emulator._routes import ROUTES

from ._support import FakeClock

ALL = sorted(ROUTES)
WITH_TOKEN = [p for p in ALL if ROUTES[p].token != "none"]
COMPONENT = [p for p in ALL if ROUTES[p].token == "component"]
AUTHORIZER = [p for p in ALL if ROUTES[p].token == "authorizer"]
WITH_BODY = [p for p in ALL if ROUTES[p].body != "none"]
WITHOUT_BODY = [p for p in ALL if ROUTES[p].body == "none"]
JSON = [p for p in ALL if ROUTES[p].body in ("json", "wechat_json")]
APPID = [p for p in ALL if ROUTES[p].component_appid]
PRIVACY_VER = [p for p in ALL if ROUTES[p].privacy_ver]
MULTIPART = "multipart/form-data; boundary=b0undary"


def short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


class Caller:
    """Builds, for any route, a request that passes every prologue step but the one tested."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.emu = Emulator(authorizers=0, clock=self.clock)
        self.emu.add_authorizer("wx00000000000000aa")
        self.emu.add_authorizer("wx00000000000000bb", permission_18=False)

    async def answer(
        self,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        route = ROUTES[path]
        response = await self.emu.handle(
            "POST",
            path,
            await self.query(route) if query is None else query,
            self.body(route) if body is None else body,
            self.headers(route) if headers is None else headers,
        )
        assert response.status == 200
        return response.json()

    async def errcode(self, path: str, **request: Any) -> int:
        return int((await self.answer(path, **request)).get("errcode", 0))

    async def component_token(self) -> str:
        ticket = self.emu.component_verify_ticket
        body = {
            "component_appid": self.emu.component_appid,
            "component_appsecret": self.emu.component_appsecret,
            "component_verify_ticket": ticket,
        }
        response = await self.emu.handle(
            "POST", "/cgi-bin/component/api_component_token", {}, orjson.dumps(body), {}
        )
        return str(response.json()["component_access_token"])

    async def authorizer_token(self, appid: str = "wx00000000000000aa") -> str:
        body = {
            "component_appid": self.emu.component_appid,
            "authorizer_appid": appid,
            "authorizer_refresh_token": self.emu.refresh_token(appid),
        }
        response = await self.emu.handle(
            "POST",
            "/cgi-bin/component/api_authorizer_token",
            {"component_access_token": await self.component_token()},
            orjson.dumps(body),
            {},
        )
        return str(response.json()["authorizer_access_token"])

    async def query(self, route: Route) -> dict[str, str]:
        if route.token == "component":
            return {"component_access_token": await self.component_token()}
        if route.token == "authorizer":
            return {"access_token": await self.authorizer_token()}
        return {}

    def body(self, route: Route, **fields: Any) -> bytes:
        if route.body == "multipart":
            return (
                b"--b0undary\r\n"
                b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
                b"Content-Type: text/plain\r\n\r\nguideline\r\n--b0undary--\r\n"
            )
        data: dict[str, Any] = {}
        if route.component_appid:
            data["component_appid"] = self.emu.component_appid
        if route.privacy_ver:
            data["privacy_ver"] = 2
        data.update(fields)
        return orjson.dumps({k: v for k, v in data.items() if v is not None})

    @staticmethod
    def headers(route: Route) -> dict[str, str]:
        return {"content-type": MULTIPART} if route.body == "multipart" else {}


@pytest.fixture
def caller() -> Caller:
    return Caller()


def test_the_table_declares_what_the_endpoints_need() -> None:
    for route in ROUTES.values():
        assert route.token in ("none", "component", "authorizer")
        assert route.body in ("none", *BAD_BODY)
        # permission set 18 and privacy_ver concern authorizer tokens; component_appid JSON bodies
        assert not route.permission_18 or route.token == "authorizer"
        assert not route.component_appid or route.body == "json"
        assert not route.privacy_ver or route.body in ("json", "wechat_json")
    assert [p for p in ALL if ROUTES[p].token == "none"] == [
        "/cgi-bin/component/api_component_token"
    ]


@pytest.mark.parametrize("path", WITH_TOKEN, ids=short)
async def test_missing_token_is_41001(caller: Caller, path: str) -> None:
    assert await caller.errcode(path, query={}) == 41001
    assert await caller.errcode(path, query={"access_token": ""}) == 41001


@pytest.mark.parametrize("path", WITH_TOKEN, ids=short)
async def test_unknown_token_is_40001(caller: Caller, path: str) -> None:
    for name in ("access_token", "component_access_token"):
        if ROUTES[path].token == "authorizer" and name == "component_access_token":
            continue  # authorizer routes read only access_token: this is a missing token
        assert await caller.errcode(path, query={name: "80_never-issued"}) == 40001


@pytest.mark.parametrize("path", WITH_TOKEN, ids=short)
async def test_token_of_the_other_kind_is_refused(caller: Caller, path: str) -> None:
    if ROUTES[path].token == "component":
        query, errcode = {"component_access_token": await caller.authorizer_token()}, 61014
    else:
        query, errcode = {"access_token": await caller.component_token()}, 48001
    assert await caller.errcode(path, query=query) == errcode


@pytest.mark.parametrize("path", WITH_TOKEN, ids=short)
async def test_expired_token_is_42001(caller: Caller, path: str) -> None:
    query = await caller.query(ROUTES[path])
    caller.clock.advance(7200)
    assert await caller.errcode(path, query=query) == 42001


@pytest.mark.parametrize("path", AUTHORIZER, ids=short)
async def test_superseded_or_revoked_authorizer_token_is_40001(caller: Caller, path: str) -> None:
    query = await caller.query(ROUTES[path])
    caller.emu.revoke_authorization("wx00000000000000aa")
    assert await caller.errcode(path, query=query) == 40001


@pytest.mark.parametrize("path", AUTHORIZER, ids=short)
async def test_permission_set_18_is_61007_where_declared(caller: Caller, path: str) -> None:
    query = {"access_token": await caller.authorizer_token("wx00000000000000bb")}
    errcode = await caller.errcode(path, query=query)
    assert (errcode == 61007) is ROUTES[path].permission_18


@pytest.mark.parametrize("path", WITH_TOKEN, ids=short)
async def test_the_token_is_checked_before_permission_and_body(caller: Caller, path: str) -> None:
    assert await caller.errcode(path, query={}, body=b"{oops", headers={}) == 41001


@pytest.mark.parametrize("path", WITH_BODY, ids=short)
@pytest.mark.parametrize("bad", [b"", b"{oops", b"[1, 2]", b'"text"'])
async def test_bad_body_is_the_documented_errcode(caller: Caller, path: str, bad: bytes) -> None:
    route = ROUTES[path]
    assert await caller.errcode(path, body=bad) == BAD_BODY[route.body]
    if route.permission_18:  # permission set 18 comes first
        query = {"access_token": await caller.authorizer_token("wx00000000000000bb")}
        assert await caller.errcode(path, query=query, body=bad) == 61007


@pytest.mark.parametrize("path", [p for p in WITH_BODY if ROUTES[p].body == "multipart"], ids=short)
async def test_multipart_route_needs_a_multipart_content_type(caller: Caller, path: str) -> None:
    body = caller.body(ROUTES[path])
    assert await caller.errcode(path) == 0
    assert await caller.errcode(path, headers={}) == 41005
    assert await caller.errcode(path, headers={"content-type": "application/json"}) == 41005
    other = {"Content-Type": "multipart/form-data; boundary=another"}
    assert await caller.errcode(path, body=body, headers=other) == 41005


@pytest.mark.parametrize("path", WITHOUT_BODY, ids=short)
async def test_routes_without_a_body_do_not_read_it(caller: Caller, path: str) -> None:
    assert await caller.errcode(path, body=b"{oops") == 0


@pytest.mark.parametrize("path", APPID, ids=short)
async def test_component_appid_is_41018_or_61011(caller: Caller, path: str) -> None:
    route = ROUTES[path]
    missing = caller.body(route, component_appid=None)
    assert await caller.errcode(path, body=missing) == 41018
    assert await caller.errcode(path, body=caller.body(route, component_appid="")) == 41018
    wrong = caller.body(route, component_appid="wx9999999999999999")
    assert await caller.errcode(path, body=wrong) == 61011


@pytest.mark.parametrize("path", [p for p in JSON if p not in APPID], ids=short)
async def test_routes_without_component_appid_ignore_it(caller: Caller, path: str) -> None:
    body = caller.body(ROUTES[path], component_appid="wx9999999999999999")
    assert await caller.errcode(path, body=body) not in (41018, 61011)


@pytest.mark.parametrize("path", PRIVACY_VER, ids=short)
@pytest.mark.parametrize(("ver", "errcode"), [("2", 47001), (3, 86071), (0, 86071), (True, 86071)])
async def test_privacy_ver_is_checked_where_declared(
    caller: Caller, path: str, ver: object, errcode: int
) -> None:
    body = caller.body(ROUTES[path], privacy_ver=ver)
    assert await caller.errcode(path, body=body) == errcode


def test_the_testing_guide_shows_every_routes_prologue() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
    rows = {
        " ".join(line.split())
        for line in docs.read_text("utf-8").splitlines()
        if line.startswith("| `")
    }
    body = {
        "none": "",
        "json": "JSON",
        "wechat_json": "JSON (`\\uXXXX` kept as text)",
        "multipart": "multipart",
    }
    for path, route in ROUTES.items():
        cells = [
            f"`{short(path)}`",
            "" if route.token == "none" else route.token,
            "yes" if route.permission_18 else "",
            body[route.body],
            "yes" if route.component_appid else "",
            "yes" if route.privacy_ver else "",
        ]
        row = " ".join(("| " + " | ".join(cells) + " |").split())
        assert row in rows, row
    assert len(rows) == len(ROUTES)
