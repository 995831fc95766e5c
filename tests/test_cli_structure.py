"""The shape of the command line: the logic works without typer, imports point one way, the
shared options are the same in every command, exit statuses are documented once, the emulator
has one command, and no command writes a refresh token to the store itself."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from wxprivacy import MemoryTokenStore
from wxprivacy.cli import app
from wxprivacy.cli._output import ExitStatus
from wxprivacy.emulator import Emulator
from wxprivacy.emulator._faults import FAULT_KINDS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wxprivacy"
TYPER_FREE = ("wxprivacy.audit", "wxprivacy._audit_records", "wxprivacy._audit_file",
              "wxprivacy.guidelines")  # fmt: skip
runner = CliRunner()

# -- the logic needs no cli extra ---------------------------------------------------------------

WITHOUT_THE_EXTRA = textwrap.dedent(
    """
    import asyncio, sys, tempfile
    from pathlib import Path
    for name in ("typer", "rich", "click", "uvicorn"):
        sys.modules[name] = None  # any import of them raises ImportError

    import httpx
    from wxprivacy import ComponentClient
    from wxprivacy.audit import latest_records, run_audit
    from wxprivacy.emulator import Emulator
    from wxprivacy.guidelines import (
        guideline_diff, load_guideline, load_template, read_guideline, run_apply_template,
    )

    GUIDELINE = '[owner_setting]\\ncontact_email = "a@b.c"\\nnotice_method = "弹窗"\\n'

    class Progress:
        total, done = None, 0
        def set_total(self, total): self.total = total
        def advance(self, records=1): self.done += records

    async def main(tmp):
        emu = Emulator(authorizers=12, seed=0)
        async with httpx.AsyncClient(transport=emu.transport()) as http:
            client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
            await client.set_component_verify_ticket(emu.component_verify_ticket)
            progress = Progress()
            summary = await run_audit(client, tmp / "a.jsonl", progress=progress)
            assert summary.total == 12 == progress.total == progress.done, summary
            assert len(latest_records(tmp / "a.jsonl")) == 12
            (tmp / "g.toml").write_text(GUIDELINE, "utf-8")
            guideline = load_guideline(tmp / "g.toml")
            appid = emu.authorizer_appids[0]
            current = await read_guideline(client, appid)
            assert isinstance(guideline_diff(current, guideline), list)
            (tmp / "t.toml").write_text('[purposes]\\nUserInfo = "x"\\n', "utf-8")
            lines = []
            result = await run_apply_template(
                client, load_template(tmp / "t.toml"), echo=lines.append
            )
            assert result.total == 12 and lines, result
            await client.aclose()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp)))
    try:
        import wxprivacy.cli
    except ImportError:
        pass
    else:
        raise AssertionError("typer was not blocked")
    print("ok")
    """
)


def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_audit_and_guidelines_work_with_typer_and_rich_blocked() -> None:
    done = python(WITHOUT_THE_EXTRA)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_python_m_emulator_without_the_extra_says_what_to_install() -> None:
    code = (
        "import runpy, sys; sys.modules['typer'] = None; "
        "runpy.run_module('wxprivacy.emulator', run_name='__main__')"
    )
    done = python(code, "--port", "0")
    assert done.returncode == ExitStatus.USAGE
    assert "pip install 'wxprivacy[cli]'" in done.stderr


# -- imports point one way -----------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_sources() -> dict[str, tuple[bool, str]]:
    """wxprivacy's modules: name -> (is a package's ``__init__``, source)."""
    return {
        module_name(p): (p.name == "__init__.py", p.read_text("utf-8"))
        for p in PACKAGE.rglob("*.py")
    }


def _typing_only(tree: ast.AST) -> set[int]:
    """The nodes only a type checker runs: the body of ``if TYPE_CHECKING:`` and the ``else:``
    of ``if not TYPE_CHECKING:`` (the other branch runs)."""

    def names_type_checking(test: ast.expr) -> bool:
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    skipped: set[int] = set()
    for block in ast.walk(tree):
        if not isinstance(block, ast.If):
            continue
        if names_type_checking(block.test):
            branch = block.body
        elif isinstance(block.test, ast.UnaryOp) and isinstance(block.test.op, ast.Not):
            branch = block.orelse if names_type_checking(block.test.operand) else []
        else:
            branch = []
        skipped |= {id(node) for statement in branch for node in ast.walk(statement)}
    return skipped


def _imported_by_call(node: ast.Call, package: list[str]) -> str | None:
    """The module ``importlib.import_module("...")`` or ``__import__("...")`` names, if a
    constant (a relative name is resolved against the caller's package)."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    named = [k.value for k in node.keywords if k.arg == "name"]
    if called not in {"import_module", "__import__"} or not (node.args or named):
        return None
    first = node.args[0] if node.args else named[0]
    if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
        return None
    name: str = first.value
    if name.startswith("."):
        level = len(name) - len(name.lstrip("."))
        base = package[: len(package) - level + 1]
        name = ".".join(base + ([name.lstrip(".")] if name.lstrip(".") else []))
    return name


def import_graph(
    *, type_time: bool = False, sources: dict[str, tuple[bool, str]] | None = None
) -> dict[str, set[str]]:
    """Every wxprivacy module -> the wxprivacy modules importing it runs (at any depth of its
    code, ``if TYPE_CHECKING:`` branches excepted unless ``type_time``), from the source.

    Importing ``p.q.r`` also runs ``p.q``'s ``__init__``: an edge to every package above an
    imported module, except the packages the importer itself sits in (they are being imported
    already). ``importlib.import_module("...")`` with a constant name counts as an import.
    """
    sources = _package_sources() if sources is None else sources
    graph: dict[str, set[str]] = {}
    for name, (is_package, source) in sources.items():
        tree = ast.parse(source)
        skipped = set() if type_time else _typing_only(tree)
        package = name.split(".") if is_package else name.split(".")[:-1]
        deps: set[str] = set()
        names_from: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                deps.add(origin)
                for alias in node.names:
                    if f"{origin}.{alias.name}" in sources:
                        deps.add(f"{origin}.{alias.name}")
                    elif origin in sources:
                        names_from.add(origin)  # a name its __init__ must have defined by now
            elif isinstance(node, ast.Call):
                called = _imported_by_call(node, package)
                if called:
                    deps.add(called)
        own = {".".join(package[:i]) for i in range(1, len(package) + 1)}
        for dep in list(deps):
            parts = dep.split(".")
            deps |= {".".join(parts[:i]) for i in range(2, len(parts))} - own
        graph[name] = {d for d in deps if d in sources and d != name and d not in own}
        graph[name] |= {d for d in names_from if d != name}
    return graph


@pytest.mark.parametrize(
    ("checks_source", "label"),
    [
        ("from .emulator._payloads import dumps\n", "through the emulator package's __init__"),
        ("import importlib\nimportlib.import_module('wxprivacy.emulator._payloads')\n", "call"),
        ("import importlib\nimportlib.import_module(name='wxprivacy.emulator._payloads')\n", "kw"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n"
            "    from .emulator import _payloads\n",
            "else of TYPE_CHECKING",
        ),
        (
            "from typing import TYPE_CHECKING\nif not TYPE_CHECKING:\n"
            "    from .emulator import _payloads\n",
            "if not TYPE_CHECKING",
        ),
    ],
)
def test_the_graph_sees_every_way_a_module_runs_another(checks_source: str, label: str) -> None:
    """Found by the trial of issue 12: each of these cycles passed the run-time check."""
    sources = {
        "wxprivacy": (True, "from . import _checks\n"),
        "wxprivacy._checks": (False, checks_source),
        "wxprivacy.emulator": (True, "from . import _payloads\nfrom .. import _checks\n"),
        "wxprivacy.emulator._payloads": (False, "x = 1\n"),
    }
    found = cycles(import_graph(sources=sources))
    assert found == [{"wxprivacy._checks", "wxprivacy.emulator"}], label


def test_a_type_checking_import_is_no_run_time_edge() -> None:
    sources = {
        "wxprivacy": (True, ""),
        "wxprivacy.a": (
            False,
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n",
        ),
        "wxprivacy.b": (False, "from . import a\n"),
    }
    assert cycles(import_graph(sources=sources)) == []
    assert cycles(import_graph(sources=sources, type_time=True)) == [{"wxprivacy.a", "wxprivacy.b"}]


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in sorted(graph[node]):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = set()
            while True:
                dep = stack.pop()
                component.add(dep)
                if dep == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cli_side(name: str) -> bool:
    return name == "wxprivacy.cli" or name.startswith("wxprivacy.cli.") or name in TYPER_FREE


def test_the_cycle_finder_finds_the_cycle_cli_had() -> None:
    before = {
        "wxprivacy.cli": {"wxprivacy._cli_manage"},
        "wxprivacy._cli_manage": {"wxprivacy.cli"},
    }
    assert cycles(before) == [{"wxprivacy.cli", "wxprivacy._cli_manage"}]


def test_no_import_cycle_through_the_command_line_modules() -> None:
    graph = import_graph()
    assert "wxprivacy.cli._options" in graph["wxprivacy.cli._get"]  # the walk sees imports
    assert [c for c in cycles(graph) if any(cli_side(m) for m in c)] == []


@pytest.mark.parametrize("type_time", [False, True], ids=["run time", "type time"])
def test_no_import_cycle_anywhere_in_the_package(type_time: bool) -> None:
    """Issue 12, done when: no cycle inside wxprivacy/, at run time or type time."""
    graph = import_graph(type_time=type_time)
    assert len(graph) > 80
    assert cycles(graph) == []
    assert cycles({"a": {"b"}, "b": {"a"}}) == [{"a", "b"}]  # the finder finds one


ENTRY_POINTS = {"wxprivacy.__main__", "wxprivacy._cli_entry", "wxprivacy.emulator.__main__"}
SHARED_MODULES = {"wxprivacy.cli._options", "wxprivacy.cli._output", "wxprivacy.cli._report"}


def test_imports_point_one_way() -> None:
    """Entry points -> wxprivacy.cli -> the commands -> the shared modules -> the library."""
    graph = import_graph()
    inside = {m for m in graph if m.startswith("wxprivacy.cli.")}
    commands = inside - SHARED_MODULES
    assert commands == {
        f"wxprivacy.cli._{n}" for n in ("audit", "doctor", "emulator", "get", "guidelines", "html")
    }
    assert graph["wxprivacy.cli"] >= commands
    for name in commands:  # never the package that registers them, nor one another
        assert not graph[name] & (commands | {"wxprivacy.cli"}), name
    for name in SHARED_MODULES:
        assert not graph[name] & (commands | {"wxprivacy.cli"}), name
    for name, deps in graph.items():
        if not cli_side(name) and name not in ENTRY_POINTS:
            assert not any(cli_side(d) and d not in TYPER_FREE for d in deps), name


@pytest.mark.parametrize("module", TYPER_FREE)
def test_typer_free_modules_never_import_typer_or_rich(module: str) -> None:
    path = PACKAGE / (module.removeprefix("wxprivacy.").replace(".", "/") + ".py")
    tree = ast.parse(path.read_text("utf-8"))
    nodes = list(ast.walk(tree))
    imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)}
    assert not {i.split(".")[0] for i in imported} & {"typer", "rich", "click", "uvicorn"}
    assert not any(i == "cli" or i.startswith("cli.") for i in imported)


