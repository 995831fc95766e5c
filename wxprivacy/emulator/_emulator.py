"""The :class:`Emulator`: a stateful, in-memory WeChat component API.

The emulator is a facade: the state (:mod:`._state`), the table of routes (:mod:`._routes`), the
fault injector (:mod:`._faults`), the control endpoints (:mod:`._control`) and the pushes
(:mod:`._push`) each live in their own object; :meth:`Emulator.handle` ties them together.
"""

from __future__ import annotations

import asyncio
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import orjson

from .._checks import check_int, check_seconds
from .._errors import InvalidArgumentError
from .._wire import MAX_LIFETIME
from ._authorization import AUTH_CODE_TTL
from ._control import CONTROL_PREFIX, ControlEndpoints, Traffic, snapshot
from ._faults import FaultInjector, Faults
from ._interfaces import interface_entry
from ._payloads import EmulatorResponse, dumps, json_response
from ._push import CallbackPush, Pushes
from ._routes import ROUTES
from ._seed import MAX_EMULATED, seed_specs
from ._state import Authorizer, EmulatorState, PrivacyVersion, new_secret

if TYPE_CHECKING:
    import httpx

    from wxprivacy.callback import MessageCrypto

__all__ = ["CONTROL_PREFIX", "DEFAULT_CALLBACK_TOKEN", "DEFAULT_ENCODING_AES_KEY", "Emulator"]

_APPID = re.compile(r"wx[0-9a-f]{16}")
DEFAULT_CALLBACK_TOKEN = "emulator-callback-token"
"""The message-check Token the emulator signs callback pushes with, unless told otherwise."""
DEFAULT_ENCODING_AES_KEY = "EmuLatorEncodingAesKey0123456789abcdefghijk"
"""The 43-character EncodingAESKey the emulator encrypts callback pushes with by default."""


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"Emulator.{old}() is deprecated: use Emulator.{new}() (issue 12: one meaning per name)",
        DeprecationWarning,
        stacklevel=3,
    )


def _not_found() -> EmulatorResponse:
    return EmulatorResponse(404, {"content-type": "text/plain"}, b"404 Not Found")


def _wire_value(name: str, value: Any) -> Any:
    """Return ``value`` if WeChat's JSON can carry it (what the emulator will answer with),
    else raise :class:`InvalidArgumentError` naming ``name``: checked when seeded, not when a
    client first asks (where it was a bare ``TypeError`` inside a request)."""
    try:
        dumps(value)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidArgumentError(f"{name} cannot be sent as JSON: {exc}") from None
    return value


