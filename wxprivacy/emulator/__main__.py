"""``python -m wxprivacy.emulator``: the ``wxprivacy emulator`` command under another name.

The same code and the same flags (``wxprivacy emulator --help``); it needs the ``cli`` extra.
Prints one line ``listening on http://HOST:PORT`` once the port accepts connections, then serves
until SIGTERM/SIGINT (exit status 0). Control endpoints: ``GET /_emulator/calls``,
``POST /_emulator/reset_calls``, ``GET /_emulator/state``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

PROG: str = "python -m wxprivacy.emulator"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wxprivacy emulator`` with ``argv`` (default: the command line); return its status."""
    try:
        from wxprivacy.cli import run_command
    except ModuleNotFoundError as exc:
        print(f"{PROG} needs the cli extra ({exc}): pip install 'wxprivacy[cli]'", file=sys.stderr)
        return 2
    return run_command("emulator", argv, prog_name=PROG)


if __name__ == "__main__":
    sys.exit(main())