# -- the shared options --------------------------------------------------------------------------

SHARED = {  # parameter name: (flags, environment variable)
    "emulator": (["--emulator"], None),
    "seed": (["--seed"], None),
    "component_appid": (["--component-appid"], "WXPRIVACY_COMPONENT_APPID"),
    "component_appsecret": (["--component-appsecret"], "WXPRIVACY_COMPONENT_APPSECRET"),
    "base_url": (["--base-url"], "WXPRIVACY_BASE_URL"),
    "redis_url": (["--redis-url"], "WXPRIVACY_REDIS_URL"),
    "redis_prefix": (["--redis-prefix"], "WXPRIVACY_REDIS_PREFIX"),
    "ticket": (["--ticket"], "WXPRIVACY_COMPONENT_VERIFY_TICKET"),
}
CLIENT_COMMANDS = ["apply-template", "audit", "doctor", "get", "set"]
GROUP = typer.main.get_command(app)
CONTEXT = GROUP.context_class(GROUP, info_name="wxprivacy")  # typer may vendor click
COMMANDS = GROUP.list_commands(CONTEXT)  # type: ignore[attr-defined]


def options(name: str) -> dict[str, Any]:
    command = GROUP.get_command(CONTEXT, name)  # type: ignore[attr-defined]
    return {param.name: param for param in command.params if param.name}


