"""wxprivacy._loops: the running loop and task, always asyncio's answer, without its getpid()."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import threading
import weakref
from typing import Any

import pytest

from wxprivacy import _loops
from wxprivacy._loops import current_task, running_loop


def test_each_run_sees_its_own_loop_and_task() -> None:
    seen = []

    async def task_of_its_own() -> Any:
        return current_task()

    async def main() -> None:
        assert running_loop() is asyncio.get_running_loop()
        assert current_task() is asyncio.current_task()
        inner = asyncio.ensure_future(task_of_its_own())
        assert await inner is inner
        seen.append(running_loop())

    for _ in range(5):
        asyncio.run(main())
    assert len(set(seen)) == 5  # asyncio.run made five loops; each run saw its own


def test_outside_a_loop_it_raises_as_asyncio_does() -> None:
    asyncio.run(asyncio.sleep(0))  # a loop was seen, and has stopped
    with pytest.raises(RuntimeError):
        running_loop()
    with pytest.raises(RuntimeError):
        current_task()


@pytest.mark.parametrize("seed", range(5))
def test_threads_running_loops_at_once_each_see_their_own(seed: int) -> None:
    """Four threads, each running its loop, ask in interleavings varied by the seed: the one
    remembered loop is another thread's most of the time, and never given to the wrong one."""
    rng = random.Random(seed)
    delays = [[rng.choice([0.0, 0.0, 0.0005, 0.001]) for _ in range(60)] for _ in range(4)]
    wrong: list[str] = []

    async def ask(index: int) -> None:
        own = asyncio.get_running_loop()
        for delay in delays[index]:
            if running_loop() is not own or current_task() is not asyncio.current_task():
                wrong.append(f"thread {index}")
            await asyncio.sleep(delay)

    threads = [threading.Thread(target=asyncio.run, args=(ask(i),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_loop_that_does_not_record_its_thread_is_asked_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Silent:
        pass

    async def main() -> Any:
        silent = Silent()
        monkeypatch.setattr(_loops, "_seen", [lambda: silent])
        return running_loop()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()) is loop
    finally:
        loop.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_inside_a_running_loop_never_uses_the_parents() -> None:
    """asyncio refuses the parent's loop in a child (its getpid() check); so does running_loop,
    and asyncio.run in the child gets the child's own loop."""

    async def child_checks() -> int:
        parent = running_loop()
        pid = os.fork()
        if pid:
            return pid
        code = 0
        try:
            try:
                running_loop()
                code = 1  # the parent's loop was given to the child
            except RuntimeError:
                pass

            async def own() -> bool:
                return running_loop() is asyncio.get_running_loop() is not parent

            if not asyncio.run(own()):
                code = 2
        finally:
            os._exit(code)

    pid = asyncio.run(child_checks())
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_closed_loop_is_not_kept_alive() -> None:
    async def ask() -> Any:
        return running_loop()

    loop = asyncio.new_event_loop()
    assert loop.run_until_complete(ask()) is loop  # now the remembered one
    loop.close()
    ref = weakref.ref(loop)
    del loop
    gc.collect()
    assert ref() is None
