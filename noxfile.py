"""Developer sessions: tests, lint, typecheck, docs, demo, bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the test suite (Redis tests need REDIS_URL or a local Redis)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def schedules(session: nox.Session) -> None:
    """Run the randomized token-chain schedules (issue 9) for 20 minutes; prints how many ran.

    ``nox -s schedules -- 3600`` runs them for an hour instead. Needs Redis (REDIS_URL).
    """
    session.install("-e", ".[dev]")
    seconds = session.posargs[0] if session.posargs else "1200"
    session.env["WXPRIVACY_SCHEDULE_SECONDS"] = seconds
    session.run("pytest", "-m", "schedules", "-s", "-p", "no:logging", "-q")


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "wxprivacy")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with --strict (any warning fails the build).

    ``nox -s docs -- serve`` serves it on http://127.0.0.1:8000 instead.
    """
    session.install("-e", ".[docs,cli,callback,redis,report]")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", "--strict", *session.posargs[1:])
    else:
        session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Run the audit against an in-process emulator seeded with 500 authorizers."""
    session.install("-e", ".[cli]")
    # Exit status 1 is expected: the emulated fleet includes Mini Programs that fail (61007).
    # `wxprivacy demo` writes audit-demo.jsonl and replaces only that file: never a real
    # audit.jsonl (which `wxprivacy doctor` reads)
    session.run("wxprivacy", "demo", success_codes=[0, 1])


@nox.session(python="3.11")
def chaos(session: nox.Session) -> None:
    """The fault trials of issue 11 (Redis killed and paused, a lock holder killed, random
    cancellations, an audit interrupted, a burst), each result counted; about 3 minutes.

    Needs ``redis-server``. ``nox -s chaos -- --only holder-kill`` runs one trial.
    """
    session.install("-e", ".[bench,redis]")
    session.run("python", "benchmarks/chaos/chaos.py", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Print the benchmark tables: throughput (0 and 50 ms), parse, memory, profile, layers,
    server.

    Scripts, not timed tests: each prints ratios measured side by side in one run. Pass script
    options after ``--`` only when running one script, e.g. ``nox -s bench -- throughput --n 2000``.
    """
    session.install("-e", ".[bench,redis,report]", "playwright>=1.45")
    scripts = {
        "throughput": "benchmarks/bench_throughput.py",
        "parse": "benchmarks/bench_parse.py",
        "memory": "benchmarks/bench_memory.py",
        "profile": "benchmarks/bench_profile.py",
        "allocations": "benchmarks/bench_allocations.py",
        "layers": "benchmarks/bench_layers.py",
        "burst": "benchmarks/bench_burst.py",
        "gc_floor": "benchmarks/bench_gc_floor.py",
        "server": "benchmarks/bench_server.py",
        "report": "benchmarks/bench_report.py",
        "shared_quota": "benchmarks/bench_shared_quota.py",
    }
    chosen = session.posargs[:1]
    if chosen and chosen[0] in scripts:
        session.run("python", scripts[chosen[0]], *session.posargs[1:])
        return
    for script in scripts.values():
        # a missed target exits 3 (print every table anyway); a crash exits 1 and fails
        session.run("python", script, success_codes=[0, 3])
