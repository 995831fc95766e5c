"""Stop ``wxprivacy audit`` at its n-th file operation: by an exception, or by SIGKILL.

Replaces the ``os`` module seen by :mod:`wxprivacy._audit_file` with a stand-in that counts
the calls that change files (open, write, truncate, fsync, chmod, replace). Used in-process by
the tests, and in a child process (``python -c``) to kill a real run with no cleanup at all.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any, Final

from wxprivacy import _audit_file

FILE_OPS: Final = frozenset({"open", "write", "truncate", "fsync", "chmod", "replace"})


class Stopped(Exception):
    """Raised in place of the file operation a test stops a run at."""


class CountingOs:
    """Stands in for ``os``: counts :data:`FILE_OPS` and stops at number ``at`` (1-based).

    ``when`` is ``"before"`` (the operation is not done) or ``"after"`` (done, then stopped);
    ``stop`` is what stopping does: raise :class:`Stopped` by default.
    """

    def __init__(
        self,
        at: int | None = None,
        *,
        when: str = "before",
        stop: Callable[[str], None] | None = None,
    ) -> None:
        self.at = at
        self.when = when
        self.count = 0
        self.ops: list[str] = []
        self._stop = stop or self._raise

    @staticmethod
    def _raise(name: str) -> None:
        raise Stopped(name)

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if name not in FILE_OPS:
            return real

        def op(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            self.ops.append(name)
            if self.count == self.at and self.when == "before":
                self._stop(name)
            result = real(*args, **kwargs)
            if self.count == self.at and self.when == "after":
                self._stop(name)
            return result

        return op


def sigkill(_name: str) -> None:
    """Die at once, the way a killed process does: no ``finally``, no cleanup."""
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    """``python -c`` entry: ``AT WHEN -- wxprivacy arguments...``; SIGKILL at operation AT."""
    at, when, _, *argv = sys.argv[1:]
    _audit_file.os = CountingOs(int(at), when=when, stop=sigkill)  # type: ignore[assignment]
    from wxprivacy.cli import main as cli_main

    sys.argv = ["wxprivacy", *argv]
    cli_main()
