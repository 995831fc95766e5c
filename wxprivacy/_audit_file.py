"""The JSONL file of ``wxprivacy audit``: an audit adds records and never loses an earlier one.

- Nothing touches the file until the first record is ready, so a run that fails at once (no
  ticket, wrong secret, unreachable host) leaves it byte for byte as it was.
- A non-empty file is replaced only with ``force``, and only once the new audit has a record:
  that record goes to a sibling temporary file, which is renamed over the old one
  (``os.replace``, atomic). From then on the file is the new audit, and resumable.
- ``resume`` appends: an authorizer fetched again gets a second line, and the last line wins
  (:func:`wxprivacy.audit.latest_records`). A resumed run that completes rewrites the file with
  one line per authorizer, again through a temporary file and ``os.replace``.
- Every line reaches the file in one unbuffered write, so a killed run leaves whole lines.

A run killed at any point therefore leaves, for every authorizer that had a record, that record
or a newer one. ``tests/test_cli_audit_file.py`` kills runs at every step to check it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Collection, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from ._audit_records import AuditSummary, dumps_line, parse_line

__all__ = ["AuditFile", "OutputExistsError", "same_file"]


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path, a symlink or a hard link to it
    (an output must never be one of the files it is made from)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


class OutputExistsError(FileExistsError):
    """The output file holds an earlier audit, and neither ``force`` nor ``resume`` was given."""


@attrs.define
class _Scan:
    """What one pass over an audit file found."""

    last: dict[str, tuple[int, bool]] = attrs.Factory(dict)
    """``{authorizer_appid: (line number of its last record, that record's ok)}``."""
    lines: int = 0
    """Whole (newline-terminated) lines."""
    whole_end: int = 0
    """Bytes up to the end of the last whole line; less than ``size`` after a torn write."""
    size: int = 0

    @property
    def tidy(self) -> bool:
        """Every line is a record of its own authorizer, and nothing is torn."""
        return len(self.last) == self.lines and self.whole_end == self.size


def _scan(path: Path) -> _Scan:
    scan = _Scan()
    with path.open("rb") as fh:
        for number, line in enumerate(fh):
            scan.size += len(line)
            if not line.endswith(b"\n"):
                break  # a torn last line
            scan.lines += 1
            scan.whole_end = scan.size
            record = parse_line(line)
            if record is not None:
                scan.last[record["authorizer_appid"]] = (number, bool(record.get("ok")))
    return scan


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class AuditFile:
    """Where ``wxprivacy audit`` writes its records (the guarantees are in the module docstring).

    Use it as a context manager and call :meth:`finish` once the audit is complete; leaving the
    context closes the file and removes a temporary file that was never renamed.

    Attributes:
        path: the output file, as given.
        done: with ``resume``, the authorizers whose last record in the file is a success.
        written: records this run has put in the file so far.
    """

    def __init__(self, path: Path, *, resume: bool = False, force: bool = False) -> None:
        """Check that ``path`` may be written (without touching it); read it for ``resume``.

        Raises:
            OutputExistsError: ``path`` is a non-empty file, and neither ``resume`` nor ``force``.
            OSError: ``path`` is a directory, or its directory is missing or not writable.
        """
        self.path = path
        # Write through a symlink, never replace the link itself.
        self._target = target = Path(os.path.realpath(path))
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not target.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(target.parent))
        # /dev/null, a FIFO: written straight through, never renamed over.
        self._special = target.exists() and not target.is_file()
        size = target.stat().st_size if target.is_file() else 0
        if size and not (resume or force):
            raise OutputExistsError(
                f"{path} already holds an audit ({size} bytes) and was left as it is: "
                "pass --resume to continue it, or --force to replace it"
            )
        self._append = resume and size > 0
        writable = target if (self._append or self._special) else target.parent
        if not os.access(writable, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(writable))
        self._scan = _scan(target) if self._append else _Scan()
        self.done: frozenset[str] = frozenset(a for a, (_, ok) in self._scan.last.items() if ok)
        self.written = 0
        self._summary = AuditSummary()
        self._fd: int | None = None
        self._temp: Path | None = None

    @property
    def appending(self) -> bool:
        """Whether records go after earlier ones (``resume`` on a non-empty file)."""
        return self._append

    def write(self, record: Mapping[str, Any]) -> None:
        """Add one record to the file, as one whole line."""
        line = dumps_line(record)
        if self._fd is not None:
            _write_all(self._fd, line)
        elif self._special:
            self._fd = os.open(self._target, os.O_WRONLY | os.O_APPEND)
            _write_all(self._fd, line)
        elif self._append:
            if self._scan.whole_end < self._scan.size:  # drop a torn last line, never a record
                os.truncate(self._target, self._scan.whole_end)
            self._fd = os.open(self._target, os.O_WRONLY | os.O_APPEND)
            _write_all(self._fd, line)
        else:
            self._fd = self._create_temp()
            _write_all(self._fd, line)
            self._commit_temp(self._fd)
        self.written += 1
        if not self._append:
            self._summary.add(record)

    def finish(self, current: Collection[str] | None = None) -> AuditSummary:
        """Complete the file (one line per authorizer); return the summary of its records.

        Without ``resume``, a run that wrote nothing still leaves an (empty) file: the audit is
        complete, there was nothing to record. With ``current`` (the authorizers WeChat lists
        now), a resumed file keeps the records of authorizers no longer listed (they are the
        history of the audit), but the summary counts only the current ones.
        """
        if not self._append:
            if self._fd is None and not self._special:
                fd = self._create_temp()
                try:
                    self._commit_temp(fd)
                finally:
                    os.close(fd)
            self.close()
            return self._summary
        self.close()
        return self._tidy(current)

    def close(self) -> None:
        """Close the file; remove a temporary file that was never renamed (the old one stays)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        if self._temp is not None:
            temp, self._temp = self._temp, None
            temp.unlink(missing_ok=True)

    def __enter__(self) -> AuditFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _create_temp(self) -> int:
        """Create the sibling temporary file (mode of the file it replaces, if any)."""
        self._temp = temp = self._target.with_name(f"{self._target.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temp, stat.S_IMODE(self._target.stat().st_mode))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _commit_temp(self, fd: int) -> None:
        """Make the temporary file's content durable, then rename it over the output."""
        assert self._temp is not None
        os.fsync(fd)
        os.replace(self._temp, self._target)
        self._temp = None

    def _tidy(self, current: Collection[str] | None) -> AuditSummary:
        """Summarize each authorizer's last record (of ``current`` ones only, when given);
        rewrite the file to only those last records if needed."""
        scan = _scan(self._target)
        summary = AuditSummary()
        with self._target.open("rb") as src:
            dst = None if scan.tidy else os.fdopen(self._create_temp(), "wb")
            try:
                for number, line in enumerate(src):
                    record = parse_line(line)
                    if record is None or scan.last[record["authorizer_appid"]][0] != number:
                        continue  # torn, not a record, or replaced by a later line
                    if current is None or record["authorizer_appid"] in current:
                        summary.add(record)
                    if dst is not None:
                        dst.write(line)
                if dst is not None:
                    dst.flush()
                    self._commit_temp(dst.fileno())
            finally:
                if dst is not None:
                    dst.close()
        return summary