def described(param: Any, command: str) -> tuple[Any, ...]:
    cmd = GROUP.get_command(CONTEXT, command)  # type: ignore[attr-defined]
    ctx = cmd.context_class(cmd, info_name=command, parent=CONTEXT)
    return (param.opts, param.envvar, param.default, param.get_help_record(ctx))


def test_every_command_is_covered() -> None:
    assert sorted(COMMANDS) == [
        "apply-template",
        "audit",
        "demo",
        "doctor",
        "emulator",
        "get",
        "report",
        "set",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_shared_options_are_the_same_in_every_command(command: str) -> None:
    params = options(command)
    if command not in CLIENT_COMMANDS:
        # demo and the emulator make no client: they read none of its environment variables,
        # so a platform's real appsecret never becomes the emulator's (GET /_emulator/state).
        envvars = {env for _, env in SHARED.values() if env}
        assert not {p.envvar for p in params.values()} & envvars
        return
    reference = options("audit")
    for name, (flags, envvar) in SHARED.items():
        assert name in params, (command, name)
        assert params[name].opts == flags and params[name].envvar == envvar, (command, name)
        shown = described(params[name], command)
        assert shown == described(reference[name], "audit") and shown[3][1], (command, name)
    names = list(params)
    assert names[-len(SHARED) :] == list(SHARED)  # after the command's own, in this order


# -- exit statuses are documented once -----------------------------------------------------------


def test_the_exit_status_table_is_the_code() -> None:
    page = (ROOT / "docs" / "cli.md").read_text("utf-8")
    section = page.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    documented = [int(m) for m in re.findall(r"^\| (\d+) \|", section, re.M)]
    assert documented == [status.value for status in ExitStatus]
    assert page.count("## Exit statuses") == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_documents_exit_statuses_of_its_own(command: str) -> None:
    help_text = GROUP.get_command(CONTEXT, command).help or ""  # type: ignore[attr-defined]
    assert not re.search(r"exit status|status [0-9]", help_text, re.I), help_text


# -- one emulator command ------------------------------------------------------------------------


def test_the_emulator_command_has_a_flag_per_fault_kind() -> None:
    flags = {opt for param in options("emulator").values() for opt in param.opts}
    assert {"--fault-" + kind.replace("_", "-") for kind in FAULT_KINDS} <= flags
    assert {"--fault-path", "--timeout-delay", "--token-ttl", "--grace", "--server"} <= flags
    assert {"--rotate-refresh-tokens", "--component-appid", "--log-level", "--latency"} <= flags


def test_python_m_emulator_is_the_same_command() -> None:
    alias = python("import runpy; runpy.run_module('wxprivacy.emulator', run_name='__main__')",
                   "--help")  # fmt: skip
    assert alias.returncode == 0, alias.stderr
    usage = runner.invoke(app, ["emulator", "--help"], env={"COLUMNS": "200"}).output
    flags = set(re.findall(r"--[a-z0-9-]+", usage))
    assert flags == set(re.findall(r"--[a-z0-9-]+", alias.stdout))
    assert "python -m wxprivacy.emulator" in alias.stdout


# -- listed refresh tokens: one client method ----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--emulator", "30", "--no-progress", "--out", "{tmp}/a.jsonl"],
        ["get", "{appid}", "--emulator", "30"],
        ["set", "{appid}", "--from", "{tmp}/g.toml", "--emulator", "30"],
        ["apply-template", "{tmp}/t.toml", "--emulator", "30", "--yes"],
    ],
    ids=["audit", "get", "set", "apply-template"],
)
def test_commands_store_listed_refresh_tokens_only_through_the_client_method(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import inspect

    (tmp_path / "g.toml").write_text(
        '[owner_setting]\ncontact_email = "a@b.c"\nnotice_method = "弹窗"\n', "utf-8"
    )
    (tmp_path / "t.toml").write_text('[purposes]\nUserInfo = "x"\n', "utf-8")
    emu = Emulator(authorizers=30, seed=0)
    appid = next(a for a in reversed(emu.authorizer_appids) if emu.profile(a) != "no_permission")
    writers: list[str] = []
    real = MemoryTokenStore.set_refresh_token

    async def recording(self: MemoryTokenStore, *args: Any, **kwargs: Any) -> bool:
        writers.append(inspect.stack()[1].function)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(MemoryTokenStore, "set_refresh_token", recording)
    args = [a.format(tmp=tmp_path, appid=appid) for a in argv]
    result = runner.invoke(app, args)
    assert result.exit_code in (ExitStatus.OK, ExitStatus.FAILED), result.output
    assert writers and set(writers) == {"store_listed_refresh_tokens"}


@pytest.mark.parametrize(
    "command", [[], ["audit"], ["get"], ["set"], ["apply-template"], ["emulator"], ["demo"]]
)
def test_help_shows_no_type_placeholders_beside_flags(command: list[str]) -> None:
    """Issue 13 §3: help reads like the docs (typer 0.29 printed "<bool>" beside every flag)."""
    from typer.testing import CliRunner

    from wxprivacy.cli import app

    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output


def test_a_name_taken_from_the_own_package_needs_its_init() -> None:
    """Re-check of the issue-12 trial: ``from . import ComponentClient`` in ``_checks`` closes
    wxprivacy → _client → _base → _checks → wxprivacy; a submodule import does not."""
    sources = {
        "wxprivacy": (True, "from . import a\nClient = 1\n"),
        "wxprivacy.a": (False, "from . import Client\n"),
        "wxprivacy.b": (False, "from . import a\n"),
    }
    assert cycles(import_graph(sources=sources)) == [{"wxprivacy", "wxprivacy.a"}]
