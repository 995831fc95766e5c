"""The running event loop and task, without a system call per lookup.

``asyncio.get_running_loop()`` asks the process id on every call (``getpid()``, a system call, so
that a child made by ``fork`` never uses its parent's loop), and ``asyncio.current_task()`` does so
through it; the SDK asks several times per call. :func:`running_loop` answers with the loop it
last found when that loop says it runs in this thread: asyncio's loops record the thread running
them (``_thread_id``) for as long as they run, and a thread runs one loop at a time. Otherwise
(another loop, a loop that does not record its thread, the first call) it asks asyncio, and so it
does in a child after ``fork``, where the remembered loop is forgotten.

Not covered: a loop run inside a callback of another loop in the same thread (``nest_asyncio``
patches asyncio to allow it); both then say they run in this thread, and the outer one may be
given. asyncio itself refuses to run two loops in one thread.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from threading import get_ident
from typing import Any

__all__ = ["current_task", "running_loop"]

_seen: list[Callable[[], asyncio.AbstractEventLoop | None]] = [lambda: None]
"""A weak reference to the loop :func:`running_loop` found last (one slot: a list, so no
``global`` is needed; weak, so a closed loop is not kept alive by it)."""


def running_loop() -> asyncio.AbstractEventLoop:
    """The event loop running in this thread, as ``asyncio.get_running_loop()``.

    Raises:
        RuntimeError: no event loop is running in this thread.
    """
    loop = _seen[0]()
    if loop is not None and getattr(loop, "_thread_id", None) == get_ident():
        return loop
    loop = asyncio.get_running_loop()
    _seen[0] = weakref.ref(loop)
    return loop


def current_task() -> asyncio.Task[Any] | None:
    """The task running in this thread's event loop, as ``asyncio.current_task()``.

    Raises:
        RuntimeError: no event loop is running in this thread.
    """
    return asyncio.current_task(running_loop())


def _forget() -> None:
    _seen[0] = lambda: None


os.register_at_fork(after_in_child=_forget)
