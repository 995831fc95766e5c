"""Profile one SDK batch (pyinstrument) and name what the SDK's own code costs per call.

Run from the repository root (``nox -s bench`` runs it)::

    python benchmarks/bench_profile.py [--n 3000] [--concurrency 4] [--transport aiohttp]

Every sample is charged to the innermost frame of wxprivacy code on its stack (time spent in
libraries the SDK calls, such as tenacity or cattrs, counts for the SDK function that called
them); samples with no wxprivacy frame are the HTTP stack and the event loop. The table shows
microseconds per call for the top SDK functions, the split into HTTP stack, SDK code and event
loop (the headline figure of issue 10: it does not depend on the server), then by library.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from typing import Any

from _common import emulator_process, emulator_server, emulator_state
from bench_throughput import Fleet
from pyinstrument import Profiler

PACKAGE = "/wxprivacy/"
HTTP_STACK = {
    "httpx", "httpcore", "h11", "aiohttp", "httpx_aiohttp", "yarl", "multidict", "propcache",
    "aiohappyeyeballs", "anyio", "sniffio",
}  # fmt: skip
LOOP = "(HTTP stack, event loop)"


PARTS: Counter[str] = Counter()
"""Self time by part: SDK code (and the libraries it calls), HTTP stack, event loop and other."""


def charge(frame: Any, owner: str | None, by_sdk: Counter[str], by_lib: Counter[str]) -> None:
    """Walk the frame tree: self time goes to the innermost wxprivacy function above it."""
    path = frame.file_path or ""
    if frame.function.startswith("[") or not path:
        # pyinstrument's synthetic frames ([await], [self], [out-of-context]) are not CPU
        by_lib[frame.function] += frame.total_self_time
        for child in frame.children:
            charge(child, owner, by_sdk, by_lib)
        return
    if PACKAGE in path:
        lib = "wxprivacy"
    elif "site-packages/" in path:
        lib = path.split("site-packages/", 1)[1].split("/", 1)[0]
    elif "asyncio" in path:
        lib = "asyncio"
    else:
        lib = "other"
    if PACKAGE in path and "/emulator/" not in path:
        owner = f"{path.rsplit(PACKAGE, 1)[1]}:{frame.function}"
    elif lib in HTTP_STACK:
        owner = None  # the HTTP library's own work, even when the SDK called it
    by_sdk[owner or LOOP] += frame.total_self_time
    part = "SDK code" if owner else "HTTP stack" if lib in HTTP_STACK else "event loop, other"
    PARTS[part] += frame.total_self_time
    by_lib[lib] += frame.total_self_time
    for child in frame.children:
        charge(child, owner, by_sdk, by_lib)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--transport", default=None, choices=["httpx", "aiohttp"])
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    with emulator_process("--authorizers", str(args.n * 6 // 5 + 200)) as url:
        state = await emulator_state(url)
        good = [
            a["authorizer_appid"] for a in state["authorizers"] if a["profile"] != "no_permission"
        ]
        fleet = Fleet(url, state, good[: args.n])
        await fleet.warm()
        async with fleet.client(transport=args.transport) as client:
            await client.get_privacy_settings(fleet.appids[:200], concurrency=args.concurrency)
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            await client.get_privacy_settings(fleet.appids, concurrency=args.concurrency)
            profiler.stop()
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None
    by_sdk: Counter[str] = Counter()
    by_lib: Counter[str] = Counter()
    charge(root, None, by_sdk, by_lib)
    n = args.n
    total = sum(by_sdk.values())
    print(
        f"# profile: {n} calls, c={args.concurrency}, transport={args.transport or 'default'}; "
        f"{total / n * 1e6:.0f} us of CPU samples per call; emulator: {emulator_server()}"
    )
    print(f"| {'charged to (innermost SDK function)':<52} | {'us/call':>7} | {'share':>5} |")
    print(f"|{'-' * 54}|{'-' * 9}|{'-' * 7}|")
    for name, seconds in by_sdk.most_common(args.top):
        print(f"| {name:<52} | {seconds / n * 1e6:7.1f} | {seconds / total:5.1%} |")
    print(f"\n| {'part':<24} | {'us/call':>7} |")
    print(f"|{'-' * 26}|{'-' * 9}|")
    for name in ("HTTP stack", "SDK code", "event loop, other"):
        print(f"| {name:<24} | {PARTS[name] / n * 1e6:7.1f} |")
    print(f"\n| {'by library (self time)':<24} | {'us/call':>7} |")
    print(f"|{'-' * 26}|{'-' * 9}|")
    for name, seconds in by_lib.most_common(args.top):
        print(f"| {name:<24} | {seconds / n * 1e6:7.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
