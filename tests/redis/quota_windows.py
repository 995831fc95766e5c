"""How many request times fall in a window: shared by the shared-quota tests and benchmark."""

from __future__ import annotations


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of ``times`` (sorted) within any half-open interval of ``window``."""
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most
