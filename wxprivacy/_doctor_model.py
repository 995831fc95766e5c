"""The doctor's checklist: :class:`Check` lines, each with a :class:`CheckStatus`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Check", "CheckStatus", "Diagnosis"]


class CheckStatus(enum.StrEnum):
    """How one check went: ``pass``, ``warn`` (works, but look), ``fail``, ``skip``."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@attrs.frozen(kw_only=True)
class Check:
    """One line of the checklist.

    Attributes:
        name: the check, e.g. ``"verify_ticket"`` (stable: machines read it).
        status: how it went.
        summary: what was found, one line, for people.
        fix: what to do about it (empty when there is nothing to do).
        data: the figures behind the line, JSON-safe (seconds, counts, appids; never a secret).
    """

    name: str
    status: CheckStatus
    summary: str
    fix: str = ""
    data: Mapping[str, Any] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"name", "status", "summary", "fix", "data"}``, JSON-safe."""
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "fix": self.fix,
            "data": dict(self.data),
        }


@attrs.frozen
class Diagnosis:
    """The checklist :func:`diagnose` returns.

    Attributes:
        checks: one :class:`Check` per line, in the order of the module docstring.
    """

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """Whether no check failed (warnings and skipped checks allowed)."""
        return all(check.status is not CheckStatus.FAIL for check in self.checks)

    def __getitem__(self, name: str) -> Check:
        """The check called ``name``.

        Raises:
            KeyError: no check has that name.
        """
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        """``{"ok": bool, "checks": [Check.as_dict(), ...]}`` (what ``--json`` prints)."""
        return {"ok": self.ok, "checks": [check.as_dict() for check in self.checks]}
