"""What every benchmark shares: its own PostgreSQL database, the generated data, timing with a
baseline in the same run, medians and ratios, the machine's description and the report.

A benchmark is a script of this directory that:

1. parses ``arguments()`` (plus its own options) and calls ``setup(args)``, which points Django
   at the benchmark database (``--database-url``, by default ``passerelle_bench`` on the local
   PostgreSQL, never the dev or test databases), creates it, migrates it and fills it with
   ``manage.py generate_scale`` unless it already holds the same generation (``--reuse``);
2. measures its candidate against a baseline with ``compare()`` (runs alternate, so noise on
   the shared machine hits both sides), and returns ``Result`` rows;
3. hands them to ``report()``, which prints a Markdown table with the machine and writes
   ``bench/results/<name>.json``; ``--drop`` drops the database at the end.

The dashboard, indicator and PDF benchmarks of issue 7 plug in the same way: a script, a
candidate, a baseline, a target ratio.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/passerelle_bench"


def arguments(
    description: str, *, territories: int = 50, days: int = 365, runs: int = 5
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--territories", type=int, default=territories)
    parser.add_argument("--days", type=int, default=days)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=runs, help="Measured runs of each side (median).")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the database if it holds the same generation."
    )
    parser.add_argument("--drop", action="store_true", help="Drop the benchmark database(s) at the end.")
    return parser


# Databases


def with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("passerelle_bench"):
        raise SystemExit(f"Refusing to touch {name!r}: benchmark databases are named passerelle_bench*.")
    return name


@contextmanager
def maintenance(url: str) -> Iterator[Any]:
    import psycopg2

    connection = psycopg2.connect(with_name(url, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def database_exists(url: str) -> bool:
    with maintenance(url) as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)])
        return cursor.fetchone() is not None


def drop_database(url: str) -> None:
    name = database_name(url)
    close_connections()
    with maintenance(url) as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(url: str) -> None:
    drop_database(url)
    with maintenance(url) as cursor:
        cursor.execute(f'CREATE DATABASE "{database_name(url)}"')


# Django


_django_ready = False


def setup_django(url: str) -> None:
    """Points Django at the benchmark database; later calls switch the default connection."""
    global _django_ready
    database_name(url)
    if not _django_ready:
        os.environ["DATABASE_URL"] = url
        # Tasks are published to an in-process broker instead of running eagerly: a request
        # queues its roll-ups and returns, as in production with Redis and workers; and no
        # benchmark ever publishes into a real broker that workers of another database read.
        os.environ["CELERY_BROKER_URL"] = "memory://"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        _django_ready = True
        return
    import dj_database_url
    from django.db import connections

    close_connections()
    connections["default"].settings_dict.update(dj_database_url.parse(url))


def close_connections() -> None:
    if _django_ready:
        from django.db import connections

        connections.close_all()


@dataclass
class Generation:
    territories: int
    days: int
    seed: int
    until: str
    seconds: float = 0.0
    rows: int = 0
    batches: int = 0
    pickups: int = 0
    distributions: int = 0
    database_bytes: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    reused: bool = False
    generator: str = ""

    def same_data(self, other: Generation) -> bool:
        keys = ("territories", "days", "seed", "until", "generator")
        return all(getattr(self, key) == getattr(other, key) for key in keys)


def generator_version() -> str:
    """A digest of the generator's source: data made by another version is made again."""
    source = ROOT / "meals" / "management" / "commands" / "generate_scale.py"
    return hashlib.sha256(source.read_bytes()).hexdigest()[:12]


META_TABLE = "bench_generation"


