"""The ``wxprivacy`` command line (the ``cli`` extra): audit, get, set, apply-template, doctor,
report, emulator.

Configuration comes from flags or the environment: ``WXPRIVACY_COMPONENT_APPID``,
``WXPRIVACY_COMPONENT_APPSECRET``, ``WXPRIVACY_BASE_URL``, ``WXPRIVACY_REDIS_URL``,
``WXPRIVACY_REDIS_PREFIX``, ``WXPRIVACY_COMPONENT_VERIFY_TICKET``. The verify ticket is read from
the token store (the Redis your callback handler writes to), unless given explicitly.

The package's imports point one way: this module registers the commands of ``_audit``,
``_get``, ``_guidelines``, ``_doctor``, ``_html`` and ``_emulator``, which share ``_options``
(the options, written once), ``_output`` (consoles and exit statuses) and ``_report`` (the
summary and the HTML report); none of them imports this module. The logic behind the commands
needs no typer: :mod:`wxprivacy.audit`, :mod:`wxprivacy.guidelines`, :mod:`wxprivacy.doctor`
and :mod:`wxprivacy.report`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
import typer.core
import typer.main

from ._audit import audit, demo
from ._doctor import doctor
from ._emulator import emulator
from ._get import get
from ._guidelines import apply_template, set_guideline
from ._html import report

__all__ = ["app", "main", "run_command"]

app = typer.Typer(
    name="wxprivacy",
    help="Audit and manage WeChat Mini Program privacy guidelines as a third-party platform.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # a docstring paragraph is one paragraph, wrapped to the terminal
    pretty_exceptions_show_locals=False,  # tracebacks must never print the appsecret or tokens
)


def _print_version(value: bool) -> None:
    if value:
        try:
            installed = version("wxprivacy")
        except PackageNotFoundError:  # run from a source tree that was never installed
            installed = "(not installed)"
        typer.echo(f"wxprivacy {installed}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Audit and manage WeChat Mini Program privacy guidelines as a third-party platform."""


app.command("audit")(audit)
app.command("get")(get)
app.command("set")(set_guideline)
app.command("apply-template")(apply_template)
app.command("emulator")(emulator)
app.command("demo")(demo)
app.command("doctor")(doctor)
app.command("report")(report)


def main() -> None:
    """Entry point of the ``wxprivacy`` script."""
    app()


def run_command(name: str, argv: Sequence[str] | None = None, *, prog_name: str) -> int:
    """Run the command ``name`` on its own, as the program ``prog_name``; return its status.

    ``python -m wxprivacy.emulator ARGS`` is ``run_command("emulator", ARGS, ...)``.
    """
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        command.commands[name].main(args=args, prog_name=prog_name)
    except SystemExit as exc:
        code = exc.code
        return int(code) if isinstance(code, int) else (0 if code is None else 1)
    return 0
