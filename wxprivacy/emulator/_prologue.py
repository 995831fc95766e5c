"""A route: an endpoint's declared prologue and the handler that runs once the prologue passed.

The prologue runs in this order, each step only when the route declares it, and answers the
first errcode that applies:

1. ``token``: ``"component"`` reads ``?component_access_token=`` (or ``?access_token=``):
   41001 missing, 40001 unknown or superseded, 61014 an authorizer token, 42001 expired.
   ``"authorizer"`` reads ``?access_token=``: 41001 missing, 40001 unknown, superseded or of a
   revoked authorizer, 48001 a component token, 42001 expired.
2. ``permission_18``: 61007 when the authorizer did not grant permission set 18.
3. ``body``: ``"json"`` a JSON object (else 47001); ``"wechat_json"`` the same, with ``\\uXXXX``
   kept literally (setprivacysetting); ``"multipart"`` ``multipart/form-data`` by its
   Content-Type (else 41005, "media data missing"); ``"none"`` the body is not read.
4. ``component_appid``: the body's ``component_appid``: 41018 missing, 61011 not ours.
5. ``privacy_ver``: 47001 a string, 86071 not 1 or 2 (absent: 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Final, Literal

from ._bodies import content_type, json_object, parse_multipart, wechat_json
from ._call import Call, Handler, error, is_int
from ._payloads import EmulatorResponse
from ._state import Authorizer, EmulatorState

__all__ = ["BAD_BODY", "BodyKind", "Route", "TokenCheck"]

TokenCheck = Literal["none", "component", "authorizer"]
BodyKind = Literal["none", "json", "wechat_json", "multipart"]

BAD_BODY: Final[Mapping[BodyKind, int]] = {"json": 47001, "wechat_json": 47001, "multipart": 41005}
"""The errcode of a body that is not of the route's kind."""


@dataclass(frozen=True, slots=True)
class Route:
    """One WeChat endpoint: its prologue (see the module docstring) and its handler.

    Attributes:
        handler: the endpoint's own logic, run with the :class:`Call` the prologue built.
        token: the access token the query must carry.
        permission_18: whether the authorizer must have granted permission set 18.
        body: how the body is read.
        component_appid: whether the JSON body must name this component appid.
        privacy_ver: whether the JSON body's ``privacy_ver`` is checked.
    """

    handler: Handler
    _: KW_ONLY
    token: TokenCheck = "none"
    permission_18: bool = False
    body: BodyKind = "none"
    component_appid: bool = False
    privacy_ver: bool = False

    def answer(
        self,
        state: EmulatorState,
        query: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str],
    ) -> EmulatorResponse:
        """Run the prologue, then the handler; the first error, or the handler's answer."""
        call = self.prologue(state, query, body, headers)
        return call if isinstance(call, EmulatorResponse) else self.handler(call)

    def prologue(
        self,
        state: EmulatorState,
        query: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str],
    ) -> Call | EmulatorResponse:
        """Check what the route declares; the :class:`Call` for the handler, or the error."""
        call = Call(state, query)
        if self.token == "component":
            errcode = _component_token(state, query)
            if errcode:
                return error(state, errcode)
        elif self.token == "authorizer":
            found = _authorizer_token(state, query)
            if isinstance(found, int):
                return error(state, found)
            if self.permission_18 and not found.permission_18:
                return error(state, 61007)
            call.caller = found
        if self.body == "multipart":
            form = parse_multipart(body, content_type(headers))
            if form is None:
                return error(state, BAD_BODY["multipart"])
            call.form = form
        elif self.body != "none":
            data = json_object(body) if self.body == "json" else wechat_json(body)
            if data is None:
                return error(state, BAD_BODY[self.body])
            call.data = data
        if self.component_appid:
            errcode = _component_appid(state, call.data)
            if errcode:
                return error(state, errcode)
        if self.privacy_ver:
            ver = call.data.get("privacy_ver", 2)
            if isinstance(ver, str):
                return error(state, 47001)
            if not is_int(ver) or ver not in (1, 2):
                return error(state, 86071)
            call.privacy_ver = ver
        return call


def _component_token(state: EmulatorState, query: Mapping[str, str]) -> int:
    """The errcode for ``?component_access_token=`` (or ``?access_token=``), 0 when valid."""
    token = query.get("component_access_token") or query.get("access_token")
    if not token:
        return 41001
    verdict, record = state.tokens.lookup(token)
    if verdict == "invalid" or record is None:
        return 40001
    if record.kind != "component":
        return 61014
    if verdict == "expired":
        return 42001
    return 0


def _authorizer_token(state: EmulatorState, query: Mapping[str, str]) -> Authorizer | int:
    """The authorizer ``?access_token=`` belongs to, or the errcode to answer."""
    token = query.get("access_token")
    if not token:
        return 41001
    verdict, record = state.tokens.lookup(token)
    if verdict == "invalid" or record is None:
        return 40001
    if record.kind != "authorizer":
        return 48001
    if verdict == "expired":
        return 42001
    authorizer = state.authorizers.get(record.owner)
    if authorizer is None or not authorizer.authorized:
        return 40001
    return authorizer


def _component_appid(state: EmulatorState, data: Mapping[str, Any]) -> int:
    appid = data.get("component_appid")
    if not appid:
        return 41018
    if appid != state.component_appid:
        return 61011
    return 0