def stored_generation(url: str) -> Generation | None:
    if not database_exists(url):
        return None
    from django.db import connection

    setup_django(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [META_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT body FROM {META_TABLE}")  # noqa: S608 - constant name
        row = cursor.fetchone()
    return Generation(**json.loads(row[0])) if row else None


def prepare(
    url: str, *, territories: int, days: int, seed: int, reuse: bool, log: Callable[[str], None] = print
) -> Generation:
    """A database holding ``generate_scale --territories --days --seed``, ending today."""
    wanted = Generation(
        territories=territories,
        days=days,
        seed=seed,
        until=str(datetime.date.today()),
        generator=generator_version(),
    )
    if reuse:
        stored = stored_generation(url)
        if stored and stored.same_data(wanted):
            from django.core.management import call_command

            call_command("migrate", verbosity=0)  # the schema under test is the current one
            stored.reused = True
            log(f"Reusing {database_name(url)}: {stored.rows:,} records.")
            return stored
    log(f"Creating {database_name(url)} and generating {territories} territories x {days} days...")
    create_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from meals.management.commands.generate_scale import generate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    stats = generate(territories=territories, days=days, seed=seed)
    wanted.seconds = time.perf_counter() - started
    wanted.rows = stats.flow_rows
    wanted.batches, wanted.pickups, wanted.distributions = stats.batches, stats.pickups, stats.distributions
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        wanted.database_bytes = cursor.fetchone()[0]
        cursor.execute(
            "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables "
            "WHERE relname IN ('meals_batch', 'meals_pickup', 'meals_distribution')"
        )
        wanted.tables = dict(cursor.fetchall())
        cursor.execute(f"CREATE TABLE {META_TABLE} (body text)")
        cursor.execute(f"INSERT INTO {META_TABLE} VALUES (%s)", [json.dumps(asdict(wanted))])  # noqa: S608
    log(
        f"Generated {wanted.rows:,} records in {wanted.seconds:.1f} s "
        f"({wanted.rows / wanted.seconds:,.0f}/s); database {wanted.database_bytes / 2**20:,.0f} MiB."
    )
    return wanted


def setup(args: argparse.Namespace, url: str | None = None, *, days: int | None = None) -> Generation:
    return prepare(
        url or args.database_url,
        territories=args.territories,
        days=days or args.days,
        seed=args.seed,
        reuse=args.reuse,
    )


# Timing


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


@dataclass
class Result:
    """One comparison: the candidate's median against the baseline's, and the target ratio."""

    name: str
    candidate: str
    baseline: str
    candidate_seconds: list[float]
    baseline_seconds: list[float]
    target: float | None = None
    unit: str = "s"
    note: str = ""

    @property
    def candidate_median(self) -> float:
        return statistics.median(self.candidate_seconds)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_seconds)

    @property
    def ratio(self) -> float:
        return self.candidate_median / self.baseline_median

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "candidate_median": self.candidate_median,
            "baseline_median": self.baseline_median,
            "ratio": self.ratio,
            "met": self.met,
        }


def compare(
    name: str,
    *,
    candidate: tuple[str, Callable[[], float]],
    baseline: tuple[str, Callable[[], float]],
    runs: int,
    warmup: int = 1,
    target: float | None = None,
    before_each: Callable[[], Any] | None = None,
    log: Callable[[str], None] = print,
) -> Result:
    """Runs baseline and candidate alternately (after ``warmup`` unmeasured runs of each);
    each callable returns its own measured seconds, so set-up work stays out of the timing."""
    candidate_label, run_candidate = candidate
    baseline_label, run_baseline = baseline
    result = Result(name, candidate_label, baseline_label, [], [], target)
    for number in range(warmup + runs):
        for label, run, into in (
            (baseline_label, run_baseline, result.baseline_seconds),
            (candidate_label, run_candidate, result.candidate_seconds),
        ):
            if before_each:
                before_each()
            seconds = run()
            if number >= warmup:
                into.append(seconds)
            log(
                f"  {'warm-up' if number < warmup else f'run {number - warmup + 1}'} {label}: {seconds:.3f} s"
            )
    return result


# Report


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        # The machine is shared: its load when the report is written says how noisy the run was.
        "load_average": " ".join(f"{load:.1f}" for load in os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if _django_ready:
        import django
        from django.db import connection

        info["django"] = django.get_version()
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            info["postgresql"] = cursor.fetchone()[0].split(" on ")[0]
            for setting in (
                "shared_buffers",
                "work_mem",
                "maintenance_work_mem",
                "max_parallel_workers_per_gather",
            ):
                cursor.execute(f"SHOW {setting}")
                info[setting] = cursor.fetchone()[0]
    return info


def report(name: str, command: str, results: list[Result], extra: dict[str, Any] | None = None) -> None:
    info = machine()
    print()
    print(f"## {name}")
    print()
    print(f"`{command}`")
    print()
    print(
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, "
        f"load average {info['load_average']}; {info.get('postgresql', '')}; "
        f"Python {info['python']}, Django {info.get('django', '')}"
    )
    print()
    print("| measure | candidate | median | baseline | median | ratio | target | met |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | --- |")
    for result in results:
        target = f"≤ {result.target}" if result.target is not None else "—"
        met = {True: "yes", False: "no", None: "—"}[result.met]
        print(
            f"| {result.name} | {result.candidate} | {result.candidate_median:.3f} {result.unit} | "
            f"{result.baseline} | {result.baseline_median:.3f} {result.unit} | {result.ratio:.2f} | "
            f"{target} | {met} |"
        )
    for result in results:
        if result.note:
            print(f"\n{result.name}: {result.note}")
    if extra:
        print()
        for key, value in extra.items():
            print(f"- {key}: {value}")
    RESULTS.mkdir(exist_ok=True)
    body = {
        "name": name,
        "command": command,
        "at": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "results": [result.as_dict() for result in results],
        "extra": extra or {},
    }
    path = RESULTS / f"{Path(sys.argv[0]).stem}.json"
    path.write_text(json.dumps(body, indent=2, default=str))
    print(f"\nWritten to {path.relative_to(ROOT)}")


def command_line() -> str:
    return " ".join([".venv/bin/python", os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
