"""Run every code block of the documentation, so no example rots.

How a page is run (one test per page):

- Fenced ``python`` blocks run in order, in one namespace per page, like a notebook. A block that
  uses top-level ``await`` runs on the page's event loop; one that calls ``asyncio.run`` runs as a
  script. Blocks inside an HTML comment (``<!-- ... -->``) are not shown on the site but run all
  the same: they seed the emulator for the example and assert that it did what the text says.
- The examples are written against real WeChat (credentials from the environment). Here every
  ``httpx.AsyncClient`` created without an explicit transport is routed to a fresh in-process
  :class:`~wxprivacy.emulator.Emulator`, and ``WXPRIVACY_COMPONENT_APPID``,
  ``WXPRIVACY_COMPONENT_APPSECRET`` and ``WXPRIVACY_COMPONENT_VERIFY_TICKET`` hold the emulator's
  credentials. Hidden blocks see it as ``emulator``.
- Redis examples use the real server at ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``): on
  a page that mentions ``WXPRIVACY_REDIS_URL``, that variable points at database 14 of the server,
  which is flushed before and after the page, and ``RedisTokenStore.from_url`` connects there
  whatever URL the example shows.
- A ``text`` block titled ``Output`` must equal what the python block before it printed.
- ``console`` blocks: each ``$ wxprivacy ...`` command runs in-process in a temporary directory;
  the output lines shown under it must all appear in the real output. A ``$ python -m ... &``
  command starts in the background (its first line of output must be the one shown) and is
  stopped when the page is done. Other commands (``pip install``, ``pytest``, ``export``) are not
  run here: CI runs the installs and the tests itself.
- A page with ``<!-- docs-test: no-routing -->`` builds its own emulators; nothing is rerouted.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import wxprivacy._base
from wxprivacy._httpx_backend import HttpxBackend
from wxprivacy.emulator import Emulator

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[a-z]+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$')


def _expand(line: str) -> str:
    """Inline a pymdownx.snippets line (``--8<-- "path"``), as the site build does."""
    match = SNIPPET.match(line.strip())
    if match is None:
        return line
    return (DOCS.parent / match.group("path")).read_text("utf-8").rstrip("\n")


def blocks(markdown: str) -> list[tuple[str, str, bool, int]]:
    """Every fenced block as ``(lang, code, hidden, line)``, in page order."""
    hidden_spans = [m.span() for m in COMMENT.finditer(markdown)]
    found = []
    for match in FENCE.finditer(markdown):
        start = match.start()
        hidden = any(a <= start < b for a, b in hidden_spans)
        indent = match.group("indent")
        lines = match.group("body").splitlines()
        code = "\n".join(_expand(line.removeprefix(indent)) for line in lines) + "\n"
        lang = match.group("lang")
        if lang == "text" and 'title="Output"' in match.group("info"):
            lang = "output"
        found.append((lang, code, hidden, markdown.count("\n", 0, start) + 1))
    return found


PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if any(lang in ("python", "console") for lang, *_ in blocks(p.read_text("utf-8")))
)


def test_pages_with_examples_are_found() -> None:
    names = {p.name for p in PAGES}
    assert {"quickstart.md", "concepts.md", "batch-audit.md", "testing.md"} <= names


def test_blocks_are_extracted_with_their_visibility() -> None:
    text = "a\n```python\nx = 1\n```\n<!--\n```python\nassert x == 1\n```\n-->\n"
    assert [(lang, hidden) for lang, _, hidden, _ in blocks(text)] == [
        ("python", False),
        ("python", True),
    ]


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(authorizers=20, seed=7)


class _WeChatOnly(httpx.AsyncBaseTransport):
    """Requests to WeChat's host go to the emulator; any other host (an emulator a page starts
    itself on 127.0.0.1, say) is reached over the network as usual."""

    def __init__(self, emulated: httpx.AsyncBaseTransport) -> None:
        self._emulated = emulated
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.weixin.qq.com":
            return await self._emulated.handle_async_request(request)
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._emulated.aclose()
        await self._network.aclose()


def _route_to(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every ``httpx.AsyncClient`` without an explicit transport, and every client a
    ``ComponentClient`` creates for itself, to ``emu``."""
    original_init = httpx.AsyncClient.__init__

    def init(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("transport") is None:
            kwargs["transport"] = _WeChatOnly(emu.transport())
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", init)
    # the client a ComponentClient creates for itself has an explicit (aiohttp) transport
    monkeypatch.setattr(
        wxprivacy._base,
        "create_backend",
        lambda transport="aiohttp", timeout=10.0, max_connections=100: HttpxBackend(
            httpx.AsyncClient(timeout=timeout), owned=True
        ),
    )
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPID", emu.component_appid)
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPSECRET", emu.component_appsecret)
    monkeypatch.setenv("WXPRIVACY_COMPONENT_VERIFY_TICKET", emu.component_verify_ticket)


def _redis_url() -> str:
    """The database REDIS_URL names: the examples touch only keys under their own prefix."""
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redirect_redis(url: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``RedisTokenStore.from_url(...)`` in an example use ``url`` and keys under
    ``prefix`` (the CLI's too, through WXPRIVACY_REDIS_PREFIX)."""
    from wxprivacy.redis import RedisTokenStore

    original = RedisTokenStore.from_url.__func__  # type: ignore[attr-defined]

    def from_url(cls: type[RedisTokenStore], _url: str, **kwargs: Any) -> RedisTokenStore:
        kwargs["key_prefix"] = prefix
        return original(cls, url, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(RedisTokenStore, "from_url", classmethod(from_url))
    monkeypatch.setenv("WXPRIVACY_REDIS_PREFIX", prefix)


def _delete_keys(url: str, prefix: str) -> None:
    """Delete the keys under ``prefix`` (and nothing else) in the database of ``url``."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


def _run_python(code: str, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> str:
    """Run one block; return what it printed."""
    compiled = compile(code, namespace["__file__"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(compiled, namespace)  # noqa: S307 - running our own documentation
        if inspect.iscoroutine(result):
            loop.run_until_complete(result)
    return out.getvalue()


def _start_background(argv: list[str], shown: list[str]) -> subprocess.Popen[str]:
    """Start ``python -m ...`` in the background; wait for the first line it is shown to print."""
    assert argv[0] == "python", f"only python commands run in the background: {argv}"
    proc = subprocess.Popen(
        [sys.executable, *argv[1:]], stdout=subprocess.PIPE, text=True, cwd=DOCS.parent
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().rstrip()
    if shown and first != shown[0]:
        proc.terminate()
        proc.wait(10)
        raise AssertionError(f"{argv} printed {first!r}, the page shows {shown[0]!r}")
    return proc


def _run_console(
    code: str, cwd: Path, monkeypatch: pytest.MonkeyPatch, background: list[subprocess.Popen[str]]
) -> None:
    from typer.testing import CliRunner

    from wxprivacy.cli import app

    commands: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands and line.strip():
            commands[-1][1].append(line.rstrip())
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COLUMNS", "100")
    runner = CliRunner()
    for command, shown in commands:
        argv = shlex.split(command)
        if argv[-1] == "&":
            background.append(_start_background(argv[:-1], shown))
            continue
        if argv[0] != "wxprivacy":
            continue
        result = runner.invoke(app, argv[1:])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{command!r} raised") from result.exception
        assert result.exit_code in (0, 1), (command, result.output)
        actual = [line.rstrip() for line in result.output.splitlines()]
        missing = [line for line in shown if line not in actual]
        assert not missing, f"{command!r} did not print: {missing}\n---\n{result.output}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples_run(
    page: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = page.read_text("utf-8")
    uses_redis = "WXPRIVACY_REDIS_URL" in text
    prefix = f"wxprivacy-docs-{uuid.uuid4().hex[:12]}"
    if uses_redis:
        url = _redis_url()
        monkeypatch.setenv("WXPRIVACY_REDIS_URL", url)
        _redirect_redis(url, prefix, monkeypatch)
        try:
            _delete_keys(url, prefix)
        except Exception as exc:  # pragma: no cover - depends on the machine
            if os.environ.get("CI"):
                raise
            pytest.skip(f"no Redis: {exc}")
    if "<!-- docs-test: no-routing -->" not in text:
        _route_to(emulator, monkeypatch)
    background: list[subprocess.Popen[str]] = []
    loop = asyncio.new_event_loop()
    namespace: dict[str, Any] = {"__name__": "__docs__", "emulator": emulator}
    monkeypatch.chdir(tmp_path)
    printed = ""
    try:
        for lang, code, _hidden, line in blocks(text):
            namespace["__file__"] = f"{page.relative_to(DOCS)}:{line}"
            if lang == "python":
                printed = _run_python(code, namespace, loop)
            elif lang == "output":
                assert printed == code, f"{namespace['__file__']}: the block printed {printed!r}"
            elif lang == "console":
                _run_console(code, tmp_path, monkeypatch, background)
    finally:
        for proc in background:
            proc.terminate()
            proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        if uses_redis:
            _delete_keys(_redis_url(), prefix)
