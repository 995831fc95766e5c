"""The ``emulator`` command: serve the WeChat emulator over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from ..emulator import Emulator, serve
from ._options import SeedOpt
from ._output import err_console

__all__ = ["emulator"]


def emulator(
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    authorizers: Annotated[int, typer.Option(min=0, help="Synthetic authorizers to seed.")] = 100,
    seed: SeedOpt = 0,
    latency: Annotated[float, typer.Option(min=0, help="Seconds added to every answer.")] = 0.0,
) -> None:
    """Serve the WeChat emulator over HTTP for other processes and languages.

    Prints ``listening on http://HOST:PORT`` once it accepts connections. For fault injection
    use ``python -m wxprivacy.emulator --help`` (the --fault-* options).
    """
    emu = Emulator(authorizers=authorizers, seed=seed, latency=latency)
    err_console.print(
        f"emulating component {emu.component_appid} with {authorizers} authorizers; "
        f"GET /_emulator/state for the ticket and refresh tokens"
    )
    serve(emu, host=host, port=port, on_ready=lambda url: err_console.print(f"listening on {url}"))
