"""The ``wxprivacy`` script's entry point: one line naming the ``cli`` extra when it is missing,
instead of a traceback on ``import typer``."""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["main"]

_NEEDS = ("typer", "rich")


def main() -> None:
    """Run the command line (:func:`wxprivacy.cli.main`), or say which extra to install.

    Raises:
        SystemExit: status 1 when the ``cli`` extra is not installed.
    """
    missing = [name for name in _NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"wxprivacy: the command line needs the cli extra ({', '.join(missing)} not "
            "installed): pip install 'wxprivacy[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1)
    from .cli import main as cli_main

    cli_main()
