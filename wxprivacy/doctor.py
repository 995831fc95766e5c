"""``wxprivacy doctor``: one checklist of what a platform needs to work, with the fix for each.

:func:`diagnose` runs the checks against a :class:`ComponentClient` and returns a
:class:`Diagnosis`; the ``wxprivacy doctor`` command prints it (or its JSON). The checks, in
order (each one line, each :class:`CheckStatus` ``pass``, ``warn``, ``fail`` or ``skip``):

``token_store``
    the store answers (backend, Redis host and db, key prefix, read latency, count of stored
    refresh tokens, AOF and replicas); a memory store warns (not shared, lost on exit), and so
    does a Redis without AOF (a restart loses refresh tokens).
``locks``
    the refresh locks held right now and for how long (a lock held over 60 s is a stuck refresh).
``verify_ticket``
    a ``component_verify_ticket`` is stored, and its age against WeChat's 10-minute pushes and
    12 h validity.
``credentials``
    ``component_appid`` and ``component_appsecret`` are accepted: the cached
    ``component_access_token`` and its age, or else one ``api_component_token`` request.
``clock``
    this machine's clock against the ``Date`` header of one ``GET`` to the base URL.
``refresh_tokens``
    every authorizer ``api_get_authorizer_list`` lists (one request per 500) has a refresh token
    in the store, and the store holds none for an appid WeChat no longer lists.
``permissions``
    which authorizers have not granted permission set 18 (the privacy APIs need it): from the
    last audit's JSONL (failures with errcode 61007), or, with ``check_permissions=True``, one
    ``api_get_authorizer_info`` request per authorizer.

No check prints a secret: tokens, the appsecret and the ticket are never part of a line.
"""

from __future__ import annotations

import os

from . import _doctor_checks as checks
from ._client import ComponentClient
from ._doctor_checks import DEFAULT_AUDIT_FILE
from ._doctor_model import Check, CheckStatus, Diagnosis

__all__ = [
    "DEFAULT_AUDIT_FILE",
    "Check",
    "CheckStatus",
    "Diagnosis",
    "diagnose",
    "without_client",
]


async def diagnose(
    client: ComponentClient,
    *,
    audit_file: str | os.PathLike[str] | None = None,
    check_permissions: bool = False,
    concurrency: int = 16,
) -> Diagnosis:
    """Run every check against ``client`` (its token store, WeChat at its base URL).

    Sends at most: one ``api_component_token`` request (only when no usable token is cached),
    one ``GET`` of the base URL (the clock), one ``api_get_authorizer_list`` request per 500
    authorizers, and with ``check_permissions`` one ``api_get_authorizer_info`` request per
    authorizer (``concurrency`` at once). A check that fails never stops the others; a check
    that needs what an earlier one found missing is skipped and says why.

    Args:
        client: the client to check (its credentials, store and base URL).
        audit_file: the JSONL of the last ``wxprivacy audit`` (``audit.jsonl`` in the working
            directory when ``None`` and it exists): where the permission check reads 61007s.
        check_permissions: ask WeChat for every authorizer's permission sets instead.
        concurrency: ``api_get_authorizer_info`` requests in flight with ``check_permissions``.

    Returns:
        The :class:`Diagnosis`; ``diagnosis.ok`` is whether nothing failed.

    Raises:
        InvalidArgumentError: ``concurrency`` below 1.
    """
    return Diagnosis(
        await checks.run_all(
            client,
            audit_file=audit_file,
            check_permissions=check_permissions,
            concurrency=concurrency,
        )
    )


def without_client(missing: list[str]) -> Diagnosis:
    """The checklist when no client can be made because ``missing`` (names of options or
    environment variables holding credentials) are not set: the credentials line fails and
    names them, every other line is skipped."""
    return Diagnosis(checks.without_credentials(missing))
