"""The randomized schedule check of issue 9: as many seeded schedules as fit in the budget.

Marked ``schedules``, so the README's test command leaves it out; ``.ci/run`` runs it in a step of
its own (``python -m pytest -m schedules``). The budget is ``WXPRIVACY_SCHEDULE_SECONDS`` (default
60 s); ``nox -s schedules`` runs them for 20 minutes. The seeds start at
``WXPRIVACY_SCHEDULE_SEED`` (default 0), so a failing seed can be run again alone.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import schedules
from rhelpers import REDIS_URL

BUDGET = float(os.environ.get("WXPRIVACY_SCHEDULE_SECONDS", "60"))
ONE_SCHEDULE = 60.0
"""Seconds one schedule may take before it counts as hung (they take 2-3 s)."""


@pytest.mark.schedules
@pytest.mark.timeout(BUDGET + 2 * ONE_SCHEDULE)
async def test_randomized_schedules_keep_every_refresh_token(redis_prefix: str) -> None:
    budget = BUDGET
    seed = int(os.environ.get("WXPRIVACY_SCHEDULE_SEED", "0"))
    started = time.monotonic()
    ran = 0
    totals: dict[str, int] = {}
    failures: list[str] = []
    while ran == 0 or time.monotonic() - started < budget:
        try:
            async with asyncio.timeout(ONE_SCHEDULE):
                violations, stats = await schedules.run(
                    seed + ran, REDIS_URL, f"{redis_prefix}-{ran}"
                )
        except TimeoutError:
            violations, stats = [f"hung for more than {ONE_SCHEDULE:g} s"], {}
        for name, count in stats.items():
            totals[name] = totals.get(name, 0) + count
        failures += [f"seed {seed + ran}: {v}" for v in violations]
        ran += 1
        if failures:
            break
    print(f"\n{ran} schedules in {time.monotonic() - started:.0f} s, 0 violations: {totals}")
    assert not failures, failures[:10]
