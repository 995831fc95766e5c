"""The generated reference pages come from the code: every errcode and every command is there."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from scripts import docsgen
from wxprivacy._errors import ERRCODES
from wxprivacy.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_errcode_has_a_row_with_its_exception() -> None:
    rows = {
        line.split("|")[1].strip(): line
        for line in docsgen.errcodes_table().splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == {f"`{code}`" for code in ERRCODES}
    for code, info in ERRCODES.items():
        row = rows[f"`{code}`"]
        assert f"[wxprivacy.{info.exception.__name__}]" in row
        assert f"| {docsgen._cell(info.rule.client)} |" in row


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    text = docsgen.cli_reference()
    group = typer.main.get_command(app)
    ctx = group.context_class(group, info_name="wxprivacy")
    for name in group.list_commands(ctx):
        assert f"## `wxprivacy {name}`" in text
        command = group.get_command(ctx, name)
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in text, (name, opt)


def test_markers_are_replaced_and_unknown_markers_fail() -> None:
    page = (DOCS / "errors.md").read_text("utf-8")
    rendered = docsgen.render(page)
    assert "<!-- generated:" not in rendered
    assert "| `61023` |" in rendered
    with pytest.raises(KeyError):
        docsgen.render("<!-- generated: nothing-by-that-name -->")


def test_sphinx_roles_are_dropped_from_rendered_html() -> None:
    html = "a :class:<code>MemoryTokenStore</code> and :meth: <code>aclose</code>; ratio 1:2"
    assert docsgen.on_page_content(html) == (
        "a <code>MemoryTokenStore</code> and <code>aclose</code>; ratio 1:2"
    )