class Emulator:
    """A stateful WeChat Open Platform emulator (component token chain + privacy guidelines).

    Args:
        component_appid: the third-party platform appid clients must send.
        component_appsecret: its AppSecret (a wrong one gets 40001, as on WeChat).
        authorizers: how many synthetic authorizers to seed (see ``wxprivacy.emulator._seed``).
        seed: seeds authorizers, tokens and the fault sequence: same seed, same behaviour.
        token_ttl: ``expires_in`` in seconds of component and authorizer access tokens.
        grace: seconds a superseded access token, or a rotated refresh token, keeps working.
        rotate_refresh_tokens: api_authorizer_token returns a new refresh token every time.
        faults: fault probabilities, or ``None`` for none.
        latency: seconds added to every WeChat response (``asyncio.sleep``).
        clock: the wall clock, Unix seconds (float); inject a fake one in tests.
        callback_token: the message-check Token used to sign callback pushes.
        encoding_aes_key: the 43-character EncodingAESKey used to encrypt callback pushes.

    Raises:
        InvalidArgumentError: a number out of its range (``authorizers`` 0 to 200,000,
            ``seed`` 0 to 2**64 - 1, ``token_ttl`` 1 s to a year, ``grace`` up to a year,
            ``latency`` up to an hour).

    Attributes:
        latency: seconds added to every response (may be changed at any time).
    """

    def __init__(
        self,
        component_appid: str = "wx0000000000000000",
        component_appsecret: str = "emulator-secret",
        *,
        authorizers: int = 0,
        seed: int = 0,
        token_ttl: float = 7200,
        grace: float = 300.0,
        rotate_refresh_tokens: bool = False,
        faults: Faults | None = None,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        callback_token: str = DEFAULT_CALLBACK_TOKEN,
        encoding_aes_key: str = DEFAULT_ENCODING_AES_KEY,
    ) -> None:
        check_int("authorizers", authorizers, low=0, high=MAX_EMULATED)
        check_int("seed", seed, low=0, high=2**64 - 1)
        check_seconds("token_ttl", token_ttl, low=1.0, high=MAX_LIFETIME)
        check_seconds("grace", grace)
        check_seconds("latency", latency, high=3_600.0)
        self._state = EmulatorState(
            component_appid,
            component_appsecret,
            token_ttl=token_ttl,
            grace=grace,
            rotate_refresh_tokens=rotate_refresh_tokens,
            clock=clock,
            seed=seed,
        )
        self._traffic = Traffic()
        self._faults = FaultInjector(faults, seed, self._traffic.faults)
        self._control = ControlEndpoints(self._state, self._traffic, self._callback_keys)
        self._pushes = Pushes(
            component_appid, callback_token, encoding_aes_key, clock=clock, seed=seed
        )
        self.latency = latency
        self._asgi: Any = None
        self._date_second = -1
        self._date_text = ""
        for spec in seed_specs(authorizers, seed):
            self._add(
                Authorizer(
                    appid=spec.appid,
                    refresh_token=self._state.new_refresh_token(),
                    auth_time=spec.auth_time,
                    permission_18=spec.permission_18,
                    dev=PrivacyVersion.from_partial(spec.dev, code_exist=True),
                    live=None
                    if spec.live is None
                    else PrivacyVersion.from_partial(spec.live, code_exist=True),
                    kind=spec.kind,
                )
            )

    # -- credentials --------------------------------------------------------------------------

    @property
    def component_appid(self) -> str:
        """The component appid."""
        return self._state.component_appid

    @property
    def component_appsecret(self) -> str:
        """The component AppSecret."""
        return self._state.component_appsecret

    @property
    def calls(self) -> Counter[str]:
        """Requests received per WeChat path, faulted and failed ones included."""
        return self._traffic.calls

    @calls.setter
    def calls(self, counter: Counter[str]) -> None:
        self._traffic.calls = counter

    @property
    def faults_injected(self) -> Counter[str]:
        """Faults injected per kind (``"system_error"``, ``"timeout"``, ...)."""
        return self._traffic.faults

    @faults_injected.setter
    def faults_injected(self, counter: Counter[str]) -> None:
        self._traffic.faults = self._faults.injected = counter

    @property
    def faults(self) -> Faults | None:
        """The active :class:`Faults`, or ``None`` (may be replaced at any time)."""
        return self._faults.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._faults.faults = faults

    @property
    def callback_token(self) -> str:
        """The message-check Token callback pushes are signed with."""
        return self._pushes.callback_token

    @callback_token.setter
    def callback_token(self, value: str) -> None:
        self._pushes.callback_token = value

    @property
    def encoding_aes_key(self) -> str:
        """The 43-character EncodingAESKey callback pushes are encrypted with."""
        return self._pushes.encoding_aes_key

    @encoding_aes_key.setter
    def encoding_aes_key(self, value: str) -> None:
        self._pushes.encoding_aes_key = value

    @property
    def component_verify_ticket(self) -> str:
        """The newest verify ticket (what the 10-minute callback push would deliver)."""
        return self._state.ticket

    def issue_ticket(self) -> str:
        """Issue and return a fresh verify ticket; older ones stay valid 12 hours from issue.

        (:meth:`ticket_push` makes the callback *push* that carries one.)
        """
        return self._state.push_ticket()

    def push_ticket(self) -> str:
        """Deprecated name of :meth:`issue_ticket` (it returns a ticket, not a push)."""
        _renamed("push_ticket", "issue_ticket")
        return self.issue_ticket()

    @property
    def authorizer_appids(self) -> list[str]:
        """Authorizer appids in seeding/adding order (revoked ones included)."""
        return list(self._state.authorizers)

    def refresh_token(self, authorizer_appid: str) -> str:
        """Return the current ``authorizer_refresh_token``. Raises ``KeyError`` if unknown."""
        return self._state.authorizers[authorizer_appid].refresh_token

    def authorizer(self, authorizer_appid: str) -> Authorizer:
        """Return the live state of one authorizer (mutate its versions, then call ``changed()``).

        Raises:
            KeyError: unknown appid.
        """
        return self._state.authorizers[authorizer_appid]

    # -- authorizers ----------------------------------------------------------------------------

    def add_authorizer(
        self,
        authorizer_appid: str,
        *,
        setting: Mapping[str, Any] | None = None,
        live_setting: Mapping[str, Any] | None = None,
        permission_18: bool = True,
        code_exist: bool = True,
        refresh_token: str | None = None,
        auth_time: int | None = None,
    ) -> None:
        """Add (or replace) an authorizer.

        Args:
            authorizer_appid: its appid.
            setting: the development version (``privacy_ver=2``) in getprivacysetting shape
                (``code_exist``, ``privacy_list``, ``setting_list``, ``update_time``,
                ``owner_setting``, ``sdk_privacy_info_list``); missing fields get the observed
                "unconfigured" defaults. ``None``: an unconfigured Mini Program.
            live_setting: the live version (``privacy_ver=1``) in the same shape; ``None``: no
                live version (86074).
            permission_18: whether permission set 18 is granted (else 61007).
            code_exist: ``code_exist`` when ``setting`` does not give it.
            refresh_token: its refresh token (default: a fresh random one).
            auth_time: Unix seconds of authorization (default: now), an int from 0 to 2**63 - 1
                (what WeChat's JSON carries).

        Raises:
            ValueError: ``setting`` has unknown fields.
            InvalidArgumentError: ``auth_time`` is not such an int, ``setting`` or
                ``live_setting`` holds what JSON cannot carry, or ``refresh_token`` is blank.
        """
        if auth_time is not None:
            check_int("auth_time", auth_time, low=0, high=2**63 - 1, unit="Unix seconds")
        _wire_value("setting", setting)
        _wire_value("live_setting", live_setting)
        if refresh_token is not None and (
            not isinstance(refresh_token, str) or not refresh_token.strip()
        ):
            raise InvalidArgumentError("refresh_token must be a non-blank string")
        _wire_value("refresh_token", refresh_token)
        self._add(
            Authorizer(
                appid=authorizer_appid,
                refresh_token=refresh_token or self._state.new_refresh_token(),
                auth_time=int(self._state.clock()) if auth_time is None else auth_time,
                permission_18=permission_18,
                dev=PrivacyVersion.from_partial(dict(setting or {}), code_exist=code_exist),
                live=None
                if live_setting is None
                else PrivacyVersion.from_partial(dict(live_setting), code_exist=code_exist),
            )
        )

    def _add(self, authorizer: Authorizer) -> None:
        self._state.tokens.invalidate("authorizer", authorizer.appid)
        self._state.authorizers[authorizer.appid] = authorizer

    def set_privacy_setting(
        self, authorizer_appid: str, setting: Mapping[str, Any], *, privacy_ver: int = 2
    ) -> None:
        """Replace one version of an authorizer's guideline (what getprivacysetting returns).

        Args:
            setting: getprivacysetting-shaped fields; missing ones get "unconfigured" defaults.
            privacy_ver: 2 development (default) or 1 live.

        Raises:
            InvalidArgumentError: ``privacy_ver`` is not 1 or 2, or ``setting`` holds what JSON
                cannot carry (a set, an int past 64 bits, a lone surrogate).
        """
        authorizer = self._state.authorizers[authorizer_appid]
        if privacy_ver not in (1, 2):
            raise InvalidArgumentError(f"privacy_ver must be 1 or 2, got {privacy_ver!r}")
        version = PrivacyVersion.from_partial(
            dict(_wire_value("setting", setting)), code_exist=True
        )
        if privacy_ver == 1:
            authorizer.live = version
        else:
            authorizer.dev = version

    def authorize(
        self, authorizer_appid: str, *, permission_sets: Iterable[int] | None = None
    ) -> str:
        """Simulate an owner completing the authorization page; return the authorization code.

        A new appid becomes an unconfigured Mini Program (no live version). Every authorization
        (new or repeated) gives the authorizer a new refresh token at once (the previous one
        answers 61023 from now on, as a re-authorization does on WeChat) and kills its access
        tokens. The code works once with ``api_query_auth``, for one hour.

        Args:
            authorizer_appid: the account.
            permission_sets: the granted permission set ids; ``None`` keeps the current ones
                (new accounts: 17, 18, 19, 25, 30, 31). Leave out 18 to get 61007 later.
        """
        state = self._state
        authorizer = state.authorizers.get(authorizer_appid)
        if authorizer is None:
            self.add_authorizer(authorizer_appid, code_exist=False)
            authorizer = state.authorizers[authorizer_appid]
        else:
            authorizer.authorized = True
            authorizer.old_refresh_tokens = {}
            authorizer.refresh_token = state.new_refresh_token()
            authorizer.auth_time = int(state.clock())
            state.tokens.invalidate("authorizer", authorizer_appid)
        if permission_sets is not None:
            sets = tuple(sorted(set(permission_sets)))
            authorizer.permission_18 = 18 in sets
            authorizer.func_ids = tuple(n for n in sets if n != 18)
        code = f"queryauthcode@@@{new_secret(state.rng, 40)}"
        state.auth_codes[code] = (authorizer_appid, state.clock() + AUTH_CODE_TTL)
        return code

    def granted_permission_sets(self, authorizer_appid: str) -> list[int]:
        """The permission set ids the authorizer granted, sorted."""
        return self._state.authorizers[authorizer_appid].granted()

    def review_interface(
        self, authorizer_appid: str, api_name: str, *, approve: bool = True, reason: str = ""
    ) -> None:
        """Finish the review of a privacy-interface application: status 5, or 4 with a reason.

        Raises:
            KeyError: unknown appid or an API the emulator does not list.
        """
        entry = interface_entry(self._state.authorizers[authorizer_appid], api_name)
        entry["status"] = 5 if approve else 4
        if approve:
            entry.pop("fail_reason", None)
        else:
            entry["fail_reason"] = reason or "申请理由不充分"

    def uploaded_media_ids(self, authorizer_appid: str) -> set[str]:
        """The ``ext_file_media_id`` values uploaded for the authorizer."""
        return set(self._state.authorizers[authorizer_appid].media_ids)

    # -- callback pushes -----------------------------------------------------------------------

    @property
    def callback_crypto(self) -> MessageCrypto:
        """The :class:`~wxprivacy.callback.MessageCrypto` the pushes are made with.

        Build your ``CallbackHandler`` with ``MessageCrypto(emu.callback_token,
        emu.encoding_aes_key, emu.component_appid)`` (or this object). Needs the ``callback``
        extra.
        """
        return self._pushes.crypto

    def push_event(self, info_type: str, **fields: str | int) -> CallbackPush:
        """Build a signed, encrypted authorization-event push, as WeChat POSTs it.

        ``AppId``, ``CreateTime`` (now) and ``InfoType`` are filled in; ``fields`` add the
        event's own elements (e.g. ``AuthorizerAppid="wx..."``). Nothing in the state changes.

        Returns:
            A :class:`CallbackPush`: ``query`` (timestamp, nonce, signature, encrypt_type,
            msg_signature), ``body`` (the XML envelope) and the plaintext ``xml``.
        """
        return self._pushes.event(info_type, **fields)

    def _callback_keys(self) -> dict[str, str]:
        """The callback Token and EncodingAESKey, for ``GET /_emulator/state``."""
        return {"callback_token": self.callback_token, "encoding_aes_key": self.encoding_aes_key}

    def _push_over_http(self, query: Mapping[str, str]) -> EmulatorResponse:
        """``POST /_emulator/push?kind=...[&authorizer_appid=...]``: make a push for a process
        that tests its callback URL over HTTP, and answer it as JSON ``{"info_type", "query",
        "body"}`` (POST ``body`` to your URL with ``query`` as its query string).

        ``kind`` is ``ticket`` (a fresh verify ticket), ``authorized`` or ``updateauthorized``
        (the authorizer is authorized anew: its refresh token changes) or ``unauthorized`` (its
        authorization is revoked). Anything else answers HTTP 400 saying what was wrong.
        """
        kind = query.get("kind", "")
        appid = query.get("authorizer_appid", "")
        headers = {"content-type": "application/json"}
        if appid and not _APPID.fullmatch(appid):  # WeChat's appids: wx and 16 hex digits
            problem = f"authorizer_appid {appid!r} is not an appid (wx and 16 hex digits)"
            return EmulatorResponse(400, headers, dumps({"error": problem}))
        if kind == "ticket":
            push = self.ticket_push()
        elif kind in ("authorized", "updateauthorized", "unauthorized") and (
            appid in self._state.authorizers or (kind != "unauthorized" and appid)
        ):
            push = (
                self.unauthorized_push(appid)
                if kind == "unauthorized"
                else self.authorized_push(appid, info_type=kind)
            )
        else:
            problem = (
                f"kind must be ticket, authorized, updateauthorized or unauthorized, got {kind!r}"
                if kind not in ("ticket", "authorized", "updateauthorized", "unauthorized")
                else f"authorizer_appid {appid!r} is not an authorizer of this emulator"
            )
            return EmulatorResponse(400, headers, dumps({"error": problem}))
        payload = {
            "info_type": push.info_type,
            "query": dict(push.query),
            "body": push.body.decode(),
        }
        return json_response(dumps(payload))

    def ticket_push(self) -> CallbackPush:
        """Issue a fresh verify ticket (see :meth:`push_ticket`) and return its push."""
        ticket = self.issue_ticket()
        return self._pushes.event("component_verify_ticket", ComponentVerifyTicket=ticket)

    def authorized_push(
        self,
        authorizer_appid: str,
        *,
        permission_sets: Iterable[int] | None = None,
        info_type: str = "authorized",
    ) -> CallbackPush:
        """:meth:`authorize` and return the ``authorized`` (or ``updateauthorized``) push."""
        code = self.authorize(authorizer_appid, permission_sets=permission_sets)
        expires_at = self._state.auth_codes[code][1]
        return self._pushes.authorized(authorizer_appid, code, expires_at, info_type)

    def unauthorized_push(self, authorizer_appid: str) -> CallbackPush:
        """:meth:`revoke_authorization` and return the ``unauthorized`` push."""
        self.revoke_authorization(authorizer_appid)
        return self._pushes.event("unauthorized", AuthorizerAppid=authorizer_appid)

    def revoke_authorization(self, authorizer_appid: str) -> None:
        """Simulate the owner revoking the authorization: tokens die (40001), refresh -> 61003."""
        self._state.authorizers[authorizer_appid].authorized = False
        self._state.tokens.invalidate("authorizer", authorizer_appid)

    def expected_undeclared(self, authorizer_appid: str, privacy_ver: int = 2) -> list[str]:
        """Ground truth: the sorted ``privacy_list`` keys missing from ``setting_list``.

        Returns ``[]`` when the version does not exist.
        """
        version = self._state.authorizers[authorizer_appid].version(privacy_ver)
        return [] if version is None else version.undeclared()

    def profile(self, authorizer_appid: str) -> str:
        """Ground truth: the seeding profile (``"configured"``, ``"undeclared"``, ``"no_code"``,
        ``"no_permission"``, ``"no_contact"``), or ``"custom"`` for added authorizers."""
        return self._state.authorizers[authorizer_appid].kind

    # -- tokens ---------------------------------------------------------------------------------

    # The names say what the emulator does, unlike a client's: a client's
    # ``component_access_token()`` fetches one, a store's ``invalidate_*`` forgets one it holds.

    def current_component_access_token(self) -> str | None:
        """The component access token WeChat would accept now (a peek: nothing is issued), or
        ``None`` before the first issue."""
        return self._state.tokens.current("component", self._state.component_appid)

    def current_authorizer_access_token(self, authorizer_appid: str) -> str | None:
        """The access token of ``authorizer_appid`` WeChat would accept now (a peek), or
        ``None``."""
        return self._state.tokens.current("authorizer", authorizer_appid)

    def revoke_component_token(self) -> None:
        """Make the current component token (and any in grace) answer 40001 from now on."""
        self._state.tokens.invalidate("component", self._state.component_appid)

    def revoke_authorizer_token(self, authorizer_appid: str) -> None:
        """Make the authorizer's access tokens answer 40001 from now on."""
        self._state.tokens.invalidate("authorizer", authorizer_appid)

    def component_access_token(self) -> str | None:
        """Deprecated name of :meth:`current_component_access_token`."""
        _renamed("component_access_token", "current_component_access_token")
        return self.current_component_access_token()

    def authorizer_access_token(self, authorizer_appid: str) -> str | None:
        """Deprecated name of :meth:`current_authorizer_access_token`."""
        _renamed("authorizer_access_token", "current_authorizer_access_token")
        return self.current_authorizer_access_token(authorizer_appid)

    def invalidate_component_token(self) -> None:
        """Deprecated name of :meth:`revoke_component_token`."""
        _renamed("invalidate_component_token", "revoke_component_token")
        self.revoke_component_token()

    def invalidate_authorizer_token(self, authorizer_appid: str) -> None:
        """Deprecated name of :meth:`revoke_authorizer_token`."""
        _renamed("invalidate_authorizer_token", "revoke_authorizer_token")
        self.revoke_authorizer_token(authorizer_appid)

    def expire_tokens(self) -> None:
        """Make every access token issued so far answer 42001."""
        self._state.tokens.expire_all()

    def reset_calls(self) -> None:
        """Zero :attr:`calls` and :attr:`faults_injected`."""
        self._traffic.reset()

    # -- the core -------------------------------------------------------------------------------

    async def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str],
    ) -> EmulatorResponse:
        """Answer one request (sans-I/O: the adapters call this).

        Args:
            method: the HTTP method (not checked for WeChat paths; WeChat wants POST).
            path: the URL path, e.g. ``/cgi-bin/component/getprivacysetting``.
            query: query parameters (first value of each).
            body: the raw request body.
            headers: request headers (uploads read ``Content-Type``; any case of the name).

        Returns:
            The response. ``fault`` is ``"timeout"`` or ``"reset"`` when the adapter must act
            out a network failure instead of sending it.
        """
        if path.startswith(CONTROL_PREFIX):
            if path == CONTROL_PREFIX + "push" and method == "POST":
                return self._push_over_http(query)
            return self._control.handle(method, path)
        self._traffic.calls[path] += 1
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        route = ROUTES.get(path)
        if route is None:
            return self._dated(_not_found())
        state = self._state
        kind = self._faults.draw(path)
        if kind is not None:
            return self._dated(
                self._faults.render(kind, state, lambda: route.answer(state, query, body, headers))
            )
        return self._dated(route.answer(state, query, body, headers))

    def _dated(self, response: EmulatorResponse) -> EmulatorResponse:
        """``response`` with a ``Date`` header from the emulator's clock, as WeChat sends one
        (``wxprivacy doctor`` measures the clock offset with it)."""
        second = int(self._state.clock())
        if second != self._date_second:
            self._date_second = second
            self._date_text = formatdate(second, usegmt=True)
        response.headers = {**response.headers, "date": self._date_text}
        return response

    def snapshot(self) -> dict[str, Any]:
        """Credentials a test in another process needs (``GET /_emulator/state``).

        Returns:
            ``{"component_appid", "component_appsecret", "component_verify_ticket",
            "authorizers": [{"authorizer_appid", "refresh_token", "profile", "undeclared"}]}``.
        """
        return snapshot(self._state)

    # -- adapters -------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process httpx transport: ``httpx.AsyncClient(transport=emu.transport())``."""
        from ._transport import EmulatorTransport

        return EmulatorTransport(self)

    @property
    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI 3 application serving this emulator (created once)."""
        if self._asgi is None:
            from ._asgi import EmulatorASGIApp

            self._asgi = EmulatorASGIApp(self)
        return self._asgi  # type: ignore[no-any-return]
