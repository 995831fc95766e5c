"""``python -m wxprivacy.emulator``: serve a seeded emulator over HTTP.

Prints one line ``listening on http://HOST:PORT`` once the port accepts connections, then serves
until SIGTERM/SIGINT (graceful shutdown, exit status 0). Control endpoints:
``GET /_emulator/calls``, ``POST /_emulator/reset_calls``, ``GET /_emulator/state``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from ._emulator import Emulator
from ._faults import FAULT_KINDS, Faults
from ._serve import serve

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m wxprivacy.emulator``."""
    parser = argparse.ArgumentParser(
        prog="python -m wxprivacy.emulator", description="Serve a WeChat component-API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--authorizers", type=int, default=0, help="synthetic authorizers to seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--component-appid", default="wx0000000000000000")
    parser.add_argument("--component-appsecret", default="emulator-secret")
    parser.add_argument("--token-ttl", type=float, default=7200.0, help="seconds")
    parser.add_argument("--grace", type=float, default=300.0, help="seconds")
    parser.add_argument("--rotate-refresh-tokens", action="store_true")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per response")
    for kind in FAULT_KINDS:
        flag = "--fault-" + kind.replace("_", "-")
        parser.add_argument(flag, type=float, default=0.0, metavar="P", help="probability 0..1")
    parser.add_argument(
        "--fault-path",
        action="append",
        default=None,
        metavar="PATH",
        help="endpoint path eligible for faults (repeatable; default: all but the token endpoints)",
    )
    parser.add_argument("--timeout-delay", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--server",
        choices=("asyncio", "uvicorn"),
        default="asyncio",
        help="the built-in asyncio HTTP/1.1 server (no dependencies) or uvicorn",
    )
    parser.add_argument("--log-level", default="warning")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, build the emulator and serve it; returns the exit status."""
    args = build_parser().parse_args(argv)
    probabilities = {kind: getattr(args, "fault_" + kind) for kind in FAULT_KINDS}
    faults = None
    if any(probabilities.values()):
        try:
            faults = Faults(
                **probabilities, paths=args.fault_path, timeout_delay=args.timeout_delay
            )
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    emulator = Emulator(
        args.component_appid,
        args.component_appsecret,
        authorizers=args.authorizers,
        seed=args.seed,
        token_ttl=args.token_ttl,
        grace=args.grace,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        faults=faults,
        latency=args.latency,
    )

    def announce(url: str) -> None:
        print(f"listening on {url}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        # uvicorn shuts down gracefully, then re-raises the signal it caught: exit cleanly.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve(
        emulator,
        args.host,
        args.port,
        log_level=args.log_level,
        on_ready=announce,
        server=args.server,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
