"""Generate the parts of the documentation that must not drift from the code.

Used as an mkdocs hook (``hooks:`` in ``mkdocs.yml``): a page that contains a marker line such as
``<!-- generated: errcodes -->`` gets it replaced by Markdown built from the SDK itself:

- ``errcodes``: every errcode in the errcode table (``wxprivacy._errcodes``) with its exception
  class, what the client does about it, whether the error is ``retryable``, what it means and
  what to do;
- ``local-errors``: the exceptions raised without an errcode (transport, store, format, ...);
- ``cli``: every command of ``wxprivacy.cli.app`` with its usage, help text and options.

It also strips the Sphinx roles (``:class:``, ``:meth:``) that some docstrings use from the
rendered API reference, where mkdocstrings would show them as text.

The functions are plain and importable, so the tests check the output against the code too.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Final

MARKER: Final = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
SPHINX_ROLE: Final = re.compile(r":(?:class|meth|func|attr|data|exc|mod|obj):\s*(?=<code>)")
"""A Sphinx role left in front of an inline literal by a reST-flavoured docstring."""


def _cell(text: str) -> str:
    """Escape a string for a Markdown table cell."""
    return text.replace("``", "`").replace("|", "\\|").replace("\n", " ")


def _ref(cls: type) -> str:
    """An autorefs link to the class's entry in the API reference."""
    return f"[`{cls.__name__}`][wxprivacy.{cls.__name__}]"


def errcodes_table() -> str:
    """Markdown table of every errcode the SDK knows, sorted by errcode."""
    from wxprivacy._errors import ERRCODES

    lines = [
        "| errcode | exception | retried by the client | `retryable` | meaning | what to do |",
        "|--:|---|---|---|---|---|",
    ]
    for code in sorted(ERRCODES):
        info = ERRCODES[code]
        retryable = "yes" if info.rule.retryable else "no"
        lines.append(
            f"| `{code}` | {_ref(info.exception)} | {_cell(info.rule.client)} | {retryable} "
            f"| {_cell(info.meaning)} | {_cell(info.action)} |"
        )
    lines.append("")
    lines.append(
        "Any other non-zero errcode raises [`WeChatAPIError`][wxprivacy.WeChatAPIError] itself "
        "and is not retried."
    )
    return "\n".join(lines)


def local_errors_table() -> str:
    """Markdown table of the public exceptions that carry no WeChat errcode."""
    import wxprivacy
    from wxprivacy._errors import WeChatAPIError, WxPrivacyError

    lines = ["| exception | retryable | raised when |", "|---|---|---|"]
    for name in wxprivacy.__all__:
        obj = getattr(wxprivacy, name)
        if not (inspect.isclass(obj) and issubclass(obj, WxPrivacyError)):
            continue
        if issubclass(obj, WeChatAPIError):
            continue
        summary = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
        retryable = "yes" if obj.retryable else "no"
        lines.append(f"| {_ref(obj)} | {retryable} | {_cell(summary)} |")
    return "\n".join(lines)


def _command_markdown(name: str, command: Any, parent_ctx: Any) -> list[str]:
    ctx = command.context_class(command, info_name=name, parent=parent_ctx)
    out = [f"## `wxprivacy {name}`", ""]
    help_text = inspect.cleandoc(command.help or "")
    if help_text:
        out += [help_text, ""]
    out += ["```text", command.get_usage(ctx), "```", ""]
    rows = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        opts, text = record
        rows.append(f"| `{_cell(opts)}` | {_cell(text)} |")
    if rows:
        out += ["| argument / option | description |", "|---|---|", *rows, ""]
    return out


def cli_reference() -> str:
    """Markdown reference of every ``wxprivacy`` command, from the typer app itself."""
    import typer.main

    from wxprivacy.cli import app

    group = typer.main.get_command(app)
    ctx = group.context_class(group, info_name="wxprivacy")
    lines = [inspect.cleandoc(group.help or ""), ""]
    lines += ["```text", group.get_usage(ctx), "```", ""]
    for name in group.list_commands(ctx):
        lines += _command_markdown(name, group.get_command(ctx, name), ctx)
    return "\n".join(lines).rstrip() + "\n"


GENERATORS: Final = {
    "errcodes": errcodes_table,
    "local-errors": local_errors_table,
    "cli": cli_reference,
}


def render(markdown: str) -> str:
    """Replace every marker line in ``markdown`` with its generated Markdown.

    Raises:
        KeyError: a marker names no generator.
    """
    return MARKER.sub(lambda match: GENERATORS[match.group(1)](), markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs hook: fill in the generated sections of a page."""
    return render(markdown)


def on_page_content(html: str, **_: Any) -> str:
    """mkdocs hook: drop Sphinx roles (``:class:``) the docstrings put before inline code."""
    return SPHINX_ROLE.sub("", html)
