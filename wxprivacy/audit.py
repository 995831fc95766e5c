"""Compliance audit of privacy guidelines: one JSON record per authorizer, and a summary.

The audit answers the questions a platform operator asks of a fleet of Mini Programs:

- which ones use privacy interfaces (``privacy_list``, detected by WeChat in the uploaded code)
  that their guideline does not declare in ``setting_list`` (WeChat blocks those calls at run time);
- which have no contact method in ``owner_setting`` (the guideline cannot be saved without one);
- which have no code uploaded (``code_exist`` 0, so ``privacy_list`` says nothing);
- which could not be read, grouped by errcode.

:func:`run_audit` runs one into a JSON-lines file (what ``wxprivacy audit`` does, without the
command line: this module needs no ``cli`` extra). An audit's file may name an authorizer more
than once (a resumed audit appends the refetched authorizers, and an interrupted resume leaves
both lines): the last line wins. :func:`latest_records` reads a file that way;
``summarize(latest_records(path).values())`` is the summary the command prints.

The records can also be built on their own, with :meth:`ComponentClient.iter_privacy_settings`
and :func:`record_for`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from ._audit_file import AuditFile, OutputExistsError
from ._audit_records import (
    NON_API_ERRCODE,
    AuditSummary,
    dumps_line,
    error_record,
    latest_records,
    parse_line,
    read_records,
    record_for,
    summarize,
)
from ._client import ComponentClient

__all__ = [
    "NON_API_ERRCODE",
    "AuditFile",
    "AuditProgress",
    "AuditSummary",
    "OutputExistsError",
    "audit_into",
    "dumps_line",
    "error_record",
    "latest_records",
    "read_records",
    "parse_line",
    "record_for",
    "run_audit",
    "summarize",
]


class AuditProgress(Protocol):
    """Told how an audit advances (the command line draws a progress bar from it)."""

    def set_total(self, total: int) -> None:
        """The number of authorizers WeChat lists (known once the first page has arrived)."""
        ...

    def advance(self, records: int = 1) -> None:
        """``records`` more authorizers are done (written now, or found done in the file)."""
        ...


async def run_audit(
    client: ComponentClient,
    out: Path,
    *,
    privacy_ver: int = 2,
    concurrency: int = 16,
    resume: bool = False,
    force: bool = False,
    progress: AuditProgress | None = None,
) -> AuditSummary:
    """List every authorizer, fetch every guideline concurrently, write JSONL, return the summary.

    Wraps ``api_get_authorizer_list`` (500 per page) and ``getprivacysetting``; the file is
    handled by :class:`AuditFile` (see :func:`audit_into`).

    Raises:
        OutputExistsError: ``out`` is not empty, and neither ``resume`` nor ``force``.
        OSError: ``out`` cannot be written.
        WxPrivacyError: the authorizers could not be listed (credentials, ticket, network).
    """
    with AuditFile(out, resume=resume, force=force) as output:
        return await audit_into(
            client, output, privacy_ver=privacy_ver, concurrency=concurrency, progress=progress
        )


async def audit_into(
    client: ComponentClient,
    output: AuditFile,
    *,
    privacy_ver: int = 2,
    concurrency: int = 16,
    progress: AuditProgress | None = None,
) -> AuditSummary:
    """Audit every authorizer into ``output``; return the summary of the file's records.

    When ``output`` resumes a file, authorizers whose last record there is a success are not
    fetched again (failed ones are); the new records are appended and the last record of each
    authorizer wins. Records of authorizers WeChat no longer lists stay in the file, but the
    summary counts only the authorizers listed now. The refresh tokens the list holds are stored by
    :meth:`ComponentClient.store_listed_refresh_tokens` (where the store holds none or a
    different one: this also recovers from 61023). Each record is written whole the moment its
    fetch completes; when the run is interrupted (SIGINT, cancellation, even SIGKILL) the file
    holds every earlier record or a newer one, ready for ``resume``.
    """
    done = set(output.done)
    listed: set[str] = set()  # the fleet WeChat lists now: the summary counts only these
    if progress is not None:
        progress.advance(len(done))

    async def appids() -> AsyncIterator[str]:
        async for page in client.iter_authorizer_pages(store_refresh_tokens=True):
            if progress is not None:
                progress.set_total(page.total_count)
            for item in page.list:
                listed.add(item.authorizer_appid)
                if item.authorizer_appid not in done:
                    done.add(item.authorizer_appid)
                    yield item.authorizer_appid

    results = client.iter_privacy_settings(appids(), privacy_ver, concurrency=concurrency)
    async for appid, result in results:
        output.write(record_for(appid, result, privacy_ver=privacy_ver))
        if progress is not None:
            progress.advance()
    return output.finish(listed)
