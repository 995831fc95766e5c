"""The ``emulator`` command (also ``python -m wxprivacy.emulator``): serve it over HTTP."""

from __future__ import annotations

import inspect
import math
import signal
from types import FrameType
from typing import Annotated, Any, Final, Literal

import typer

from ..emulator import Emulator, Faults, serve
from ..emulator._faults import FAULT_KINDS
from ._options import SeedOpt, at_most_emulated, graft
from ._output import ExitStatus, err_console, fail

__all__ = ["emulator"]

_EMULATOR: Final = inspect.signature(Emulator).parameters
_FAULTS: Final = inspect.signature(Faults).parameters


def _fault_parameter(kind: str) -> inspect.Parameter:
    flag = "--fault-" + kind.replace("_", "-")
    option = typer.Option(
        flag,
        min=0.0,
        max=1.0,
        metavar="P",
        help=f"Probability (0..1) that an eligible request fails with a {kind} fault.",
    )
    return inspect.Parameter(
        f"fault_{kind}",
        inspect.Parameter.KEYWORD_ONLY,
        default=0.0,
        annotation=Annotated[float, option],
    )


def _fault_odds(values: dict[str, Any]) -> dict[str, float]:
    return {name.removeprefix("fault_"): float(odds) for name, odds in values.items()}


def _a_port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise typer.BadParameter(f"a TCP port is from 0 to 65535, got {value}")
    return value


def _not_negative(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"must be a finite number of seconds >= 0, got {value}")
    return value


def _positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"must be a finite number of seconds > 0, got {value}")
    return value


@graft("fault_odds", [_fault_parameter(kind) for kind in FAULT_KINDS], _fault_odds)
def emulator(
    port: Annotated[
        int, typer.Option(callback=_a_port, help="TCP port (0 picks a free one).")
    ] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    authorizers: Annotated[
        int, typer.Option(min=0, callback=at_most_emulated, help="Synthetic authorizers to seed.")
    ] = 100,
    seed: SeedOpt = 0,
    component_appid: Annotated[
        str,
        typer.Option(
            "--component-appid", help="The emulated platform's appid (never from the environment)."
        ),
    ] = _EMULATOR["component_appid"].default,
    component_appsecret: Annotated[
        str,
        typer.Option(
            "--component-appsecret",
            help="The emulated platform's appsecret (GET /_emulator/state shows it).",
        ),
    ] = _EMULATOR["component_appsecret"].default,
    token_ttl: Annotated[
        float,
        typer.Option(callback=_positive, help="Seconds the access tokens it hands out are valid."),
    ] = _EMULATOR["token_ttl"].default,
    grace: Annotated[
        float,
        typer.Option(
            callback=_not_negative, help="Seconds a superseded access token keeps working."
        ),
    ] = _EMULATOR["grace"].default,
    rotate_refresh_tokens: Annotated[
        bool,
        typer.Option(
            "--rotate-refresh-tokens",
            help="Hand out a new refresh token with every authorizer token.",
        ),
    ] = False,
    latency: Annotated[
        float, typer.Option(callback=_not_negative, help="Seconds added to every answer.")
    ] = 0.0,
    fault_path: Annotated[
        list[str] | None,
        typer.Option(
            "--fault-path",
            metavar="PATH",
            help="Endpoint path eligible for faults (repeatable; default: all but the token "
            "endpoints).",
        ),
    ] = None,
    timeout_delay: Annotated[
        float,
        typer.Option(callback=_not_negative, help="Seconds a timeout fault holds the answer back."),
    ] = _FAULTS["timeout_delay"].default,
    server: Annotated[
        Literal["asyncio", "uvicorn"],
        typer.Option(
            help="uvicorn (with httptools when installed); 'asyncio' is another name for it."
        ),
    ] = "uvicorn",
    log_level: Annotated[
        str, typer.Option(help="uvicorn's log level (with --server uvicorn).")
    ] = "warning",
    *,
    fault_odds: dict[str, float],
) -> None:
    """Serve the WeChat emulator over HTTP for other processes and languages.

    Prints `listening on http://HOST:PORT` on stdout once it accepts connections, then serves
    until SIGTERM or SIGINT. GET /_emulator/state gives the credentials, the ticket and the
    refresh tokens; GET /_emulator/calls counts requests (POST /_emulator/reset_calls).
    `python -m wxprivacy.emulator` is this command.
    """
    faults = None
    if any(fault_odds.values()):
        try:
            faults = Faults(**fault_odds, paths=fault_path, timeout_delay=timeout_delay)
        except ValueError as exc:
            fail(str(exc), ExitStatus.USAGE)
    emu = Emulator(
        component_appid,
        component_appsecret,
        authorizers=authorizers,
        seed=seed,
        token_ttl=token_ttl,
        grace=grace,
        rotate_refresh_tokens=rotate_refresh_tokens,
        faults=faults,
        latency=latency,
    )
    err_console.print(
        f"emulating component {emu.component_appid} with {authorizers} authorizers; "
        "GET /_emulator/state for the ticket and refresh tokens",
        markup=False,
        soft_wrap=True,
    )

    def announce(url: str) -> None:
        print(f"listening on {url}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        # uvicorn shuts down gracefully, then raises the signal it caught again: exit cleanly.
        raise SystemExit(ExitStatus.OK)

    handlers = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        serve(emu, host, port, log_level=log_level, on_ready=announce, server=server)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", ExitStatus.FATAL)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
